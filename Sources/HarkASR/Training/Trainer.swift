import Dispatch
import Foundation
import HarkCTC
import HarkCore
import HarkFeatures
import HarkIO
import HarkNN

/// Trains an `AcousticModel` with CTC on loaded utterances.
///
/// Loss: CTC with PyTorch's `mean` reduction (each utterance's negative
/// log-likelihood divided by its transcript length, averaged over the batch).
/// The output directory receives the best model (by validation CER; without
/// validation data, the latest), `checkpoint.safetensors` (`Checkpoint`) and
/// `train.log.jsonl` (`TrainingEvent`s).
///
/// `run` is the loop over epochs and batches; each batch is one `step`.
///
/// Data parallel (`collective` of several ranks, e.g. under `mpirun`): every
/// rank holds the whole model and walks the same batches; rank r computes the
/// loss and gradient of its contiguous share of each batch, the gradients are
/// summed over the ranks in one fused buffer (`Collective.allreduceSum`), and
/// every rank applies the same clipped update, so N ranks with batch B take
/// the steps one process with batch B takes. SpecAugment and audio
/// augmentation draw per utterance (stream (seed, step, i) for the batch's
/// i-th utterance), so they too are the same; dropout masks are drawn per
/// rank (the same distribution, other draws). Validation is sharded and its
/// edit counts summed. Only rank 0 writes the model, checkpoints and the log.
public final class Trainer {
    public let model: AcousticModel
    public let options: TrainingOptions
    let train: [Utterance]
    let valid: [Utterance]
    let outDirectory: URL
    public private(set) var state = TrainingState()
    /// Whether `resume()` restored a checkpoint.
    private var resumed = false
    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    let evaluator: Evaluator
    let ctc: CTCLoss
    let threads: Int
    /// Polled between steps; when it returns true a checkpoint is written and `run` returns.
    public var shouldStop: () -> Bool = { false }
    public var onEvent: (TrainingEvent) -> Void = { _ in }
    /// The ranks of a data-parallel run (default: this process alone).
    public var collective: Collective = SingleProcess()
    /// Seconds this process spent summing gradients over the ranks (in this run).
    public private(set) var allreduceSeconds: Double = 0

    public static let logFile = "train.log.jsonl"

    /// Noise recordings for augmentation (the generated kinds are used without them).
    let noiseRecordings: [[Float]]

    /// - Parameter noise: noise recordings at the model's rate for augmentation
    ///   (empty: generated white, pink, brown and babble noise).
    public init(model: AcousticModel, options: TrainingOptions, train: [Utterance], valid: [Utterance],
                outDirectory: URL, threads: Int = defaultThreadCount, noise: [[Float]] = []) {
        self.model = model
        noiseRecordings = noise
        self.options = options
        self.train = train
        self.valid = valid
        self.outDirectory = outDirectory
        self.threads = threads
        optimizer = options.makeOptimizer()
        evaluator = Evaluator(model: model)
        ctc = CTCLoss(blank: model.config.blank, reduction: .mean, zeroInfinity: false, threads: threads)
        let warmup = options.resolvedWarmup
        let fraction = options.resolvedFinalFraction
        let decaySteps = max(1, Self.plannedSteps(options, trainCount: train.count) - warmup)
        schedule = LearningRateSchedule(base: options.learningRate, warmupSteps: warmup,
                                        decay: fraction >= 1 ? .constant : .exponential(gamma: powf(fraction, 1 / Float(decaySteps))))
    }

    /// The steps a run takes unless patience or an interruption ends it earlier.
    static func plannedSteps(_ options: TrainingOptions, trainCount: Int) -> Int {
        let batchesPerEpoch = (trainCount + options.batchSize - 1) / max(options.batchSize, 1)
        return min(options.maxSteps ?? Int.max, max(1, batchesPerEpoch * options.epochs))
    }

    var plannedSteps: Int { Self.plannedSteps(options, trainCount: train.count) }

    // MARK: - Batches

    /// The batches of an epoch, as utterance indices. Shuffled: utterances
    /// sorted by length, cut into batches of similar length, batches in a
    /// random order seeded by (seed, epoch). Not shuffled: manifest order.
    func batches(epoch: Int) -> [[Int]] {
        let n = train.count, size = max(1, options.batchSize)
        guard options.shuffle else {
            return stride(from: 0, to: n, by: size).map { Array($0..<min(n, $0 + size)) }
        }
        var rng = SeededGenerator(seed: options.seed ^ 0x5EED_BA7C, stream: UInt64(epoch))
        // Ties in length are broken by a random key, so batches differ between epochs.
        let keys = (0..<n).map { _ in rng.next() }
        let order = (0..<n).sorted { (train[$0].inputFrames, keys[$0]) < (train[$1].inputFrames, keys[$1]) }
        var result = stride(from: 0, to: n, by: size).map { Array(order[$0..<min(n, $0 + size)]) }
        result.shuffle(using: &rng)
        return result
    }

    // MARK: - One step

    /// What one step did.
    public struct StepResult: Sendable {
        /// The batch's loss (not finite: the step was skipped).
        public var loss: Float
        /// The gradient norm before clipping (NaN when the loss was not finite).
        public var gradNorm: Float
        /// Whether the optimizer updated the weights.
        public var applied: Bool
        /// Input frames in the batch.
        public var frames: Int
    }

    /// One optimizer step on the utterances `members` of the training set:
    /// SpecAugment and dropout drawn from the stream (seed, step + 1), CTC
    /// loss, backward, clipping, the update at the scheduled rate. A batch
    /// whose loss or gradient is not finite leaves the weights as they were.
    /// Advances `state.step`.
    ///
    /// - Parameter prepared: the batch's examples from `batchExamples(members, step: state.step)`
    ///   when they were computed ahead (nil: computed here).
    public func step(batch members: [Int], prepared: [Example]? = nil) -> StepResult {
        // This rank's share of the batch; i is an utterance's place in the whole batch.
        let share = collective.share(of: members.count)
        let local = Array(members[share])
        // Dropout: the step's stream (rank 0), or a stream of the rank's own.
        let rng = SeededGenerator(seed: options.seed, stream: (UInt64(state.step) &+ 1) | UInt64(collective.rank) << 48)
        let examples = prepared ?? batchExamples(local, step: state.step, offset: share.lowerBound)
        let inputs = examples.map(\.features).enumerated().map { j, f -> Matrix in
            var f = f
            if let aug = options.specAugment {
                var masks = SeededGenerator(seed: options.seed ^ 0x5EC_A06, stream: UInt64(state.step) << 20 | UInt64(share.lowerBound + j))
                aug.apply(&f, channels: model.config.features.dimension / (model.config.features.deltas + 1), rng: &masks)
            }
            return stackFrames(f, by: model.config.stackFrames)
        }
        let parameters = model.parameters
        for p in parameters { p.zeroGrad() }
        var loss: Float = 0
        var frames = 0
        // The batch through the network in groups of similar length (`lengthGroups`), each
        // group's mean loss and gradient weighted by its share of the batch: the batch's mean.
        for (g, group) in Self.lengthGroups(inputs.map(\.rows)).enumerated() {
            let batch = SequenceBatch(padding: group.map { inputs[$0] })
            frames += batch.lengths.reduce(0, +)
            var dropout = rng
            if g > 0 { dropout = SeededGenerator(seed: options.seed, stream: (UInt64(state.step) &+ 1) | UInt64(collective.rank) << 48 | UInt64(g) << 40) }
            let pass = model.forward(batch, dropout: model.config.network.dropout > 0 ? dropout : nil)
            var result = ctc.fromActivations(pass.logits, targets: group.map { examples[$0].labels })
            let share = Float(group.count) / Float(inputs.count)
            loss += share == 1 ? result.loss : result.loss * share
            guard loss.isFinite else { continue }
            if share != 1 { for i in result.gradient.data.indices { result.gradient.data[i] *= share } }
            model.backward(result.gradient, pass: pass)
        }
        if collective.size > 1 { (loss, frames) = sumOverRanks(parameters, loss: loss, frames: frames, share: Float(local.count) / Float(members.count)) }
        var norm: Float = .nan
        var applied = false
        if loss.isFinite {
            norm = clipGradientNorm(parameters, maxNorm: options.clip > 0 ? options.clip : .infinity)
            if norm.isFinite {
                optimizer.learningRate = schedule.rate(at: state.step)
                optimizer.step(parameters)
                applied = true
            }
        }
        if !applied { state.skippedNonFinite += 1 }
        state.step += 1
        return StepResult(loss: loss, gradNorm: norm, applied: applied, frames: frames)
    }

    /// The examples of a batch, by length, in groups run through the network
    /// one after the other: longest first, an example joins the current group
    /// while it is at least `ratio` as long as the group's longest; a group
    /// of fewer than `minimumGroup` joins the one before. Augmentation makes
    /// the examples of a length-sorted batch differ (silence, joined
    /// utterances), and one padded batch would compute the longest's length
    /// for all. A function of the lengths alone: the same on any thread count.
    ///
    /// - Returns: indices into `lengths`, each group longest first (one group: in order).
    static func lengthGroups(_ lengths: [Int], ratio: Double = 0.6, minimumGroup: Int = 4) -> [[Int]] {
        let order = lengths.indices.sorted { (lengths[$0], -$0) > (lengths[$1], -$1) }
        var groups: [[Int]] = []
        for i in order {
            if let first = groups.last?.first, Double(lengths[i]) >= ratio * Double(lengths[first]) || groups.last!.count < minimumGroup {
                groups[groups.count - 1].append(i)
            } else {
                groups.append([i])
            }
        }
        if groups.count > 1 && groups.last!.count < minimumGroup {
            let last = groups.removeLast()
            groups[groups.count - 1] += last
        }
        // One group is the batch as it came.
        return groups.count == 1 ? [Array(lengths.indices)] : groups
    }

    /// The batch's gradient, loss and frames from every rank's share: each
    /// rank's mean-reduced gradient and loss weighted by its share of the
    /// batch (B_r / B), summed in one fused buffer
    /// [every parameter's gradient | loss | frames]. A non-finite loss on any
    /// rank makes the sum non-finite, so every rank skips the step.
    private func sumOverRanks(_ parameters: [Parameter], loss: Float, frames: Int, share: Float) -> (Float, Int) {
        let count = parameters.reduce(0) { $0 + $1.count }
        var fused = [Float](repeating: 0, count: count + 2)
        var offset = 0
        for p in parameters {
            for i in 0..<p.count { fused[offset + i] = p.grad[i] * share }
            offset += p.count
        }
        fused[count] = loss.isFinite ? loss * share : .nan
        fused[count + 1] = Float(frames)
        let started = DispatchTime.now().uptimeNanoseconds
        collective.allreduceSum(&fused)
        allreduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        offset = 0
        for p in parameters {
            p.grad.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count { g[i] = fused[offset + i] }
            }
            offset += p.count
        }
        return (fused[count], Int(fused[count + 1].rounded()))
    }

    /// One training example: features [T, F] (before stacking) and the labels of its transcript.
    public struct Example: Sendable {
        public var features: Matrix
        public var labels: [Int]
    }

    /// The examples of the batch's utterances: their features computed once
    /// at load, or, with augmentation, each utterance's audio augmented
    /// afresh (on `threads` threads; utterance i of the batch draws from the
    /// stream (seed, step, i), so results do not depend on the thread count):
    /// joined with others drawn from the training set (`joinProbability`),
    /// augmented (`Augmentation.apply`), then its features computed with a
    /// warped filterbank (`vtlnWarps`). An example that augmentation made too
    /// short for its transcript is the utterance's plain features.
    /// `offset`: the place of `members[0]` in the whole batch (a rank's share starts there).
    func batchExamples(_ members: [Int], step: Int, offset: Int = 0) -> [Example] {
        let utterances = train
        let plain = { (u: Utterance) in Example(features: u.features, labels: u.labels) }
        guard let augmentation = options.augmentation, augmentation.isActive else { return members.map { plain(utterances[$0]) } }
        let sources = Augmentation.NoiseSources(recordings: noiseRecordings) { rng in
            utterances[Int(rng.next() % UInt64(utterances.count))].samples ?? []
        }
        let step = UInt64(step)
        let rate = model.config.sampleRate
        let space = model.vocabulary.tokens.firstIndex(of: " ")
        var out = [Example?](repeating: nil, count: members.count)
        let lock = NSLock()
        parallelChunks(count: members.count, threads: threads) { range in
            for i in range {
                let u = utterances[members[i]]
                var rng = SeededGenerator(seed: self.options.seed ^ 0xA0D1_0A06, stream: step << 20 | UInt64(offset + i))
                var example = plain(u)
                if var samples = u.samples {
                    var labels = u.labels
                    // Joined only when the tokens have a space to join the transcripts with.
                    let count = space == nil ? 1 : augmentation.drawJoinCount(&rng)
                    if count > 1 {
                        var parts = [samples]
                        for _ in 1..<count {
                            let other = utterances[Int(rng.next() % UInt64(utterances.count))]
                            parts.append(other.samples ?? [])
                            labels += [space!] + other.labels
                        }
                        samples = augmentation.join(parts, sampleRate: rate, rng: &rng)
                    }
                    if let augmented = try? augmentation.apply(samples, sampleRate: rate, noise: sources, rng: &rng) {
                        let warp = augmentation.drawWarp(&rng)
                        let g = self.extractor(warp: warp).compute(augmented)
                        if self.model.config.networkFrames(featureFrames: g.rows) >= Dataset.minimumFrames(labels) {
                            example = Example(features: g, labels: labels)
                        }
                    }
                }
                lock.lock(); out[i] = example; lock.unlock()
            }
        }
        return out.map { $0! }
    }

    /// Feature extractors with a warped filterbank, by warp factor in hundredths.
    private var warpedExtractors: [Int: FeatureExtractor] = [:]
    private let extractorLock = NSLock()

    /// The model's feature extractor, its filterbank warped by `warp` (nil or 1: the model's own).
    func extractor(warp: Double?) -> FeatureExtractor {
        guard let warp, warp != 1 else { return model.extractor }
        let key = Int((warp * 100).rounded())
        extractorLock.lock()
        defer { extractorLock.unlock() }
        if let e = warpedExtractors[key] { return e }
        var options = model.config.features
        options.mel.vtlnWarp = Double(key) / 100
        // A warp the band cannot take (validated ranges make this rare) leaves the filterbank as it is.
        let e = (try? FeatureExtractor(options)) ?? model.extractor
        warpedExtractors[key] = e
        return e
    }

    // MARK: - Running

    /// Trains until the epochs, the step limit or the patience run out, or
    /// `shouldStop` says so. Resumes from `state` as restored by `resume()`.
    ///
    /// A run that did not `resume()` starts a new log (an old run's lines are
    /// removed). The caller keeps other processes out of the directory (see
    /// `DirectoryLock`).
    public func run() throws {
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        if !resumed && collective.isRoot { try? FileManager.default.removeItem(at: outDirectory.appendingPathComponent(Self.logFile)) }
        let start = Date()
        let startSeconds = state.seconds
        let startStep = state.step
        var lastReport = Date()
        func elapsed() -> Double { startSeconds + Date().timeIntervalSince(start) }

        let augmenting = options.augmentation?.isActive ?? false
        var ahead: Prefetch<[Example]>?
        epochs: while state.epoch < options.epochs && !state.finished {
            let order = batches(epoch: state.epoch)
            while state.batch < order.count {
                if let limit = options.maxSteps, state.step >= limit {
                    state.finished = true
                    state.stopReason = "--max-steps \(limit) reached"
                    break epochs
                }
                if agreed(shouldStop()) {
                    state.seconds = elapsed()
                    try saveCheckpoint()
                    return
                }
                // With augmentation the next batch's audio is prepared while this step runs.
                let prepared = ahead?.take()
                ahead = nil
                if augmenting, state.batch + 1 < order.count {
                    let next = order[state.batch + 1], nextStep = state.step + 1
                    let share = collective.share(of: next.count)
                    ahead = Prefetch { self.batchExamples(Array(next[share]), step: nextStep, offset: share.lowerBound) }
                }
                let result = step(batch: order[state.batch], prepared: prepared)
                state.batch += 1
                let now = Date()
                let fps = Double(result.frames) / max(now.timeIntervalSince(lastReport), 1e-9)
                lastReport = now
                let perStep = (elapsed() - startSeconds) / Double(max(1, state.step - startStep))
                try log(.step(.init(epoch: state.epoch, step: state.step, loss: result.loss.isFinite ? result.loss : nil,
                                    learningRate: optimizer.learningRate, gradNorm: result.gradNorm.isFinite ? result.gradNorm : nil,
                                    framesPerSecond: fps, skippedNonFinite: state.skippedNonFinite, elapsed: elapsed(),
                                    etaSeconds: perStep * Double(max(0, plannedSteps - state.step)))))
                if state.step % options.checkpointEvery == 0 {
                    state.seconds = elapsed()
                    try saveCheckpoint()
                }
            }
            try endEpoch(elapsed: elapsed)
        }
        if state.stopReason == nil { state.stopReason = "all \(options.epochs) epoch(s) done" }
        state.finished = true
        if (valid.isEmpty || state.bestValue == nil) && collective.isRoot { try model.save(to: outDirectory) }
        state.seconds = elapsed()
        try saveCheckpoint()
        if options.averageBest > 0 && !state.kept.isEmpty { try averageKept() }
    }

    /// The epochs whose weights were averaged into the model, and the
    /// average's validation CER (set by `run` with `averageBest`).
    public private(set) var averaged: (epochs: [Int], validCER: Double?)?

    /// Keeps this epoch's weights when its CER is among the `averageBest`
    /// lowest so far (an earlier epoch wins a tie), dropping the one it displaces.
    /// `cer`: the epoch's value of the selection metric (CER unless `selectBy` says otherwise).
    private func keepIfAmongBest(cer: Double) throws {
        var kept = state.kept
        guard kept.count < options.averageBest || cer < kept.map(\.validCER).max()! else { return }
        kept.append(.init(epoch: state.epoch, validCER: cer))
        kept.sort { ($0.validCER, $0.epoch) < ($1.validCER, $1.epoch) }
        var dropped: [TrainingState.KeptEpoch] = []
        while kept.count > options.averageBest { dropped.append(kept.removeLast()) }
        if collective.isRoot {
            if !dropped.contains(where: { $0.epoch == state.epoch }) {
                try FileWriting.writeAtomically(StateDict.file(model.namedParameters, metadata: ["format": "pt"]).encode(),
                                                to: ModelAveraging.epochFile(state.epoch, in: outDirectory))
            }
            for d in dropped { try? FileManager.default.removeItem(at: ModelAveraging.epochFile(d.epoch, in: outDirectory)) }
        }
        state.kept = kept
    }

    /// The model becomes the mean of the kept epochs' weights, is validated
    /// and saved (the run's last weights stay in its checkpoint).
    /// Under MPI the kept files are rank 0's, which averages and validates alone.
    private func averageKept() throws {
        guard collective.isRoot else { return }
        let epochs = state.kept.map(\.epoch).sorted()
        try ModelAveraging.average(epochs.map { ModelAveraging.epochFile($0, in: outDirectory) }, into: model)
        let cer = valid.isEmpty ? nil : evaluator.evaluate(valid, threads: threads).characters.rate
        try model.save(to: outDirectory)
        averaged = (epochs, cer)
    }

    /// Whether any rank says yes (every rank gets the same answer).
    private func agreed(_ flag: Bool) -> Bool {
        guard collective.size > 1 else { return flag }
        var v: [Double] = [flag ? 1 : 0]
        collective.allreduceSum(&v)
        return v[0] > 0
    }

    /// A value computed on another thread, waited for by `take`.
    final class Prefetch<Value>: @unchecked Sendable {
        private var value: Value?
        private let done = DispatchSemaphore(value: 0)

        init(_ compute: @escaping () -> Value) {
            DispatchQueue.global().async {
                self.value = compute()
                self.done.signal()
            }
        }

        func take() -> Value {
            done.wait()
            return value!
        }
    }

    /// Validates, keeps the best model, counts epochs without progress, checkpoints.
    private func endEpoch(elapsed: () -> Double) throws {
        var report = TrainingEvent.EpochReport(epoch: state.epoch, step: state.step, elapsed: elapsed())
        if !valid.isEmpty {
            let totals = validate()
            let cer = totals.characters.rate
            report.validCER = cer
            report.validWER = totals.words.rate
            report.validLoss = totals.meanLoss
            let value: Double
            switch options.selectBy {
            case .cer: value = cer
            case .wer: value = totals.words.rate
            case .loss: value = totals.meanLoss ?? .infinity
            }
            report.best = state.bestValue.map { value < $0 } ?? true
            if report.best! {
                state.bestValue = value
                state.bestCER = cer
                state.bestEpoch = state.epoch
                state.badEpochs = 0
                if collective.isRoot { try model.save(to: outDirectory) }
            } else {
                state.badEpochs += 1
            }
            if options.averageBest > 0 { try keepIfAmongBest(cer: value) }
        } else if collective.isRoot {
            try model.save(to: outDirectory)
        }
        state.epoch += 1
        state.batch = 0
        if state.badEpochs >= options.patience && !state.finished && state.epoch < options.epochs {
            state.finished = true
            state.stopReason = "patience: \(options.patience) epoch(s) without a better validation \(options.selectBy.rawValue.uppercased())"
        }
        state.seconds = elapsed()
        try saveCheckpoint()
        try log(.epoch(report))
    }

    /// Greedy edit counts on the validation set: each rank scores its share,
    /// the counts are summed.
    private func validate() -> Evaluator.Totals {
        var totals = evaluator.evaluate(Array(valid[collective.share(of: valid.count)]), threads: threads)
        guard collective.size > 1 else { return totals }
        // The counts and the CTC loss sum, so that every rank selects the same epoch by any metric.
        var counts = (totals.characters.packed + totals.words.packed + [totals.utterances, totals.wrongUtterances, totals.lossCount])
            .map(Double.init) + [totals.lossSum]
        collective.allreduceSum(&counts)
        let n = counts.dropLast().map { Int($0.rounded()) }
        totals.characters = EditCounts(packed: n, offset: 0)
        totals.words = EditCounts(packed: n, offset: 4)
        totals.utterances = n[8]
        totals.wrongUtterances = n[9]
        totals.lossCount = n[10]
        totals.lossSum = counts[11]
        return totals
    }

    /// Greedy CER and WER of the model on `utterances`.
    public func evaluate(_ utterances: [Utterance]) -> (EditCounts, EditCounts) {
        let t = evaluator.evaluate(utterances, threads: threads)
        return (t.characters, t.words)
    }

    /// Reports the event and appends it to the log as one JSON line (all of
    /// it or nothing: a failed append leaves no partial line).
    private func log(_ event: TrainingEvent) throws {
        guard collective.isRoot else { return }
        onEvent(event)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(event)
        line.append(0x0A)
        try FileWriting.append(Array(line), to: outDirectory.appendingPathComponent(Self.logFile).path)
    }

    // MARK: - Checkpoints

    /// Writes the run's `Checkpoint` atomically.
    public func saveCheckpoint() throws {
        guard collective.isRoot else { return }
        try Checkpoint(model: model, optimizer: optimizer, state: state, options: options).write(to: outDirectory)
    }

    /// Reads the options a checkpoint was trained with (a resumed run keeps them).
    public static func checkpointOptions(in directory: URL) throws -> (TrainingOptions, ModelConfig) {
        let c = try Checkpoint.read(from: directory)
        return (c.options, c.config)
    }

    /// Restores weights, optimizer and position from the output directory's checkpoint.
    public func resume() throws {
        let checkpoint = try Checkpoint.read(from: outDirectory)
        try checkpoint.restore(into: model, optimizer: optimizer,
                               file: outDirectory.appendingPathComponent(Checkpoint.fileName).path)
        state = checkpoint.state
        resumed = true
        // Steps logged after this checkpoint will be run again: drop their lines.
        let logURL = outDirectory.appendingPathComponent(Self.logFile)
        if let text = try? String(contentsOf: logURL, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let e = try? JSONDecoder().decode(TrainingEvent.self, from: Data(line.utf8)) else { return false }
                if case .epoch = e { return e.epoch < state.epoch }
                return e.step <= state.step
            }
            try FileWriting.writeAtomically(Array(kept.map { $0 + "\n" }.joined().utf8), to: logURL)
        }
    }
}

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
    /// The model being trained, updated in place.
    public let model: AcousticModel
    /// The run's options.
    public let options: TrainingOptions
    let train: [Utterance]
    let valid: [Utterance]
    let outDirectory: URL
    /// Where the run is: restored by `resume()`, advanced by `step` and `run`.
    public internal(set) var state = TrainingState()
    /// Whether `resume()` restored a checkpoint.
    private var resumed = false
    /// The epochs whose weights were averaged into the model, and the
    /// average's validation CER (set by `run` with `averageBest`).
    public internal(set) var averaged: (epochs: [Int], validCER: Double?)?

    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    let evaluator: Evaluator
    let ctc: CTCLoss
    let threads: Int
    /// Polled between steps; when it returns true a checkpoint is written and `run` returns.
    public var shouldStop: () -> Bool = { false }
    /// Called with every event as it is appended to the run log (on rank 0 only).
    public var onEvent: (TrainingEvent) -> Void = { _ in }
    /// The ranks of a data-parallel run (default: this process alone).
    public var collective: Collective = SingleProcess()
    /// Seconds this process spent summing gradients over the ranks (in this run).
    public private(set) var allreduceSeconds: Double = 0

    /// The run log's file name in the output directory, `train.log.jsonl`.
    public static let logFile = RunLog.fileName
    var runLog: RunLog { RunLog(directory: outDirectory) }

    /// Noise recordings for augmentation (the generated kinds are used without them).
    let noiseRecordings: [[Float]]
    /// Feature extractors with a warped filterbank, by warp factor in hundredths.
    var warpedExtractors: [Int: FeatureExtractor] = [:]
    /// Speed-perturbed copies of the training utterances, made once each.
    let speedCopies = SpeedPerturbedCopies(budgetBytes: SpeedPerturbedCopies.defaultBudget)
    let extractorLock = NSLock()

    /// - Parameter noise: noise recordings at the model's rate for augmentation
    ///   (empty: generated white, pink, brown and babble noise).
    public init(
        model: AcousticModel, options: TrainingOptions, train: [Utterance], valid: [Utterance],
        outDirectory: URL, threads: Int = defaultThreadCount, noise: [[Float]] = []
    ) {
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
        schedule = LearningRateSchedule(
            base: options.learningRate, warmupSteps: warmup,
            decay: fraction >= 1 ? .constant : .exponential(gamma: powf(fraction, 1 / Float(decaySteps))))
    }

    /// The steps a run takes unless patience or an interruption ends it earlier.
    static func plannedSteps(_ options: TrainingOptions, trainCount: Int) -> Int {
        let batchesPerEpoch = (trainCount + options.batchSize - 1) / max(options.batchSize, 1)
        return min(options.maxSteps ?? Int.max, max(1, batchesPerEpoch * options.epochs))
    }

    var plannedSteps: Int { Self.plannedSteps(options, trainCount: train.count) }

    // MARK: - Batches

    /// The batches of an epoch (`Batching.epoch`).
    func batches(epoch: Int) -> [[Int]] {
        Batching.epoch(train.map(\.inputFrames), batchSize: options.batchSize, shuffle: options.shuffle, seed: options.seed, epoch: epoch)
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
        for (g, group) in Batching.lengthGroups(inputs.map(\.rows)).enumerated() {
            let batch = SequenceBatch(padding: group.map { inputs[$0] })
            frames += batch.lengths.reduce(0, +)
            var dropout = rng
            if g > 0 {
                dropout = SeededGenerator(
                    seed: options.seed, stream: (UInt64(state.step) &+ 1) | UInt64(collective.rank) << 48 | UInt64(g) << 40)
            }
            let pass = model.forward(batch, dropout: model.config.network.dropout > 0 ? dropout : nil)
            var result = ctc.fromActivations(pass.logits, targets: group.map { examples[$0].labels })
            let share = Float(group.count) / Float(inputs.count)
            loss += share == 1 ? result.loss : result.loss * share
            guard loss.isFinite else { continue }
            if share != 1 { for i in result.gradient.data.indices { result.gradient.data[i] *= share } }
            model.backward(result.gradient, pass: pass)
        }
        if collective.size > 1 {
            let sum = GradientAllReduce(collective: collective).sum(
                parameters, loss: loss, frames: frames, share: Float(local.count) / Float(members.count))
            (loss, frames) = (sum.loss, sum.frames)
            allreduceSeconds += sum.seconds
        }
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

    // MARK: - Running

    /// Trains until the epochs, the step limit or the patience run out, or
    /// `shouldStop` says so. Resumes from `state` as restored by `resume()`.
    ///
    /// A run that did not `resume()` starts a new log (an old run's lines are
    /// removed). The caller keeps other processes out of the directory (see
    /// `DirectoryLock`).
    public func run() throws {
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        if !resumed && collective.isRoot { runLog.remove() }
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
                try log(
                    .step(
                        .init(
                            epoch: state.epoch, step: state.step, loss: result.loss.isFinite ? result.loss : nil,
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

    /// Whether any rank says yes (every rank gets the same answer).
    func agreed(_ flag: Bool) -> Bool {
        guard collective.size > 1 else { return flag }
        var v: [Double] = [flag ? 1 : 0]
        collective.allreduceSum(&v)
        return v[0] > 0
    }

    /// Reports the event and appends it to the run log (rank 0).
    func log(_ event: TrainingEvent) throws {
        guard collective.isRoot else { return }
        onEvent(event)
        try runLog.append(event)
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
        try checkpoint.restore(
            into: model, optimizer: optimizer,
            file: outDirectory.appendingPathComponent(Checkpoint.fileName).path)
        state = checkpoint.state
        resumed = true
        try runLog.truncate(after: state)
    }
}

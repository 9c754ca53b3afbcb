import Foundation
import HarkCTC
import HarkCore
import HarkIO
import HarkNN

/// How a model is trained.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case adam, adamw, sgd }

    public var epochs = 60
    /// Stop after this many steps (nil: no limit).
    public var maxSteps: Int?
    public var batchSize = 16
    public var optimizer = OptimizerKind.adam
    public var learningRate: Float = 1e-3
    /// Linear warm-up steps (default: 200 for Adam/AdamW, 0 for SGD).
    public var warmupSteps: Int?
    /// The rate decays exponentially after warm-up to this fraction of the peak
    /// at the last planned step (default: 0.05 for Adam/AdamW, 1 = constant for SGD).
    public var finalRateFraction: Float?
    /// Gradient-norm clipping threshold; 0 = none.
    public var clip: Float = 5
    public var shuffle = true
    public var seed: UInt64 = 1
    public var specAugment: SpecAugment? = SpecAugment()
    /// Epochs without a better validation CER before stopping.
    public var patience = 10
    /// A checkpoint every this many steps (and at every epoch's end).
    public var checkpointEvery = 50
    public var weightDecay: Float = 0

    public init() {}

    var resolvedWarmup: Int { warmupSteps ?? (optimizer == .sgd ? 0 : 200) }
    var resolvedFinalFraction: Float { finalRateFraction ?? (optimizer == .sgd ? 1 : 0.05) }
}

/// Where a run is: everything besides weights and optimizer moments that a
/// checkpoint holds so that a resumed run continues exactly.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The epoch in progress and the index of its next batch.
    public var epoch = 0
    public var batch = 0
    /// Steps attempted so far (the random streams of step s are seeded by (seed, s)).
    public var step = 0
    public var bestCER: Double?
    public var badEpochs = 0
    public var skippedNonFinite = 0
    public var finished = false
    public var seconds = 0.0
}

/// One progress report (also a line of the JSON-lines log).
public struct TrainingEvent: Codable, Sendable {
    public var type: String
    public var epoch: Int
    public var step: Int
    public var loss: Float?
    public var learningRate: Float?
    public var gradNorm: Float?
    public var framesPerSecond: Double?
    public var validCER: Double?
    public var validWER: Double?
    public var best: Bool?
    public var skippedNonFinite: Int?
    public var elapsed: Double
    public var etaSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case type, epoch, step, loss, learningRate = "lr", gradNorm = "grad_norm", framesPerSecond = "frames_per_s"
        case validCER = "valid_cer", validWER = "valid_wer", best, skippedNonFinite = "skipped_nonfinite", elapsed
        case etaSeconds = "eta_s"
    }
}

/// Trains an `AcousticModel` with CTC on loaded utterances.
///
/// Loss: CTC with PyTorch's `mean` reduction (each utterance's negative
/// log-likelihood divided by its transcript length, averaged over the batch).
/// The output directory receives the best model (by validation CER; without
/// validation data, the latest), `checkpoint.safetensors` and `train.log.jsonl`.
public final class Trainer {
    public let model: AcousticModel
    public let options: TrainingOptions
    let train: [Utterance]
    let valid: [Utterance]
    let outDirectory: URL
    public private(set) var state = TrainingState()
    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    let threads: Int
    /// Polled between steps; when it returns true a checkpoint is written and `run` returns.
    public var shouldStop: () -> Bool = { false }
    public var onEvent: (TrainingEvent) -> Void = { _ in }

    public static let checkpointFile = "checkpoint.safetensors"
    public static let logFile = "train.log.jsonl"

    public init(model: AcousticModel, options: TrainingOptions, train: [Utterance], valid: [Utterance],
                outDirectory: URL, threads: Int = defaultThreadCount) {
        self.model = model
        self.options = options
        self.train = train
        self.valid = valid
        self.outDirectory = outDirectory
        self.threads = threads
        switch options.optimizer {
        case .sgd: optimizer = SGD(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .adam: optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .adamw: optimizer = Adam.adamW(learningRate: options.learningRate, weightDecay: options.weightDecay == 0 ? 0.01 : options.weightDecay)
        }
        let batchesPerEpoch = (train.count + options.batchSize - 1) / max(options.batchSize, 1)
        let planned = min(options.maxSteps ?? Int.max, max(1, batchesPerEpoch * options.epochs))
        let warmup = options.resolvedWarmup
        let fraction = options.resolvedFinalFraction
        let decaySteps = max(1, planned - warmup)
        schedule = LearningRateSchedule(base: options.learningRate, warmupSteps: warmup,
                                        decay: fraction >= 1 ? .constant : .exponential(gamma: powf(fraction, 1 / Float(decaySteps))))
    }

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

    // MARK: - Running

    /// Trains until the epochs, the step limit or the patience run out, or
    /// `shouldStop` says so. Resumes from `state` as restored by `resume()`.
    public func run() throws {
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let start = Date()
        let startSeconds = state.seconds
        let parameters = model.parameters
        let ctc = CTCLoss(blank: model.config.blank, reduction: .mean, zeroInfinity: false, threads: threads)
        let batchesPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let totalSteps = min(options.maxSteps ?? Int.max, batchesPerEpoch * options.epochs)
        var framesSinceReport = 0
        var lastReport = Date()
        func elapsed() -> Double { startSeconds + Date().timeIntervalSince(start) }

        epochs: while state.epoch < options.epochs && !state.finished {
            let order = batches(epoch: state.epoch)
            while state.batch < order.count {
                if let limit = options.maxSteps, state.step >= limit { state.finished = true; break epochs }
                if shouldStop() {
                    state.seconds = elapsed()
                    try saveCheckpoint()
                    return
                }
                let members = order[state.batch]
                var rng = SeededGenerator(seed: options.seed, stream: UInt64(state.step) &+ 1)
                let inputs = members.map { i -> Matrix in
                    var f = train[i].features
                    if let aug = options.specAugment {
                        aug.apply(&f, channels: model.config.features.dimension / (model.config.features.deltas + 1), rng: &rng)
                    }
                    return stackFrames(f, by: model.config.stackFrames)
                }
                let (batch, steps, lengths) = AcousticModel.pad(inputs)
                model.rnn.zeroGrad()
                model.output.zeroGrad()
                let pass = withUnsafeMutablePointer(to: &rng) { p in
                    model.forward(batch: batch, steps: steps, lengths: lengths,
                                  dropoutRNG: model.config.network.dropout > 0 ? p : nil)
                }
                let result = ctc.fromActivations(pass.logits, steps: steps, inputLengths: lengths,
                                                 targets: members.map { train[$0].labels }, batchFirst: true)
                var norm: Float = .nan
                var applied = false
                if result.loss.isFinite {
                    model.backward(result.gradient, pass: pass)
                    norm = options.clip > 0 ? clipGradientNorm(parameters, maxNorm: options.clip)
                                            : clipGradientNorm(parameters, maxNorm: .infinity)
                    if norm.isFinite {
                        optimizer.learningRate = schedule.rate(at: state.step)
                        optimizer.step(parameters)
                        applied = true
                    }
                }
                if !applied { state.skippedNonFinite += 1 }
                state.step += 1
                state.batch += 1
                framesSinceReport += lengths.reduce(0, +)
                let now = Date()
                let fps = Double(framesSinceReport) / max(now.timeIntervalSince(lastReport), 1e-9)
                framesSinceReport = 0
                lastReport = now
                let perStep = (elapsed() - startSeconds) / Double(max(1, state.step))
                try log(TrainingEvent(type: "step", epoch: state.epoch, step: state.step, loss: result.loss,
                                      learningRate: optimizer.learningRate, gradNorm: norm, framesPerSecond: fps,
                                      skippedNonFinite: state.skippedNonFinite, elapsed: elapsed(),
                                      etaSeconds: perStep * Double(max(0, totalSteps - state.step))))
                if state.step % options.checkpointEvery == 0 {
                    state.seconds = elapsed()
                    try saveCheckpoint()
                }
            }
            // End of epoch: validate, keep the best, maybe stop early.
            var event = TrainingEvent(type: "epoch", epoch: state.epoch, step: state.step, elapsed: elapsed())
            if !valid.isEmpty {
                let (cer, wer) = evaluate(valid)
                event.validCER = cer.rate
                event.validWER = wer.rate
                if state.bestCER == nil || cer.rate < state.bestCER! {
                    state.bestCER = cer.rate
                    state.badEpochs = 0
                    event.best = true
                    try model.save(to: outDirectory)
                } else {
                    state.badEpochs += 1
                    event.best = false
                }
            } else {
                try model.save(to: outDirectory)
            }
            state.epoch += 1
            state.batch = 0
            if state.badEpochs >= options.patience { state.finished = true }
            state.seconds = elapsed()
            try saveCheckpoint()
            try log(event)
        }
        state.finished = true
        if valid.isEmpty || state.bestCER == nil { try model.save(to: outDirectory) }
        state.seconds = elapsed()
        try saveCheckpoint()
    }

    /// Greedy CER and WER of the model on `utterances`.
    public func evaluate(_ utterances: [Utterance]) -> (EditCounts, EditCounts) {
        var cer = EditCounts(), wer = EditCounts()
        let lock = NSLock()
        parallelChunks(count: utterances.count, threads: threads) { range in
            for i in range {
                let u = utterances[i]
                let lp = self.model.logProbabilities(stackFrames(u.features, by: self.model.config.stackFrames))
                // Normalised as `hark eval` does (no leading, trailing or repeated spaces).
                let text = self.model.config.text.normalize(
                    self.model.vocabulary.decode(GreedyDecoder.decode(lp, blank: self.model.config.blank).labels))
                let c = EditCounts.characters(reference: u.text, hypothesis: text)
                let w = EditCounts.words(reference: u.text, hypothesis: text)
                lock.lock(); cer = cer + c; wer = wer + w; lock.unlock()
            }
        }
        return (cer, wer)
    }

    private func log(_ event: TrainingEvent) throws {
        onEvent(event)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(event)
        line.append(0x0A)
        let url = outDirectory.appendingPathComponent(Self.logFile)
        if let h = FileHandle(forWritingAtPath: url.path) {
            h.seekToEndOfFile()
            h.write(line)
            h.closeFile()
        } else {
            try line.write(to: url)
        }
    }

    // MARK: - Checkpoints

    /// Weights, optimizer moments, the position and the options, in one
    /// safetensors file written atomically (a temporary file renamed over the
    /// old one): a run killed at any moment leaves the previous checkpoint or
    /// the new one, never half of one.
    public func saveCheckpoint() throws {
        var tensors: [(String, SafeTensor)] = model.namedParameters.map {
            ("model." + $0.name, SafeTensor(shape: $0.parameter.shape, floats: $0.parameter.value))
        }
        let shapes = model.parameters.map(\.shape)
        if let adam = optimizer as? Adam, !adam.m.isEmpty {
            for (i, s) in shapes.enumerated() {
                tensors.append(("optimizer.m.\(i)", SafeTensor(shape: s, floats: adam.m[i])))
                tensors.append(("optimizer.v.\(i)", SafeTensor(shape: s, floats: adam.v[i])))
            }
        } else if let sgd = optimizer as? SGD, !sgd.buffers.isEmpty {
            for (i, s) in shapes.enumerated() { tensors.append(("optimizer.momentum.\(i)", SafeTensor(shape: s, floats: sgd.buffers[i]))) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [
            "state": String(decoding: try encoder.encode(state), as: UTF8.self),
            "options": String(decoding: try encoder.encode(options), as: UTF8.self),
            "config": String(decoding: try encoder.encode(model.config), as: UTF8.self),
        ]
        if let adam = optimizer as? Adam { metadata["optimizer_step"] = String(adam.stepCount) }
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: outDirectory.appendingPathComponent(Self.checkpointFile))
    }

    /// Reads the options a checkpoint was trained with (a resumed run keeps them).
    public static func checkpointOptions(in directory: URL) throws -> (TrainingOptions, ModelConfig) {
        let file = try SafeTensorsFile.read(directory.appendingPathComponent(checkpointFile))
        guard let o = file.metadata["options"], let c = file.metadata["config"],
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(o.utf8)),
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(c.utf8)) else {
            throw ModelError(problem: "\(directory.appendingPathComponent(checkpointFile).path): not a Hark training checkpoint")
        }
        return (options, config)
    }

    /// Restores weights, optimizer and position from the output directory's checkpoint.
    public func resume() throws {
        let url = outDirectory.appendingPathComponent(Self.checkpointFile)
        let file = try SafeTensorsFile.read(url)
        guard let s = file.metadata["state"], let restored = try? JSONDecoder().decode(TrainingState.self, from: Data(s.utf8)) else {
            throw ModelError(problem: "\(url.path): no training state in the checkpoint")
        }
        let weights = SafeTensorsFile(tensors: model.namedParameters.compactMap { name, _ in
            file.tensors["model." + name].map { (name, $0) }
        })
        do { try StateDict.load(weights, into: model.namedParameters) } catch {
            throw ModelError(problem: "\(url.path): \(error)")
        }
        let count = model.parameters.count
        if let adam = optimizer as? Adam, file.tensors["optimizer.m.0"] != nil {
            adam.m = try (0..<count).map { try file.tensors["optimizer.m.\($0)"]!.floats() }
            adam.v = try (0..<count).map { try file.tensors["optimizer.v.\($0)"]!.floats() }
            adam.stepCount = Int(file.metadata["optimizer_step"] ?? "0") ?? 0
        } else if let sgd = optimizer as? SGD, file.tensors["optimizer.momentum.0"] != nil {
            sgd.buffers = try (0..<count).map { try file.tensors["optimizer.momentum.\($0)"]!.floats() }
        }
        state = restored
        // Steps logged after this checkpoint will be run again: drop their lines.
        let logURL = outDirectory.appendingPathComponent(Self.logFile)
        if let text = try? String(contentsOf: logURL, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let e = try? JSONDecoder().decode(TrainingEvent.self, from: Data(line.utf8)) else { return false }
                return e.type == "epoch" ? e.epoch < restored.epoch : e.step <= restored.step
            }
            try kept.map { $0 + "\n" }.joined().write(to: logURL, atomically: true, encoding: .utf8)
        }
    }
}

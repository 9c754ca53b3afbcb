import HarkNN

/// How a model is trained.
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// The update rule: Adam, AdamW (decoupled weight decay) or plain SGD.
    public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case adam, adamw, sgd }
    /// What chooses the best epoch (the model kept) and counts patience: the
    /// validation CER, WER (isolated words, where a word is right or wrong), or CTC loss.
    public enum SelectionMetric: String, Codable, CaseIterable, Sendable { case cer, wer, loss }

    /// Passes over the training set, at most.
    public var epochs = 60
    /// Stop after this many steps (nil: no limit).
    public var maxSteps: Int?
    /// Utterances per batch (per optimizer step, over all ranks together).
    public var batchSize = 16
    /// The optimizer.
    public var optimizer = OptimizerKind.adam
    /// The peak learning rate, reached at the end of warm-up.
    public var learningRate: Float = 1e-3
    /// Linear warm-up steps (default: 200 for Adam/AdamW, 0 for SGD).
    public var warmupSteps: Int?
    /// The rate decays exponentially after warm-up to this fraction of the peak
    /// at the last planned step (default: 0.05 for Adam/AdamW, 1 = constant for SGD).
    public var finalRateFraction: Float?
    /// Gradient-norm clipping threshold; 0 = none.
    public var clip: Float = 5
    /// Whether each epoch's batches come in a random order seeded by (`seed`, epoch); false: in the data's order.
    public var shuffle = true
    /// The seed of every random draw of the run (batch order, SpecAugment, augmentation, dropout).
    public var seed: UInt64 = 1
    /// SpecAugment masking of the training features; nil: none.
    public var specAugment: SpecAugment? = SpecAugment()
    /// Epochs without a better validation `selectBy` before stopping.
    public var patience = 10
    /// The validation metric that chooses the kept epoch and counts patience.
    public var selectBy = SelectionMetric.cer
    /// A checkpoint every this many steps (and at every epoch's end).
    public var checkpointEvery = 50
    /// Weight decay λ of the optimizer (L2 added to the gradient; decoupled with AdamW, where 0 means 0.01).
    public var weightDecay: Float = 0
    /// Augmentation of the training audio (nil: none; features are then computed once).
    public var augmentation: Augmentation?
    /// Keep the weights of the N epochs of best validation CER (`epoch-K.safetensors`
    /// in the run's directory) and, at the end, make the model their element-wise
    /// mean (ESPnet's model averaging); 0: the single best epoch is the model.
    public var averageBest = 0

    /// The default options.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, maxSteps, batchSize, optimizer, learningRate, warmupSteps, finalRateFraction, clip, shuffle, seed
        case specAugment, patience, checkpointEvery, weightDecay, augmentation, averageBest, selectBy
    }

    /// A missing key takes its default, so that a checkpoint written before an
    /// option existed still resumes (as without it).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingOptions()
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        optimizer = try c.decodeIfPresent(OptimizerKind.self, forKey: .optimizer) ?? d.optimizer
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
        finalRateFraction = try c.decodeIfPresent(Float.self, forKey: .finalRateFraction)
        clip = try c.decodeIfPresent(Float.self, forKey: .clip) ?? d.clip
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? d.shuffle
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        // Absent means off: encoding leaves out a nil SpecAugment.
        specAugment = try c.decodeIfPresent(SpecAugment.self, forKey: .specAugment)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? d.patience
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        augmentation = try c.decodeIfPresent(Augmentation.self, forKey: .augmentation)
        averageBest = try c.decodeIfPresent(Int.self, forKey: .averageBest) ?? d.averageBest
        selectBy = try c.decodeIfPresent(SelectionMetric.self, forKey: .selectBy) ?? d.selectBy
    }

    var resolvedWarmup: Int { warmupSteps ?? (optimizer == .sgd ? 0 : 200) }
    var resolvedFinalFraction: Float { finalRateFraction ?? (optimizer == .sgd ? 1 : 0.05) }
}

/// Where a run is: everything besides weights and optimizer moments that a
/// checkpoint holds so that a resumed run continues exactly.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The epoch in progress and the index of its next batch.
    public var epoch = 0
    /// The index of the next batch within `epoch`.
    public var batch = 0
    /// Steps attempted so far (the random streams of step s are seeded by (seed, s)).
    public var step = 0
    /// The kept epoch's validation CER, and its value of the selection metric.
    public var bestCER: Double?
    /// The kept epoch's value of `TrainingOptions.selectBy` (nil: no validation yet).
    public var bestValue: Double?
    /// The kept epoch (from 0), and why the run ended.
    public var bestEpoch: Int?
    /// Why the run ended, in words; nil while it has not.
    public var stopReason: String?
    /// Consecutive epochs without a better validation value; the run stops when they reach `patience`.
    public var badEpochs = 0
    /// Steps whose loss or gradient was not finite, which left the weights unchanged.
    public var skippedNonFinite = 0
    /// Whether the run has ended: its epochs, step limit or patience ran out.
    public var finished = false
    /// Wall-clock seconds the run has taken so far, over all its resumptions.
    public var seconds = 0.0
    /// With `averageBest`: the epochs whose weights are kept, and their value of the selection metric (`selectBy`: CER, WER or loss).
    public var kept: [KeptEpoch] = []

    /// An epoch whose weights are kept for averaging.
    public struct KeptEpoch: Codable, Equatable, Sendable {
        /// The epoch, from 0.
        public var epoch: Int
        /// Its validation value of `TrainingOptions.selectBy` (the CER unless another metric is chosen).
        public var validCER: Double
    }

    /// The state of a run that has not started.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case epoch, batch, step, bestCER, bestValue, bestEpoch, stopReason, badEpochs, skippedNonFinite, finished, seconds, kept
    }

    /// A missing key takes its default (a checkpoint from before the field existed).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch) ?? 0
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? 0
        step = try c.decodeIfPresent(Int.self, forKey: .step) ?? 0
        bestCER = try c.decodeIfPresent(Double.self, forKey: .bestCER)
        // A checkpoint from before other metrics chose by CER.
        bestValue = try c.decodeIfPresent(Double.self, forKey: .bestValue) ?? bestCER
        bestEpoch = try c.decodeIfPresent(Int.self, forKey: .bestEpoch)
        stopReason = try c.decodeIfPresent(String.self, forKey: .stopReason)
        badEpochs = try c.decodeIfPresent(Int.self, forKey: .badEpochs) ?? 0
        skippedNonFinite = try c.decodeIfPresent(Int.self, forKey: .skippedNonFinite) ?? 0
        finished = try c.decodeIfPresent(Bool.self, forKey: .finished) ?? false
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        kept = try c.decodeIfPresent([KeptEpoch].self, forKey: .kept) ?? []
    }
}

extension TrainingOptions {
    /// The optimizer these options name, with its hyper-parameters.
    func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: return SGD(learningRate: learningRate, weightDecay: weightDecay)
        case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: return Adam.adamW(learningRate: learningRate, weightDecay: weightDecay == 0 ? 0.01 : weightDecay)
        }
    }
}

/// A training option, checkpoint field or configuration value out of range.
public struct InvalidValue: Error, CustomStringConvertible, Equatable {
    /// What is wrong, in words: the value, and for an option its name and accepted range.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}

extension TrainingOptions {
    /// Checks every option; the error names it (as a flag and as the
    /// checkpoint's key) and gives the accepted range. Flags are checked by
    /// it before a run starts, checkpoints when they are read.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ range: String) throws {
            guard ok else { throw InvalidValue("\(name) \(value) must be \(range)") }
        }
        try check((1...Limits.count).contains(epochs), "--epochs (epochs)", epochs, "in 1…\(Limits.count)")
        if let m = maxSteps { try check((0...Limits.count).contains(m), "--max-steps (maxSteps)", m, "in 0…\(Limits.count)") }
        try check((1...Limits.batchSize).contains(batchSize), "--batch-size (batchSize)", batchSize, "in 1…\(Limits.batchSize)")
        try check(learningRate.isFinite && learningRate > 0, "--lr (learningRate)", learningRate, "a positive finite number")
        if let w = warmupSteps { try check((0...Limits.count).contains(w), "--warmup-steps (warmupSteps)", w, "in 0…\(Limits.count)") }
        if let f = finalRateFraction {
            try check(f.isFinite && f > 0 && f <= 1, "--final-lr-fraction (finalRateFraction)", f, "in (0, 1]")
        }
        try check(clip.isFinite && clip >= 0, "--clip (clip)", clip, "0 (off) or a positive finite number")
        try check((0...Limits.count).contains(patience), "--patience (patience)", patience, "in 0…\(Limits.count)")
        try check(
            (1...Limits.count).contains(checkpointEvery), "--checkpoint-every (checkpointEvery)", checkpointEvery, "in 1…\(Limits.count)")
        try check(weightDecay.isFinite && weightDecay >= 0, "weightDecay", weightDecay, "0 or a positive finite number")
        if let s = specAugment {
            for (name, v) in [
                ("frequencyMasks", s.frequencyMasks), ("maxFrequencyWidth", s.maxFrequencyWidth),
                ("timeMasks", s.timeMasks), ("maxTimeWidth", s.maxTimeWidth)
            ] {
                try check((0...10_000).contains(v), "specAugment.\(name)", v, "in 0…10000")
            }
            try check(
                s.maxTimeFraction.isFinite && (0...1).contains(s.maxTimeFraction), "specAugment.maxTimeFraction", s.maxTimeFraction,
                "in [0, 1]")
        }
        try augmentation?.validate()
        try check((0...100).contains(averageBest), "--average-best (averageBest)", averageBest, "in 0…100")
    }
}

extension TrainingState {
    /// Checks a checkpoint's position: counts are never negative, times and rates finite.
    public func validate() throws {
        for (name, v) in [
            ("epoch", epoch), ("batch", batch), ("step", step), ("badEpochs", badEpochs),
            ("skippedNonFinite", skippedNonFinite)
        ] where !(0...Limits.count).contains(v) {
            throw InvalidValue("state \(name) \(v) must be in 0…\(Limits.count)")
        }
        guard seconds.isFinite && seconds >= 0 else { throw InvalidValue("state seconds \(seconds) must be a finite count of seconds") }
        if let b = bestCER, !(b.isFinite && b >= 0) { throw InvalidValue("state bestCER \(b) must be a finite rate") }
    }
}

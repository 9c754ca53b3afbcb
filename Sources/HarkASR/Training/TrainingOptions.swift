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

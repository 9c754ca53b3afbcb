import Foundation

/// The learning rate as a function of the optimizer step: a linear warm-up,
/// then a decay.
///
/// For step s (0-based: the rate used by the (s+1)-th update), with W warm-up steps:
/// - s < W: base · (s + 1) / W
/// - after: base · decay(s − W), decay = 1 (constant), γ^⌊k/N⌋ (step), γ^k (exponential)
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: Codable, Equatable, Sendable {
        case constant
        case step(every: Int, gamma: Float)
        case exponential(gamma: Float)
    }

    public var base: Float
    public var warmupSteps: Int
    public var decay: Decay

    public init(base: Float, warmupSteps: Int = 0, decay: Decay = .constant) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let k = step - warmupSteps
        switch decay {
        case .constant: return base
        case let .step(every, gamma): return base * powf(gamma, Float(k / max(every, 1)))
        case let .exponential(gamma): return base * powf(gamma, Float(k))
        }
    }
}

/// PyTorch's `ReduceLROnPlateau` (mode "min", relative threshold): after more
/// than `patience` evaluations without improving on the best value by a factor
/// (1 − threshold), the rate is multiplied by `factor` (not below `minRate`),
/// then `cooldown` evaluations pass before counting again.
public struct PlateauReducer: Codable, Equatable, Sendable {
    public var factor: Float = 0.1
    public var patience = 10
    public var threshold: Float = 1e-4
    public var cooldown = 0
    public var minRate: Float = 0
    public private(set) var best = Float.infinity
    public private(set) var badEvaluations = 0
    public private(set) var cooldownLeft = 0
    /// Multiplies the schedule's rate; starts at 1.
    public private(set) var scale: Float = 1

    public init(factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4, cooldown: Int = 0, minRate: Float = 0) {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minRate = minRate
    }

    /// Records a validation value (lower is better); returns true when the
    /// rate was reduced. `currentRate` is the rate before this call.
    @discardableResult
    public mutating func update(metric: Float, currentRate: Float) -> Bool {
        if metric < best * (1 - threshold) {
            best = metric
            badEvaluations = 0
        } else {
            badEvaluations += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badEvaluations = 0
        }
        guard badEvaluations > patience else { return false }
        let newRate = max(currentRate * factor, minRate)
        badEvaluations = 0
        cooldownLeft = cooldown
        guard currentRate - newRate > 1e-8 else { return false }
        scale *= newRate / currentRate
        return true
    }
}

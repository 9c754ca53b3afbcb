import Foundation

/// The learning rate as a function of the optimizer step: a linear warm-up,
/// then a decay.
///
/// For step s (0-based: the rate used by the (s+1)-th update), with W warm-up steps:
/// - s < W: base · (s + 1) / W
/// - after: base · decay(s − W), decay = 1 (constant), γ^⌊k/N⌋ (step), γ^k (exponential)
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    /// What follows the warm-up, k steps after it: the base rate, γ^⌊k/N⌋ times it (every N steps), or γ^k times it.
    public enum Decay: Codable, Equatable, Sendable {
        case constant
        case step(every: Int, gamma: Float)
        case exponential(gamma: Float)
    }

    /// The peak rate: reached at the end of the warm-up, the start of the decay.
    public var base: Float
    /// W, the steps of linear warm-up (0: none).
    public var warmupSteps: Int
    /// The decay after the warm-up.
    public var decay: Decay

    /// A schedule from `base`, by default constant without warm-up.
    public init(base: Float, warmupSteps: Int = 0, decay: Decay = .constant) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    /// The rate of step `step` (0-based), by the formula above.
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
    /// What the rate is multiplied by at each reduction.
    public var factor: Float = 0.1
    /// Evaluations without improvement tolerated; one more reduces the rate.
    public var patience = 10
    /// The relative improvement that counts: a value below best · (1 − threshold).
    public var threshold: Float = 1e-4
    /// Evaluations after a reduction during which none are counted as bad.
    public var cooldown = 0
    /// The rate is never reduced below this.
    public var minRate: Float = 0
    /// The lowest value seen (+∞ before the first).
    public private(set) var best = Float.infinity
    /// Consecutive evaluations without improvement, counted since the last reduction.
    public private(set) var badEvaluations = 0
    /// Evaluations of cooldown still to pass.
    public private(set) var cooldownLeft = 0
    /// Multiplies the schedule's rate; starts at 1.
    public private(set) var scale: Float = 1

    /// A reducer with PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4, no cooldown, no minimum.
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

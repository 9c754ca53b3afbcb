import Foundation

/// An update rule over a fixed list of parameters (their order is the state's order).
public protocol Optimizer: AnyObject {
    /// The learning rate of the next `step` (set by a schedule).
    var learningRate: Float { get set }
    /// Applies one update to every parameter from its accumulated gradient.
    func step(_ parameters: [Parameter])
    /// Everything besides the hyper-parameters that the next `step` depends
    /// on, for a checkpoint.
    var state: OptimizerState { get }
    /// Continues from a checkpoint's state; throws, naming the buffer, when it
    /// does not fit parameters of these sizes.
    func restore(_ state: OptimizerState, parameterSizes: [Int]) throws
}

/// An optimizer's state: per-parameter buffers by name (Adam's "m" and "v",
/// SGD's "momentum"; `buffers[name][i]` belongs to parameter i) and a step
/// count where the rule has one. Empty before the first step.
public struct OptimizerState: Equatable, Sendable {
    /// Per-parameter buffers by name, each in the order of the optimizer's parameters.
    public var buffers: [String: [[Float]]]
    /// The number of steps taken, for rules that count them (Adam's t); nil: none.
    public var step: Int?

    /// A state of the given buffers and step count (by default empty: before the first step).
    public init(buffers: [String: [[Float]]] = [:], step: Int? = nil) {
        self.buffers = buffers
        self.step = step
    }

    /// The buffers named `name`, checked against the parameter sizes (nil: none saved).
    func checked(_ name: String, parameterSizes: [Int]) throws -> [[Float]]? {
        guard let b = buffers[name] else { return nil }
        guard b.count == parameterSizes.count else {
            throw OptimizerStateError(problem: "optimizer \(name): \(b.count) buffers for \(parameterSizes.count) parameters")
        }
        for (i, (buffer, size)) in zip(b, parameterSizes).enumerated() where buffer.count != size {
            throw OptimizerStateError(problem: "optimizer \(name).\(i): \(buffer.count) values for a parameter of \(size)")
        }
        return b
    }
}

/// A saved optimizer state that does not fit the model.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
    /// Which buffer does not fit, and how, in words.
    public var problem: String
    /// The problem, as given.
    public var description: String { problem }
}

/// PyTorch's `torch.optim.SGD`: with weight decay λ, momentum μ, dampening τ,
///
///     g ← ∇ + λ·w
///     b ← g (first step),  b ← μ·b + (1 − τ)·g (later);   g ← b (or g + μ·b with Nesterov)
///     w ← w − lr·g
public final class SGD: Optimizer, Codable {
    /// The learning rate lr of the next `step`.
    public var learningRate: Float
    /// Momentum μ; 0: none (no buffers are kept).
    public var momentum: Float
    /// Dampening τ of the momentum.
    public var dampening: Float
    /// Weight decay λ, added to the gradient as λ·w (L2).
    public var weightDecay: Float
    /// Whether the momentum is Nesterov's: the update is g + μ·b rather than b.
    public var nesterov: Bool
    /// The momentum buffers, one per parameter (empty before the first step).
    public var buffers: [[Float]] = []

    /// SGD with PyTorch's defaults: no momentum, dampening or weight decay.
    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// The momentum buffers as `"momentum"`; empty without them.
    public var state: OptimizerState { OptimizerState(buffers: buffers.isEmpty ? [:] : ["momentum": buffers]) }

    /// Restores the momentum buffers (none saved: they start afresh at the next step).
    public func restore(_ state: OptimizerState, parameterSizes: [Int]) throws {
        buffers = try state.checked("momentum", parameterSizes: parameterSizes) ?? []
    }

    /// Updates every parameter from its gradient, making the momentum buffers at the first step when there is momentum.
    public func step(_ parameters: [Parameter]) {
        let first = buffers.isEmpty && momentum != 0
        if first { buffers = parameters.map { [Float](repeating: 0, count: $0.count) } }
        for (k, p) in parameters.enumerated() {
            for i in 0..<p.count {
                var g = p.grad[i]
                if weightDecay != 0 { g += weightDecay * p.value[i] }
                if momentum != 0 {
                    let b = first ? g : momentum * buffers[k][i] + (1 - dampening) * g
                    buffers[k][i] = b
                    g = nesterov ? g + momentum * b : b
                }
                p.value[i] -= learningRate * g
            }
        }
    }
}

/// PyTorch's `torch.optim.Adam` and `AdamW` (single-tensor CPU path), step t ≥ 1:
///
///     Adam:  g ← ∇ + λ·w          AdamW:  w ← w·(1 − lr·λ),  g ← ∇
///     m ← m + (1 − β₁)(g − m)        v ← β₂·v + (1 − β₂)·g²
///     w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
public final class Adam: Optimizer, Codable {
    /// The learning rate lr of the next `step`.
    public var learningRate: Float
    /// β₁, the decay of the first-moment estimate m.
    public var beta1: Float
    /// β₂, the decay of the second-moment estimate v.
    public var beta2: Float
    /// ε, added to the denominator.
    public var epsilon: Float
    /// Weight decay λ: L2 added to the gradient, or with `decoupled` the weights scaled by 1 − lr·λ.
    public var weightDecay: Float
    /// true: AdamW's decoupled weight decay.
    public var decoupled: Bool
    /// t, the steps taken so far (the bias corrections use it).
    public var stepCount = 0
    /// The first-moment estimates, one buffer per parameter (empty before the first step).
    public var m: [[Float]] = []
    /// The second-moment estimates, one buffer per parameter (empty before the first step).
    public var v: [[Float]] = []

    /// Adam with PyTorch's defaults; `decoupled`: AdamW's weight decay.
    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupled: Bool = false
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decoupled: true)
    }

    /// The moments as `"m"` and `"v"` (empty before the first step) and the step count.
    public var state: OptimizerState {
        OptimizerState(buffers: m.isEmpty ? [:] : ["m": m, "v": v], step: stepCount)
    }

    /// Restores the moments and step count; throws when only one of m and v is saved, or the step is negative.
    public func restore(_ state: OptimizerState, parameterSizes: [Int]) throws {
        let m = try state.checked("m", parameterSizes: parameterSizes) ?? []
        let v = try state.checked("v", parameterSizes: parameterSizes) ?? []
        guard m.isEmpty == v.isEmpty else { throw OptimizerStateError(problem: "optimizer: Adam needs both m and v, or neither") }
        let step = state.step ?? 0
        guard step >= 0 else { throw OptimizerStateError(problem: "optimizer step \(step) is negative") }
        (self.m, self.v, stepCount) = (m, v, step)
    }

    /// Advances t and updates every parameter from its gradient, making the moments at the first step.
    public func step(_ parameters: [Parameter]) {
        if m.isEmpty {
            m = parameters.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = 1 - pow(Double(beta1), t)
        let correction2Sqrt = (1 - pow(Double(beta2), t)).squareRoot()
        let stepSize = Float(Double(learningRate) / correction1)
        let c2 = Float(correction2Sqrt)
        let decay = decoupled ? 1 - learningRate * weightDecay : 1
        for (k, p) in parameters.enumerated() {
            m[k].withUnsafeMutableBufferPointer { mk in
                v[k].withUnsafeMutableBufferPointer { vk in
                    p.value.withUnsafeMutableBufferPointer { w in
                        p.grad.withUnsafeBufferPointer { grad in
                            for i in 0..<w.count {
                                var g = grad[i]
                                if decoupled {
                                    if weightDecay != 0 { w[i] *= decay }
                                } else if weightDecay != 0 {
                                    g += weightDecay * w[i]
                                }
                                mk[i] += (1 - beta1) * (g - mk[i])
                                vk[i] = vk[i] * beta2 + (1 - beta2) * g * g
                                let denom = vk[i].squareRoot() / c2 + epsilon
                                w[i] -= stepSize * mk[i] / denom
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Scales all gradients so that their joint L2 norm is at most `maxNorm`, as
/// PyTorch's `clip_grad_norm_`: coef = min(1, maxNorm / (‖g‖ + 1e-6)).
/// Returns the norm before clipping (not finite if any gradient is not).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sumSquares = 0.0
    for p in parameters {
        var s: Float = 0
        for g in p.grad { s += g * g }
        sumSquares += Double(s)
    }
    let total = Float(sumSquares.squareRoot())
    let coef = min(1, maxNorm / (total + 1e-6))
    if coef < 1 {
        for p in parameters { for i in 0..<p.count { p.grad[i] *= coef } }
    }
    return total
}

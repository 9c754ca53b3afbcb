import HarkCore

/// A trainable tensor and its gradient, side by side with the same layout, so
/// that an optimizer is one flat loop over `value` and `grad`.
///
/// `name` is the PyTorch `state_dict()` name relative to the owning module
/// (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight`, …) and `shape` is
/// PyTorch's shape; storage is row-major.
public final class Parameter {
    /// The `state_dict()` name relative to the owning module.
    public let name: String
    /// PyTorch's shape of the tensor.
    public let shape: [Int]
    /// The values, row-major, `count` of them.
    public var value: [Float]
    /// ∂loss/∂value, accumulated by every backward pass; `zeroGrad()` clears it.
    public var grad: [Float]

    /// A parameter of the given shape, its values given (as many as the shape holds) or zeros; the gradient zeros.
    public init(name: String, shape: [Int], value: [Float]? = nil) {
        self.name = name
        self.shape = shape
        let count = shape.reduce(1, *)
        if let value { precondition(value.count == count, "\(name): \(value.count) values for shape \(shape)") }
        self.value = value ?? [Float](repeating: 0, count: count)
        self.grad = [Float](repeating: 0, count: count)
    }

    /// The number of values: the product of `shape`.
    public var count: Int { value.count }

    /// Sets the gradient to zeros.
    public func zeroGrad() {
        for i in grad.indices { grad[i] = 0 }
    }

    /// Fills `value` from U(−bound, bound).
    public func fillUniform(bound: Float, using rng: inout SeededGenerator) {
        for i in value.indices { value[i] = (rng.nextUniform() * 2 - 1) * bound }
    }
}

/// Anything with parameters: layers, models.
public protocol ParameterContainer: AnyObject {
    /// Every parameter, in `state_dict()` order, with names relative to this module.
    var parameters: [Parameter] { get }
}

extension ParameterContainer {
    /// Sets every parameter's gradient to zeros.
    public func zeroGrad() { parameters.forEach { $0.zeroGrad() } }

    /// The parameters with `prefix` (e.g. "rnn.") before each name.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        parameters.map { (prefix + $0.name, $0) }
    }
}

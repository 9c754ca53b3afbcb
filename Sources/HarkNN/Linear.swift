import HarkCore

/// A fully connected layer, PyTorch's `nn.Linear`: y = x · Wᵀ + b.
///
/// - Shapes: x [N, in] → y [N, out]; `weight` [out, in], `bias` [out].
public final class Linear: ParameterContainer {
    /// The width of the input, `in`.
    public let inputSize: Int
    /// The width of the output, `out`.
    public let outputSize: Int
    /// W [out, in].
    public let weight: Parameter
    /// b [out]; nil for a layer without bias.
    public let bias: Parameter?

    /// PyTorch's default initialisation: weight and bias from U(−1/√in, 1/√in).
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, rng: inout SeededGenerator) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Parameter(name: "weight", shape: [outputSize, inputSize])
        self.bias = bias ? Parameter(name: "bias", shape: [outputSize]) : nil
        let bound = 1 / Float(inputSize).squareRoot()
        weight.fillUniform(bound: bound, using: &rng)
        self.bias?.fillUniform(bound: bound, using: &rng)
    }

    /// `weight`, then `bias` if any.
    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// - Shapes: x [N, in] → [N, out].
    public func forward(_ x: Matrix) -> Matrix {
        precondition(x.cols == inputSize, "Linear expects \(inputSize) input columns, got \(x.cols)")
        var y = Matrix(rows: x.rows, cols: outputSize)
        if let bias {
            for r in 0..<x.rows {
                for c in 0..<outputSize { y.data[r * outputSize + c] = bias.value[c] }
            }
        }
        // y[N, out] = x[N, in] · Wᵀ[in, out] + y (the bias rows)
        x.data.withUnsafeBufferPointer { px in
            weight.value.withUnsafeBufferPointer { pw in
                y.data.withUnsafeMutableBufferPointer { py in
                    sgemm(
                        transB: true, m: x.rows, n: outputSize, k: inputSize,
                        a: px.baseAddress!, b: pw.baseAddress!, beta: 1, c: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// Accumulates ∂W, ∂b and returns ∂x.
    ///
    /// - Shapes: x [N, in] (the forward input), dy [N, out] → dx [N, in].
    public func backward(_ dy: Matrix, input x: Matrix) -> Matrix {
        precondition(dy.rows == x.rows && dy.cols == outputSize && x.cols == inputSize, "Linear.backward shapes")
        var dx = Matrix(rows: x.rows, cols: inputSize)
        dy.data.withUnsafeBufferPointer { pdy in
            x.data.withUnsafeBufferPointer { px in
                // dW[out, in] += dyᵀ[out, N] · x[N, in]
                weight.grad.withUnsafeMutableBufferPointer { pdw in
                    sgemm(
                        transA: true, m: outputSize, n: inputSize, k: x.rows,
                        a: pdy.baseAddress!, b: px.baseAddress!, beta: 1, c: pdw.baseAddress!)
                }
                // dx[N, in] = dy[N, out] · W[out, in]
                weight.value.withUnsafeBufferPointer { pw in
                    dx.data.withUnsafeMutableBufferPointer { pdx in
                        sgemm(
                            m: x.rows, n: inputSize, k: outputSize,
                            a: pdy.baseAddress!, b: pw.baseAddress!, c: pdx.baseAddress!)
                    }
                }
            }
        }
        // db[out] += Σₙ dy[n, :]
        if let bias {
            for r in 0..<dy.rows {
                for c in 0..<outputSize { bias.grad[c] += dy.data[r * outputSize + c] }
            }
        }
        return dx
    }
}

import HarkCore

/// A 2-D convolution over (time, frequency), as `torch.nn.Conv2d(C_in, C_out,
/// kernel_size=(k_t, k_f), stride=(s_t, s_f), padding=(p_t, p_f))` computes it
/// (no dilation, one group), followed by its activation:
///
///     y[o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · x[c, i·s_t − p_t + u, j·s_f − p_f + v]
///
/// (x is 0 outside the input), T′ = ⌊(T + 2p_t − k_t)/s_t⌋ + 1 and
/// F′ = ⌊(F + 2p_f − k_f)/s_f⌋ + 1. One utterance at a time: an utterance of a
/// padded batch gives PyTorch's output frames for its own length, which are the
/// frames whose window lies in the utterance and its zero padding.
///
/// Shapes. Letters: T, F the input's frames and frequency bins, C input
/// channels, T′, F′ the output's, O output channels, K = C·k_t·k_f.
/// - x [T, F, C] channels last (frame t, bin f, channel c at (t·F + f)·C + c)
/// - y [T′, F′, O] channels last
/// - weight [O, C, k_t, k_f] = [O, K] (PyTorch's layout), bias [O]
///
/// The product is one GEMM over the unfolded input ("im2col"):
///
///     cols[T′·F′, K]: row (i, j), column (c, u, v) = x[c, i·s_t − p_t + u, j·s_f − p_f + v]
///     y[T′·F′, O] = cols · weightᵀ + b
public final class Conv2d: ParameterContainer {
    /// What follows the convolution.
    public enum Activation: String, Codable, Sendable, CaseIterable {
        /// max(0, x): `nn.ReLU`.
        case relu
        /// min(max(x, 0), 20): `nn.Hardtanh(0, 20)`, DeepSpeech 2's clipped ReLU.
        case hardtanh
        /// None.
        case none

        func apply(_ x: Float) -> Float {
            switch self {
            case .relu: return max(x, 0)
            case .hardtanh: return min(max(x, 0), 20)
            case .none: return x
            }
        }

        /// ∂y/∂x at the pre-activation x (the subgradient PyTorch uses: 0 at the kinks).
        func derivative(_ x: Float) -> Float {
            switch self {
            case .relu: return x > 0 ? 1 : 0
            case .hardtanh: return x > 0 && x < 20 ? 1 : 0
            case .none: return 1
            }
        }
    }

    /// C, the input channels, and O, the output channels.
    public let inputChannels: Int, outputChannels: Int
    /// (k_t, k_f), the kernel's extent in frames and bins.
    public let kernel: (time: Int, frequency: Int)
    /// (s_t, s_f), the step between output positions in frames and bins.
    public let stride: (time: Int, frequency: Int)
    /// (p_t, p_f), the zeros added on each side in time and frequency.
    public let padding: (time: Int, frequency: Int)
    /// The activation applied to the output.
    public let activation: Activation
    /// w [O, C, k_t, k_f].
    public let weight: Parameter
    /// b [O].
    public let bias: Parameter

    /// `prefix`: the parameters' names before "weight" and "bias" ("frontend.0.").
    public init(
        inputChannels: Int, outputChannels: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
        activation: Activation, prefix: String = ""
    ) {
        precondition(
            inputChannels >= 1 && outputChannels >= 1 && kernel.0 >= 1 && kernel.1 >= 1 && stride.0 >= 1 && stride.1 >= 1
                && padding.0 >= 0 && padding.1 >= 0, "invalid convolution")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = (padding.0, padding.1)
        self.activation = activation
        weight = Parameter(name: prefix + "weight", shape: [outputChannels, inputChannels, kernel.0, kernel.1])
        bias = Parameter(name: prefix + "bias", shape: [outputChannels])
    }

    /// PyTorch's default initialisation: U(−1/√K, 1/√K) for weight and bias
    /// (kaiming_uniform with a = √5 gives the same bound).
    public func initialize(rng: inout SeededGenerator) {
        let bound = 1 / Float(inputChannels * kernel.time * kernel.frequency).squareRoot()
        weight.fillUniform(bound: bound, using: &rng)
        bias.fillUniform(bound: bound, using: &rng)
    }

    /// `weight`, then `bias`.
    public var parameters: [Parameter] { [weight, bias] }

    /// T′ for T input frames (0 when the input is shorter than the kernel after padding).
    public func outputFrames(_ T: Int) -> Int { Self.outputSize(T, kernel.time, stride.time, padding.time) }
    /// F′ for F input bins.
    public func outputBins(_ F: Int) -> Int { Self.outputSize(F, kernel.frequency, stride.frequency, padding.frequency) }

    static func outputSize(_ n: Int, _ k: Int, _ s: Int, _ p: Int) -> Int {
        let span = n + 2 * p - k
        return span < 0 ? 0 : span / s + 1
    }

    /// What `backward` needs of one utterance's forward.
    public struct Cache {
        /// cols [T′·F′, K].
        var columns: [Float]
        /// The pre-activations [T′·F′, O] (empty without an activation).
        var preActivation: [Float]
        let frames: Int, bins: Int
    }

    var K: Int { inputChannels * kernel.time * kernel.frequency }

    /// - Shapes: x [T, F, C] → y [T′, F′, O].
    public func forward(_ x: UnsafeBufferPointer<Float>, frames T: Int, bins F: Int, keepCache: Bool = true) -> (
        output: [Float], cache: Cache
    ) {
        precondition(x.count == T * F * inputChannels, "x must be [\(T), \(F), \(inputChannels)]")
        let T2 = outputFrames(T), F2 = outputBins(F), O = outputChannels, K = self.K
        guard T2 > 0 && F2 > 0 else { return ([], Cache(columns: [], preActivation: [], frames: 0, bins: 0)) }
        let columns = unfold(x, frames: T, bins: F)
        // y[T′·F′, O] = cols[T′·F′, K] · weightᵀ[K, O] + b
        var y = [Float](repeating: 0, count: T2 * F2 * O)
        bias.value.withUnsafeBufferPointer { b in
            for r in 0..<(T2 * F2) { for o in 0..<O { y[r * O + o] = b[o] } }
        }
        columns.withUnsafeBufferPointer { c in
            weight.value.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { py in
                    sgemm(transB: true, m: T2 * F2, n: O, k: K, a: c.baseAddress!, b: w.baseAddress!, beta: 1, c: py.baseAddress!)
                }
            }
        }
        var pre: [Float] = []
        if activation != .none {
            if keepCache { pre = y }
            for i in y.indices { y[i] = activation.apply(y[i]) }
        }
        return (y, Cache(columns: keepCache ? columns : [], preActivation: pre, frames: T, bins: F))
    }

    /// Accumulates ∂weight and ∂bias from ∂y; returns ∂x when asked.
    ///
    /// - Shapes: dy [T′, F′, O] → dx [T, F, C].
    public func backward(_ dy: [Float], cache: Cache, inputGradient: Bool) -> [Float]? {
        let T = cache.frames, F = cache.bins, T2 = outputFrames(T), F2 = outputBins(F), O = outputChannels, K = self.K
        guard T2 > 0 && F2 > 0 else { return inputGradient ? [Float](repeating: 0, count: T * F * inputChannels) : nil }
        // (y = act(pre))  dpre = dy ⊙ act′(pre)
        var dPre = dy
        if activation != .none {
            for i in dPre.indices { dPre[i] *= activation.derivative(cache.preActivation[i]) }
        }
        dPre.withUnsafeBufferPointer { d in
            // db[O] += Σ_rows dpre
            bias.grad.withUnsafeMutableBufferPointer { gb in
                for r in 0..<(T2 * F2) { for o in 0..<O { gb[o] += d[r * O + o] } }
            }
            // dW[O, K] += dpreᵀ[O, T′·F′] · cols[T′·F′, K]
            cache.columns.withUnsafeBufferPointer { c in
                weight.grad.withUnsafeMutableBufferPointer { gw in
                    sgemm(transA: true, m: O, n: K, k: T2 * F2, a: d.baseAddress!, b: c.baseAddress!, beta: 1, c: gw.baseAddress!)
                }
            }
        }
        guard inputGradient else { return nil }
        // dcols[T′·F′, K] = dpre[T′·F′, O] · W[O, K], then folded back onto the input.
        var dColumns = [Float](repeating: 0, count: T2 * F2 * K)
        dPre.withUnsafeBufferPointer { d in
            weight.value.withUnsafeBufferPointer { w in
                dColumns.withUnsafeMutableBufferPointer { dc in
                    sgemm(m: T2 * F2, n: K, k: O, a: d.baseAddress!, b: w.baseAddress!, c: dc.baseAddress!)
                }
            }
        }
        return fold(dColumns, frames: T, bins: F)
    }

    /// Every pair (entry of cols[T′·F′, K], element of x [T, F, C]) that
    /// im2col links: output position (i, j), kernel tap (u, v), channel c;
    /// taps that fall in the padding are skipped. In the order `fold` sums.
    @inline(__always)
    func forEachTap(frames T: Int, bins F: Int, _ body: (_ column: Int, _ input: Int) -> Void) {
        let T2 = outputFrames(T), F2 = outputBins(F), C = inputChannels, K = self.K
        let (kt, kf) = kernel, (st, sf) = stride, (pt, pf) = padding
        for i in 0..<T2 {
            for j in 0..<F2 {
                let row = (i * F2 + j) * K
                for u in 0..<kt {
                    let t = i * st - pt + u
                    guard t >= 0 && t < T else { continue }
                    for v in 0..<kf {
                        let f = j * sf - pf + v
                        guard f >= 0 && f < F else { continue }
                        let element = (t * F + f) * C
                        for c in 0..<C { body(row + (c * kt + u) * kf + v, element + c) }
                    }
                }
            }
        }
    }

    /// cols[T′·F′, K] of x [T, F, C]: row (i, j), column (c, u, v).
    func unfold(_ x: UnsafeBufferPointer<Float>, frames T: Int, bins F: Int) -> [Float] {
        var cols = [Float](repeating: 0, count: outputFrames(T) * outputBins(F) * K)
        cols.withUnsafeMutableBufferPointer { out in
            forEachTap(frames: T, bins: F) { column, input in out[column] = x[input] }
        }
        return cols
    }

    /// The adjoint of `unfold`: dx [T, F, C] += every column entry at the input element it came from.
    func fold(_ cols: [Float], frames T: Int, bins F: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: T * F * inputChannels)
        dx.withUnsafeMutableBufferPointer { out in
            cols.withUnsafeBufferPointer { c in
                forEachTap(frames: T, bins: F) { column, input in out[input] += c[column] }
            }
        }
        return dx
    }
}

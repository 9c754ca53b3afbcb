import CHarkKernels
import HarkCore

/// One direction of one recurrent layer: its four parameters and the time
/// loops of its forward and backward passes.
///
/// Shapes (time-major, row t·B + b): x [T·B, I], y [T·B, H] (written with a
/// row stride, so both directions of a layer fill one [T·B, 2H] matrix),
/// h, c [B, H]; `weight_ih` [G·H, I], `weight_hh` [G·H, H], biases [G·H].
final class RecurrentDirection {
    let cell: RecurrentCell
    let inputSize: Int
    let hiddenSize: Int
    /// The reverse direction processes t = T−1 … 0.
    let reverse: Bool
    let weightIH: Parameter
    let weightHH: Parameter
    let biasIH: Parameter?
    let biasHH: Parameter?

    init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layer: Int, reverse: Bool, bias: Bool) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.reverse = reverse
        let suffix = "_l\(layer)" + (reverse ? "_reverse" : "")
        let gh = cell.gateCount * hiddenSize
        weightIH = Parameter(name: "weight_ih" + suffix, shape: [gh, inputSize])
        weightHH = Parameter(name: "weight_hh" + suffix, shape: [gh, hiddenSize])
        biasIH = bias ? Parameter(name: "bias_ih" + suffix, shape: [gh]) : nil
        biasHH = bias ? Parameter(name: "bias_hh" + suffix, shape: [gh]) : nil
    }

    /// In `state_dict()` order.
    var parameters: [Parameter] { [weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 } }

    /// What backward needs from forward, all time-major [T·B, ·].
    struct Cache {
        /// Activated gates: LSTM i, f, g, o; GRU r, z, n; Elman h'. [T·B, G·H]
        var gates: [Float]
        /// The state h before step t. [T·B, H]
        var hPrev: [Float]
        /// LSTM: the cell state before step t, and tanh(c_t). [T·B, H]
        var cPrev: [Float]
        var cellTanh: [Float]
        /// GRU: W_hn h + b_hn. [T·B, H]
        var hiddenNew: [Float]
    }

    /// Fills each of `rows` rows of `out` (width n) with `bias`, or zeros.
    @inline(__always)
    private func broadcast(_ bias: Parameter?, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let n = cell.gateCount * hiddenSize
        guard let bias else {
            out.initialize(repeating: 0, count: rows * n)
            return
        }
        bias.value.withUnsafeBufferPointer { b in
            for r in 0..<rows { (out + r * n).update(from: b.baseAddress!, count: n) }
        }
    }

    /// Runs the direction over the whole sequence.
    ///
    /// - Parameters:
    ///   - x: [T·B, I]; y: [T·B, ·] with row stride `ldy`, H columns written.
    ///   - h, c: [B, H] on entry the initial state, on exit the final state
    ///     (each sequence's state after its own last frame).
    ///   - keepCache: false for inference: the per-step states are not kept
    ///     (the returned cache cannot be used by `backward`).
    ///   - kernels: `.fast` takes the AVX2 LSTM step and the packed GEMM where they apply.
    func forward(x: UnsafePointer<Float>, layout: SequenceLayout,
                 h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
                 y: UnsafeMutablePointer<Float>, ldy: Int, keepCache: Bool = true, kernels: KernelChoice) -> Cache {
        let T = layout.steps, B = layout.batch, H = hiddenSize, GH = cell.gateCount * H
        let rows = T * B
        // Every element read later is written first (rows of steps past the
        // longest sequence are zeroed below), so no buffer is zero-filled here.
        let stateRows = keepCache ? rows : B
        var cache = Cache(gates: uninitializedFloats(rows * GH),
                          hPrev: keepCache ? uninitializedFloats(rows * H) : [],
                          cPrev: keepCache && cell == .lstm ? uninitializedFloats(rows * H) : [],
                          cellTanh: cell == .lstm ? uninitializedFloats(stateRows * H) : [],
                          hiddenNew: cell == .gru ? uninitializedFloats(stateRows * H) : [])
        /// Row offset of step t in the per-step state buffers.
        let stateRow = { (t: Int) -> Int in keepCache ? t * B : 0 }
        var gh = [Float](repeating: 0, count: B * GH)
        // W_hhᵀ [H, GH], packed once for the product inside the time loop.
        let whhT = weightHH.value.withUnsafeBufferPointer {
            PackedRightMatrix(k: H, n: GH, source: $0.baseAddress!, transposed: true, kernels: kernels)
        }
        let lengths = layout.lengths
        let longest = lengths.max() ?? 0
        // The AVX2 version of LSTMCell.forwardStep (CHarkKernels), when it applies.
        let vectorLSTM = cell == .lstm && kernels.usesVectorKernels && H % 8 == 0
        var activeFlags = [UInt8](repeating: 0, count: B)
        cache.gates.withUnsafeMutableBufferPointer { gatesBuffer in
            let gates = gatesBuffer.baseAddress!
            // gates[T·B, GH] = x[T·B, I] · W_ihᵀ[I, GH] + b_ih    (all steps at once)
            broadcast(biasIH, rows: rows, into: gates)
            weightIH.value.withUnsafeBufferPointer { w in
                sgemm(transB: true, m: rows, n: GH, k: inputSize, a: x, b: w.baseAddress!, beta: 1, c: gates)
            }
            cache.hPrev.withUnsafeMutableBufferPointer { hPrev in
            cache.cPrev.withUnsafeMutableBufferPointer { cPrev in
            cache.cellTanh.withUnsafeMutableBufferPointer { cellTanh in
            cache.hiddenNew.withUnsafeMutableBufferPointer { hiddenNew in
            gh.withUnsafeMutableBufferPointer { ghBuffer in
                let ghp = ghBuffer.baseAddress!
                for s in 0..<T {
                    let t = reverse ? T - 1 - s : s
                    let active = { (b: Int) -> Bool in t < lengths[b] }
                    let rowStart = t * B
                    if t >= longest {
                        for b in 0..<B { for j in 0..<H { y[(rowStart + b) * ldy + j] = 0 } }
                        if keepCache { (hPrev.baseAddress! + rowStart * H).initialize(repeating: 0, count: B * H) }
                        continue
                    }
                    if keepCache {
                        (hPrev.baseAddress! + rowStart * H).update(from: h, count: B * H)
                        if let c { (cPrev.baseAddress! + rowStart * H).update(from: c, count: B * H) }
                    }
                    // gh[B, GH] = h[B, H] · W_hhᵀ[H, GH] + b_hh    (the only product inside the loop)
                    broadcast(biasHH, rows: B, into: ghp)
                    whhT.multiplyAccumulate(m: B, a: h, lda: H, c: ghp, ldc: GH)
                    let g = gates + rowStart * GH
                    let yRow = y + rowStart * ldy
                    switch cell {
                    case .lstm where vectorLSTM:
                        for b in 0..<B { activeFlags[b] = active(b) ? 1 : 0 }
                        hark_lstm_forward_step(Int32(B), Int32(H), g, ghp, h, c!, cellTanh.baseAddress! + stateRow(t) * H,
                                               yRow, Int32(ldy), activeFlags)
                    case .lstm:
                        LSTMCell.forwardStep(gates: g, gh: ghp, h: h, c: c!, cellTanh: cellTanh.baseAddress! + stateRow(t) * H,
                                             y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                    case .gru:
                        GRUCell.forwardStep(gates: g, gh: ghp, h: h, hiddenNew: hiddenNew.baseAddress! + stateRow(t) * H,
                                            y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                    case .rnnTanh, .rnnRelu:
                        ElmanCell.forwardStep(gates: g, gh: ghp, relu: cell == .rnnRelu, h: h,
                                              y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                    }
                }
            }}}}}
        }
        return cache
    }

    /// Backpropagation through time. Accumulates the parameter gradients and
    /// `dx`; returns through `dh`, `dc` the gradient of the initial state.
    ///
    /// - Parameters:
    ///   - dy: ∂loss/∂y [T·B, ·] with row stride `ldy` (H columns read).
    ///   - dh, dc: [B, H] on entry ∂loss/∂(final state), on exit ∂loss/∂(initial state).
    ///   - dx: [T·B, I], accumulated.
    func backward(dy: UnsafePointer<Float>, ldy: Int, x: UnsafePointer<Float>, layout: SequenceLayout,
                  cache: Cache, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?,
                  dx: UnsafeMutablePointer<Float>, kernels: KernelChoice) {
        let T = layout.steps, B = layout.batch, H = hiddenSize, GH = cell.gateCount * H
        let rows = T * B
        let lengths = layout.lengths
        // Per-step pre-activation gradients, kept for the weight GEMMs after the loop.
        precondition(cache.hPrev.count == rows * H, "backward needs a cache kept by a training forward")
        var dGatesX = [Float](repeating: 0, count: rows * GH)
        var dGatesHStorage = cell == .gru ? [Float](repeating: 0, count: rows * GH) : []
        var dhDirect = [Float](repeating: 0, count: B * H)
        // W_hh [GH, H], packed once for the product inside the time loop.
        let whh = weightHH.value.withUnsafeBufferPointer {
            PackedRightMatrix(k: GH, n: H, source: $0.baseAddress!, transposed: false, kernels: kernels)
        }
        dGatesX.withUnsafeMutableBufferPointer { dgxBuffer in
        dGatesHStorage.withUnsafeMutableBufferPointer { dghBuffer in
        dhDirect.withUnsafeMutableBufferPointer { directBuffer in
        cache.gates.withUnsafeBufferPointer { gates in
        cache.hPrev.withUnsafeBufferPointer { hPrev in
        cache.cPrev.withUnsafeBufferPointer { cPrev in
        cache.cellTanh.withUnsafeBufferPointer { cellTanh in
        cache.hiddenNew.withUnsafeBufferPointer { hiddenNew in
            let dgx = dgxBuffer.baseAddress!
            // For LSTM and Elman the h side sees the same pre-activation gradients.
            let dgh = cell == .gru ? dghBuffer.baseAddress! : dgx
            let direct = directBuffer.baseAddress!
            for s in stride(from: T - 1, through: 0, by: -1) {
                let t = reverse ? T - 1 - s : s
                let active = { (b: Int) -> Bool in t < lengths[b] }
                let r0 = t * B
                switch cell {
                case .lstm:
                    LSTMCell.backwardStep(gates: gates.baseAddress! + r0 * GH, cellTanh: cellTanh.baseAddress! + r0 * H,
                                          cPrev: cPrev.baseAddress! + r0 * H, dy: dy + r0 * ldy, ldy: ldy, dh: dh,
                                          dc: dc!, dGates: dgx + r0 * GH, dhDirect: direct,
                                          active: active, batch: B, hidden: H)
                case .gru:
                    GRUCell.backwardStep(gates: gates.baseAddress! + r0 * GH, hiddenNew: hiddenNew.baseAddress! + r0 * H,
                                         hPrev: hPrev.baseAddress! + r0 * H, dy: dy + r0 * ldy, ldy: ldy, dh: dh,
                                         dGatesX: dgx + r0 * GH, dGatesH: dgh + r0 * GH, dhDirect: direct,
                                         active: active, batch: B, hidden: H)
                case .rnnTanh, .rnnRelu:
                    ElmanCell.backwardStep(gates: gates.baseAddress! + r0 * GH, relu: cell == .rnnRelu,
                                           dy: dy + r0 * ldy, ldy: ldy, dh: dh, dGates: dgx + r0 * GH,
                                           dhDirect: direct, active: active, batch: B, hidden: H)
                }
                // dh_prev[B, H] = dpre_h[B, GH] · W_hh[GH, H] + (the direct part)
                whh.multiplyAccumulate(m: B, a: dgh + r0 * GH, lda: GH, c: direct, ldc: H)
                dh.update(from: direct, count: B * H)
            }

            // dW_ih[GH, I] += dpre_xᵀ[GH, T·B] · x[T·B, I]
            weightIH.grad.withUnsafeMutableBufferPointer { g in
                sgemm(transA: true, m: GH, n: inputSize, k: rows, a: dgx, b: x, beta: 1, c: g.baseAddress!)
            }
            // dW_hh[GH, H] += dpre_hᵀ[GH, T·B] · h_prev[T·B, H]
            weightHH.grad.withUnsafeMutableBufferPointer { g in
                sgemm(transA: true, m: GH, n: H, k: rows, a: dgh, b: hPrev.baseAddress!, beta: 1, c: g.baseAddress!)
            }
            // db_ih += Σ_rows dpre_x ;  db_hh += Σ_rows dpre_h
            if let biasIH, let biasHH {
                biasIH.grad.withUnsafeMutableBufferPointer { gi in
                    biasHH.grad.withUnsafeMutableBufferPointer { gh in
                        for r in 0..<rows {
                            let ax = dgx + r * GH, ah = dgh + r * GH
                            for j in 0..<GH { gi[j] += ax[j]; gh[j] += ah[j] }
                        }
                    }
                }
            }
            // dx[T·B, I] += dpre_x[T·B, GH] · W_ih[GH, I]
            weightIH.value.withUnsafeBufferPointer { w in
                sgemm(m: rows, n: inputSize, k: GH, a: dgx, b: w.baseAddress!, beta: 1, c: dx)
            }
        }}}}}}}}
    }
}

/// An array of `count` floats whose contents the caller writes before reading.
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
}

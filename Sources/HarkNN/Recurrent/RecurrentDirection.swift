import CHarkKernels
import HarkCore

/// One direction of one recurrent layer: its parameters and the time loops
/// of its forward and backward passes.
///
/// Shapes (time-major, row t·B + b): x [T·B, I], y [T·B, S] (written with a
/// row stride, so both directions of a layer fill one [T·B, 2S] matrix),
/// h [B, S], c [B, H]; `weight_ih` [G·H, I], `weight_hh` [G·H, S], biases
/// [G·H], and with projections `weight_hr` [P, H]. S is H, or P with
/// projections (`nn.LSTM(proj_size=P)`: h = W_hr (o ⊙ tanh c)).
final class RecurrentDirection {
    let cell: RecurrentCell
    let inputSize: Int
    let hiddenSize: Int
    /// P with projections, else 0.
    let projectionSize: Int
    /// The reverse direction processes t = T−1 … 0.
    let reverse: Bool
    let weightIH: Parameter
    let weightHH: Parameter
    let biasIH: Parameter?
    let biasHH: Parameter?
    let weightHR: Parameter?

    init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, projectionSize: Int = 0, layer: Int, reverse: Bool, bias: Bool) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.reverse = reverse
        let suffix = "_l\(layer)" + (reverse ? "_reverse" : "")
        let gh = cell.gateCount * hiddenSize
        let state = projectionSize > 0 ? projectionSize : hiddenSize
        weightIH = Parameter(name: "weight_ih" + suffix, shape: [gh, inputSize])
        weightHH = Parameter(name: "weight_hh" + suffix, shape: [gh, state])
        biasIH = bias ? Parameter(name: "bias_ih" + suffix, shape: [gh]) : nil
        biasHH = bias ? Parameter(name: "bias_hh" + suffix, shape: [gh]) : nil
        weightHR = projectionSize > 0 ? Parameter(name: "weight_hr" + suffix, shape: [projectionSize, hiddenSize]) : nil
    }

    /// S, the width of h and of the output.
    var stateSize: Int { projectionSize > 0 ? projectionSize : hiddenSize }

    /// In `state_dict()` order.
    var parameters: [Parameter] { [weightIH, weightHH] + [biasIH, biasHH, weightHR].compactMap { $0 } }

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
    ///   - x: [T·B, I]; y: [T·B, ·] with row stride `ldy`, S columns written.
    ///   - h [B, S], c [B, H]: on entry the initial state, on exit the final state
    ///     (each sequence's state after its own last frame).
    ///   - keepCache: false for inference: the per-step states are not kept
    ///     (the returned cache cannot be used by `backward`).
    ///   - kernels: `.fast` takes the AVX2 LSTM step and the packed GEMM where they apply.
    func forward(
        x: UnsafePointer<Float>, layout: SequenceLayout,
        h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
        y: UnsafeMutablePointer<Float>, ldy: Int, keepCache: Bool = true, kernels: KernelChoice
    ) -> Cache {
        let T = layout.steps, B = layout.batch, H = hiddenSize, S = stateSize, GH = cell.gateCount * H
        let rows = T * B
        // Every element read later is written first (rows of steps past the
        // longest sequence are zeroed below), so no buffer is zero-filled here.
        let stateRows = keepCache ? rows : B
        var cache = Cache(
            gates: uninitializedFloats(rows * GH),
            hPrev: keepCache ? uninitializedFloats(rows * S) : [],
            cPrev: keepCache && cell == .lstm ? uninitializedFloats(rows * H) : [],
            cellTanh: cell == .lstm ? uninitializedFloats(stateRows * H) : [],
            hiddenNew: cell == .gru ? uninitializedFloats(stateRows * H) : [])
        /// Row offset of step t in the per-step state buffers.
        let stateRow = { (t: Int) -> Int in keepCache ? t * B : 0 }
        var gh = [Float](repeating: 0, count: B * GH)
        // W_hhᵀ [S, GH], packed once for the product inside the time loop.
        let whhT = weightHH.value.withUnsafeBufferPointer {
            PackedRightMatrix(k: S, n: GH, source: $0.baseAddress!, transposed: true, kernels: kernels)
        }
        // With projections: W_hrᵀ [H, P], and the step's m = o ⊙ tanh(c) [B, H] and W_hr m [B, P].
        let whrT = weightHR.map { w in
            w.value.withUnsafeBufferPointer {
                PackedRightMatrix(k: H, n: S, source: $0.baseAddress!, transposed: true, kernels: kernels)
            }
        }
        var mBuffer = [Float](repeating: 0, count: whrT == nil ? 0 : B * H)
        var projected = [Float](repeating: 0, count: whrT == nil ? 0 : B * S)
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
                            mBuffer.withUnsafeMutableBufferPointer { mBuf in
                                projected.withUnsafeMutableBufferPointer { projBuf in
                                    gh.withUnsafeMutableBufferPointer { ghBuffer in
                                        let ghp = ghBuffer.baseAddress!
                                        for s in 0..<T {
                                            let t = reverse ? T - 1 - s : s
                                            let active = { (b: Int) -> Bool in t < lengths[b] }
                                            let rowStart = t * B
                                            if t >= longest {
                                                for b in 0..<B { for j in 0..<S { y[(rowStart + b) * ldy + j] = 0 } }
                                                if keepCache { (hPrev.baseAddress! + rowStart * S).initialize(repeating: 0, count: B * S) }
                                                continue
                                            }
                                            if keepCache {
                                                (hPrev.baseAddress! + rowStart * S).update(from: h, count: B * S)
                                                if let c { (cPrev.baseAddress! + rowStart * H).update(from: c, count: B * H) }
                                            }
                                            // gh[B, GH] = h[B, S] · W_hhᵀ[S, GH] + b_hh    (the only product inside the loop without projections)
                                            broadcast(biasHH, rows: B, into: ghp)
                                            whhT.multiplyAccumulate(m: B, a: h, lda: S, c: ghp, ldc: GH)
                                            let g = gates + rowStart * GH
                                            let yRow = y + rowStart * ldy
                                            if let whrT {
                                                // m = o ⊙ tanh(c') into mBuf (rows of inactive sequences are not used), then
                                                // h' = W_hr m:  projected[B, P] = m[B, H] · W_hrᵀ[H, P]
                                                let m = mBuf.baseAddress!, hp = projBuf.baseAddress!
                                                if vectorLSTM {
                                                    for b in 0..<B { activeFlags[b] = active(b) ? 1 : 0 }
                                                    hark_lstm_forward_step(
                                                        Int32(B), Int32(H), g, ghp, m, c!, cellTanh.baseAddress! + stateRow(t) * H,
                                                        m, Int32(H), activeFlags)
                                                } else {
                                                    LSTMCell.forwardStep(
                                                        gates: g, gh: ghp, h: m, c: c!, cellTanh: cellTanh.baseAddress! + stateRow(t) * H,
                                                        y: m, ldy: H, active: active, batch: B, hidden: H)
                                                }
                                                hp.update(repeating: 0, count: B * S)
                                                whrT.multiplyAccumulate(m: B, a: m, lda: H, c: hp, ldc: S)
                                                for b in 0..<B {
                                                    let yb = yRow + b * ldy
                                                    guard active(b) else {
                                                        for j in 0..<S { yb[j] = 0 }
                                                        continue
                                                    }
                                                    (h + b * S).update(from: hp + b * S, count: S)
                                                    yb.update(from: hp + b * S, count: S)
                                                }
                                                continue
                                            }
                                            switch cell {
                                            case .lstm where vectorLSTM:
                                                for b in 0..<B { activeFlags[b] = active(b) ? 1 : 0 }
                                                hark_lstm_forward_step(
                                                    Int32(B), Int32(H), g, ghp, h, c!, cellTanh.baseAddress! + stateRow(t) * H,
                                                    yRow, Int32(ldy), activeFlags)
                                            case .lstm:
                                                LSTMCell.forwardStep(
                                                    gates: g, gh: ghp, h: h, c: c!, cellTanh: cellTanh.baseAddress! + stateRow(t) * H,
                                                    y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                                            case .gru:
                                                GRUCell.forwardStep(
                                                    gates: g, gh: ghp, h: h, hiddenNew: hiddenNew.baseAddress! + stateRow(t) * H,
                                                    y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                                            case .rnnTanh, .rnnRelu:
                                                ElmanCell.forwardStep(
                                                    gates: g, gh: ghp, relu: cell == .rnnRelu, h: h,
                                                    y: yRow, ldy: ldy, active: active, batch: B, hidden: H)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return cache
    }

    /// Backpropagation through time. Accumulates the parameter gradients and
    /// `dx`; returns through `dh`, `dc` the gradient of the initial state.
    ///
    /// - Parameters:
    ///   - dy: ∂loss/∂y [T·B, ·] with row stride `ldy` (S columns read).
    ///   - dh [B, S], dc [B, H]: on entry ∂loss/∂(final state), on exit ∂loss/∂(initial state).
    ///   - dx: [T·B, I], accumulated.
    func backward(
        dy: UnsafePointer<Float>, ldy: Int, x: UnsafePointer<Float>, layout: SequenceLayout,
        cache: Cache, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?,
        dx: UnsafeMutablePointer<Float>, kernels: KernelChoice
    ) {
        let T = layout.steps, B = layout.batch, H = hiddenSize, S = stateSize, GH = cell.gateCount * H
        let rows = T * B
        let lengths = layout.lengths
        // Per-step pre-activation gradients, kept for the weight GEMMs after the loop.
        precondition(cache.hPrev.count == rows * S, "backward needs a cache kept by a training forward")
        var dGatesX = [Float](repeating: 0, count: rows * GH)
        var dGatesHStorage = cell == .gru ? [Float](repeating: 0, count: rows * GH) : []
        var dhDirect = [Float](repeating: 0, count: B * S)
        // W_hh [GH, S], packed once for the product inside the time loop.
        let whh = weightHH.value.withUnsafeBufferPointer {
            PackedRightMatrix(k: GH, n: S, source: $0.baseAddress!, transposed: false, kernels: kernels)
        }
        // With projections: W_hr [P, H] for dm = dh' · W_hr, and per step dh' (∂loss/∂ the projected h) [T·B, P].
        let whr = weightHR.map { w in
            w.value.withUnsafeBufferPointer {
                PackedRightMatrix(k: S, n: H, source: $0.baseAddress!, transposed: false, kernels: kernels)
            }
        }
        var dProjected = [Float](repeating: 0, count: whr == nil ? 0 : rows * S)
        var dm = [Float](repeating: 0, count: whr == nil ? 0 : B * H)
        var scratch = [Float](repeating: 0, count: whr == nil ? 0 : B * H)
        let zeroRow = [Float](repeating: 0, count: H)
        dGatesX.withUnsafeMutableBufferPointer { dgxBuffer in
            dGatesHStorage.withUnsafeMutableBufferPointer { dghBuffer in
                dhDirect.withUnsafeMutableBufferPointer { directBuffer in
                    dProjected.withUnsafeMutableBufferPointer { dProjectedBuffer in
                        dm.withUnsafeMutableBufferPointer { dmBuffer in
                            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                                zeroRow.withUnsafeBufferPointer { zeros in
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
                                                            if let whr {
                                                                // (h' = W_hr m)  dh'[b] = dh[b] + dy[b] (active rows),  dm[B, H] = dh'[B, P] · W_hr[P, H]
                                                                let dp = dProjectedBuffer.baseAddress! + r0 * S, dmp = dmBuffer.baseAddress!
                                                                for b in 0..<B where active(b) {
                                                                    for j in 0..<S {
                                                                        dp[b * S + j] = dh[b * S + j] + dy[(r0 + b) * ldy + j]
                                                                    }
                                                                }
                                                                dmp.update(repeating: 0, count: B * H)
                                                                whr.multiplyAccumulate(m: B, a: dp, lda: S, c: dmp, ldc: H)
                                                                // (m = o ⊙ tanh c') as without projections, with dm for dh and no dy.
                                                                LSTMCell.backwardStep(
                                                                    gates: gates.baseAddress! + r0 * GH,
                                                                    cellTanh: cellTanh.baseAddress! + r0 * H,
                                                                    cPrev: cPrev.baseAddress! + r0 * H, dy: zeros.baseAddress!, ldy: 0,
                                                                    dh: dmp,
                                                                    dc: dc!, dGates: dgx + r0 * GH, dhDirect: scratchBuffer.baseAddress!,
                                                                    active: active, batch: B, hidden: H)
                                                                // The carried dh of inactive sequences passes by; active ones go through W_hh below.
                                                                for b in 0..<B {
                                                                    for j in 0..<S { direct[b * S + j] = active(b) ? 0 : dh[b * S + j] }
                                                                }
                                                                whh.multiplyAccumulate(m: B, a: dgh + r0 * GH, lda: GH, c: direct, ldc: S)
                                                                dh.update(from: direct, count: B * S)
                                                                continue
                                                            }
                                                            switch cell {
                                                            case .lstm:
                                                                LSTMCell.backwardStep(
                                                                    gates: gates.baseAddress! + r0 * GH,
                                                                    cellTanh: cellTanh.baseAddress! + r0 * H,
                                                                    cPrev: cPrev.baseAddress! + r0 * H, dy: dy + r0 * ldy, ldy: ldy, dh: dh,
                                                                    dc: dc!, dGates: dgx + r0 * GH, dhDirect: direct,
                                                                    active: active, batch: B, hidden: H)
                                                            case .gru:
                                                                GRUCell.backwardStep(
                                                                    gates: gates.baseAddress! + r0 * GH,
                                                                    hiddenNew: hiddenNew.baseAddress! + r0 * H,
                                                                    hPrev: hPrev.baseAddress! + r0 * H, dy: dy + r0 * ldy, ldy: ldy, dh: dh,
                                                                    dGatesX: dgx + r0 * GH, dGatesH: dgh + r0 * GH, dhDirect: direct,
                                                                    active: active, batch: B, hidden: H)
                                                            case .rnnTanh, .rnnRelu:
                                                                ElmanCell.backwardStep(
                                                                    gates: gates.baseAddress! + r0 * GH, relu: cell == .rnnRelu,
                                                                    dy: dy + r0 * ldy, ldy: ldy, dh: dh, dGates: dgx + r0 * GH,
                                                                    dhDirect: direct, active: active, batch: B, hidden: H)
                                                            }
                                                            // dh_prev[B, H] = dpre_h[B, GH] · W_hh[GH, H] + (the direct part)
                                                            whh.multiplyAccumulate(m: B, a: dgh + r0 * GH, lda: GH, c: direct, ldc: H)
                                                            dh.update(from: direct, count: B * H)
                                                        }

                                                        // dW_ih[GH, I] += dpre_xᵀ[GH, T·B] · x[T·B, I]
                                                        weightIH.grad.withUnsafeMutableBufferPointer { g in
                                                            sgemm(
                                                                transA: true, m: GH, n: inputSize, k: rows, a: dgx, b: x, beta: 1,
                                                                c: g.baseAddress!)
                                                        }
                                                        // dW_hh[GH, S] += dpre_hᵀ[GH, T·B] · h_prev[T·B, S]
                                                        weightHH.grad.withUnsafeMutableBufferPointer { g in
                                                            sgemm(
                                                                transA: true, m: GH, n: S, k: rows, a: dgh, b: hPrev.baseAddress!, beta: 1,
                                                                c: g.baseAddress!)
                                                        }
                                                        if let weightHR {
                                                            // dW_hr[P, H] += dh'ᵀ[P, T·B] · m[T·B, H], with m = o ⊙ tanh c' of every active row (0 elsewhere)
                                                            var m = [Float](repeating: 0, count: rows * H)
                                                            for t in 0..<T {
                                                                for b in 0..<B where t < lengths[b] {
                                                                    let r = t * B + b
                                                                    for j in 0..<H {
                                                                        m[r * H + j] = gates[r * GH + 3 * H + j] * cellTanh[r * H + j]
                                                                    }
                                                                }
                                                            }
                                                            m.withUnsafeBufferPointer { pm in
                                                                weightHR.grad.withUnsafeMutableBufferPointer { g in
                                                                    sgemm(
                                                                        transA: true, m: S, n: H, k: rows, a: dProjectedBuffer.baseAddress!,
                                                                        b: pm.baseAddress!, beta: 1,
                                                                        c: g.baseAddress!)
                                                                }
                                                            }
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
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An array of `count` floats whose contents the caller writes before reading.
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
}

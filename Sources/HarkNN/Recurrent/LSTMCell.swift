/// The LSTM's pointwise work for one time step, forward and backward
/// (PyTorch's `nn.LSTM`, gate order i, f, g, o).
///
/// The matrix products are done by `RecurrentDirection`; these functions get,
/// for the B rows of one time step, the input projection `gx` (already in
/// `gates`) and the recurrent projection `gh`, both [B, 4H].
enum LSTMCell {
    /// Forward, for every sequence b active at this step:
    ///
    ///     i = σ(gx_i + gh_i)   f = σ(gx_f + gh_f)   g = tanh(gx_g + gh_g)   o = σ(gx_o + gh_o)
    ///     c' = f ⊙ c + i ⊙ g
    ///     h' = o ⊙ tanh(c')
    ///
    /// `gates` [B, 4H] is overwritten with the activated i, f, g, o; `cellTanh`
    /// [B, H] receives tanh(c'); `h`, `c` [B, H] are updated in place; `y` rows
    /// (stride `ldy`) get h' or, for inactive sequences, 0 (their h, c are carried).
    @inline(__always)
    static func forwardStep(
        gates: UnsafeMutablePointer<Float>, gh: UnsafePointer<Float>,
        h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
        cellTanh: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let yRow = y + b * ldy
            guard active(b) else {
                for j in 0..<H { yRow[j] = 0 }
                continue
            }
            let g = gates + b * 4 * H, r = gh + b * 4 * H
            let hb = h + b * H, cb = c + b * H, tb = cellTanh + b * H
            for j in 0..<(4 * H) { g[j] += r[j] }  // pre-activations
            sigmoidInPlace(g, 2 * H)  // i, f
            tanhInPlace(g + 2 * H, H)  // g
            sigmoidInPlace(g + 3 * H, H)  // o
            for j in 0..<H { cb[j] = g[H + j] * cb[j] + g[j] * g[2 * H + j] }  // c' = f ⊙ c + i ⊙ g
            tb.update(from: cb, count: H)
            tanhInPlace(tb, H)  // tanh(c')
            for j in 0..<H {
                let hNew = g[3 * H + j] * tb[j]  // h' = o ⊙ tanh(c')
                hb[j] = hNew
                yRow[j] = hNew
            }
        }
    }

    /// Backward of `forwardStep`. For active b, with dh = dh_carry + dy:
    ///
    ///     (h' = o ⊙ tanh c')        do = dh ⊙ tanh c'     dc = dc_carry + dh ⊙ o ⊙ (1 − tanh² c')
    ///     (c' = f ⊙ c + i ⊙ g)      di = dc ⊙ g   df = dc ⊙ c   dg = dc ⊙ i   dc_prev = dc ⊙ f
    ///     (gates = σ/tanh(pre))     dpre_i = di·i(1−i)  dpre_f = df·f(1−f)  dpre_g = dg·(1−g²)  dpre_o = do·o(1−o)
    ///
    /// Writes dpre to `dGates` [B, 4H]; sets `dhDirect` to the part of dh_prev
    /// that does not go through W_hh (0 for active rows, the carried dh for
    /// inactive ones); updates `dc` in place to dc_prev.
    @inline(__always)
    static func backwardStep(
        gates: UnsafePointer<Float>, cellTanh: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, ldy: Int, dh: UnsafePointer<Float>,
        dc: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>,
        dhDirect: UnsafeMutablePointer<Float>,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let dhb = dh + b * H, out = dhDirect + b * H
            guard active(b) else {
                for j in 0..<H { out[j] = dhb[j] }
                continue
            }
            let g = gates + b * 4 * H, d = dGates + b * 4 * H
            let tb = cellTanh + b * H, cp = cPrev + b * H, dcb = dc + b * H, dyb = dy + b * ldy
            for j in 0..<H {
                let ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j]
                let dhj = dhb[j] + dyb[j]
                let tc = tb[j]
                let dO = dhj * tc
                let dcj = dcb[j] + dhj * og * (1 - tc * tc)
                d[j] = dcj * gg * ig * (1 - ig)
                d[H + j] = dcj * cp[j] * fg * (1 - fg)
                d[2 * H + j] = dcj * ig * (1 - gg * gg)
                d[3 * H + j] = dO * og * (1 - og)
                dcb[j] = dcj * fg
                out[j] = 0
            }
        }
    }
}

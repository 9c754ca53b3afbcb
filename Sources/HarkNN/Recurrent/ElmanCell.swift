/// The Elman RNN's pointwise work for one time step (PyTorch's `nn.RNN`):
/// h' = act(gx + gh), act = tanh or ReLU.
enum ElmanCell {
    /// `gates` [B, H] is overwritten with h'.
    @inline(__always)
    static func forwardStep(
        gates: UnsafeMutablePointer<Float>, gh: UnsafePointer<Float>, relu: Bool,
        h: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let yRow = y + b * ldy
            guard active(b) else {
                for j in 0..<H { yRow[j] = 0 }
                continue
            }
            let g = gates + b * H, r = gh + b * H, hb = h + b * H
            for j in 0..<H { g[j] += r[j] }
            if relu {
                for j in 0..<H { g[j] = max(g[j], 0) }
            } else {
                tanhInPlace(g, H)
            }
            hb.update(from: g, count: H)
            for j in 0..<H { yRow[j] = g[j] }
        }
    }

    /// Backward: (h' = act(a)) da = dh ⊙ act'(a), with tanh' = 1 − h'² and
    /// ReLU' = [h' > 0].
    @inline(__always)
    static func backwardStep(
        gates: UnsafePointer<Float>, relu: Bool,
        dy: UnsafePointer<Float>, ldy: Int, dh: UnsafePointer<Float>,
        dGates: UnsafeMutablePointer<Float>, dhDirect: UnsafeMutablePointer<Float>,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let dhb = dh + b * H, out = dhDirect + b * H
            guard active(b) else {
                for j in 0..<H { out[j] = dhb[j] }
                continue
            }
            let g = gates + b * H, d = dGates + b * H, dyb = dy + b * ldy
            for j in 0..<H {
                let dhj = dhb[j] + dyb[j]
                let hj = g[j]
                d[j] = relu ? (hj > 0 ? dhj : 0) : dhj * (1 - hj * hj)
                out[j] = 0
            }
        }
    }
}

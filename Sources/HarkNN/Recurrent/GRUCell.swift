/// The GRU's pointwise work for one time step, forward and backward
/// (PyTorch's `nn.GRU`, gate order r, z, n).
enum GRUCell {
    /// Forward, for every sequence b active at this step (`gh` includes b_hh):
    ///
    ///     r = σ(gx_r + gh_r)   z = σ(gx_z + gh_z)
    ///     n = tanh(gx_n + r ⊙ gh_n)          (gh_n = W_hn h + b_hn)
    ///     h' = (1 − z) ⊙ n + z ⊙ h
    ///
    /// `gates` [B, 3H] is overwritten with r, z, n; `hiddenNew` [B, H] keeps gh_n.
    @inline(__always)
    static func forwardStep(
        gates: UnsafeMutablePointer<Float>, gh: UnsafePointer<Float>,
        h: UnsafeMutablePointer<Float>, hiddenNew: UnsafeMutablePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let yRow = y + b * ldy
            guard active(b) else {
                for j in 0..<H { yRow[j] = 0 }
                continue
            }
            let g = gates + b * 3 * H, r = gh + b * 3 * H, hb = h + b * H, hn = hiddenNew + b * H
            for j in 0..<(2 * H) { g[j] += r[j] }
            sigmoidInPlace(g, 2 * H)  // r, z
            for j in 0..<H { hn[j] = r[2 * H + j]; g[2 * H + j] += g[j] * hn[j] }
            tanhInPlace(g + 2 * H, H)  // n
            for j in 0..<H {
                let zg = g[H + j]
                let hNew = (1 - zg) * g[2 * H + j] + zg * hb[j]  // h' = (1 − z) ⊙ n + z ⊙ h
                hb[j] = hNew
                yRow[j] = hNew
            }
        }
    }

    /// Backward of `forwardStep`. For active b, with dh = dh_carry + dy:
    ///
    ///     (h' = (1 − z) ⊙ n + z ⊙ h)   dn = dh ⊙ (1 − z)   dz = dh ⊙ (h − n)   dh_prev ∋ dh ⊙ z
    ///     (n = tanh(a_n))              da_n = dn ⊙ (1 − n²)
    ///     (a_n = gx_n + r ⊙ gh_n)      dr = da_n ⊙ gh_n    dgh_n = da_n ⊙ r
    ///     (r, z = σ(·))                da_r = dr·r(1−r)    da_z = dz·z(1−z)
    ///
    /// The input side and the recurrent side differ in the n block, so the
    /// x-side gradients [da_r, da_z, da_n] go to `dGatesX` and the h-side ones
    /// [da_r, da_z, da_n ⊙ r] to `dGatesH`, both [B, 3H].
    @inline(__always)
    static func backwardStep(
        gates: UnsafePointer<Float>, hiddenNew: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, ldy: Int, dh: UnsafePointer<Float>,
        dGatesX: UnsafeMutablePointer<Float>, dGatesH: UnsafeMutablePointer<Float>,
        dhDirect: UnsafeMutablePointer<Float>,
        active: (Int) -> Bool, batch: Int, hidden H: Int
    ) {
        for b in 0..<batch {
            let dhb = dh + b * H, out = dhDirect + b * H
            guard active(b) else {
                for j in 0..<H { out[j] = dhb[j] }
                continue
            }
            let g = gates + b * 3 * H, dx = dGatesX + b * 3 * H, dhh = dGatesH + b * 3 * H
            let hn = hiddenNew + b * H, hp = hPrev + b * H, dyb = dy + b * ldy
            for j in 0..<H {
                let rg = g[j], zg = g[H + j], ng = g[2 * H + j]
                let dhj = dhb[j] + dyb[j]
                let dn = dhj * (1 - zg)
                let dz = dhj * (hp[j] - ng)
                let dan = dn * (1 - ng * ng)
                let dar = dan * hn[j] * rg * (1 - rg)
                let daz = dz * zg * (1 - zg)
                dx[j] = dar; dx[H + j] = daz; dx[2 * H + j] = dan
                dhh[j] = dar; dhh[H + j] = daz; dhh[2 * H + j] = dan * rg
                out[j] = dhj * zg
            }
        }
    }
}

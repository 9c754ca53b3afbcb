import HarkCore

/// Kaldi's `add-deltas` (`DeltaFeatures` in `feature-functions.cc`).
///
/// The order-i filter is the order-(i−1) filter convolved with
/// [−w … w] / Σⱼ j² (j = −w … w); frame indices beyond the ends are clamped to
/// the first or last frame.
///
/// - Shapes: [T, D] → [T, D·(order + 1)]: static, delta, delta-delta, … side by side.
public func addDeltas(_ features: Matrix, order: Int = 2, window: Int = 2) -> Matrix {
    precondition(order >= 0 && window >= 1, "delta order \(order) / window \(window)")
    // scales[i] has 2·i·window + 1 taps, centred.
    var scales: [[Float]] = [[1]]
    for i in stride(from: 1, through: order, by: 1) {
        let prev = scales[i - 1]
        let prevOffset = (prev.count - 1) / 2
        let curOffset = prevOffset + window
        var cur = [Float](repeating: 0, count: prev.count + 2 * window)
        var normalizer: Float = 0
        for j in -window...window {
            normalizer += Float(j * j)
            for k in -prevOffset...prevOffset {
                cur[j + k + curOffset] += Float(j) * prev[k + prevOffset]
            }
        }
        scales.append(cur.map { $0 / normalizer })
    }
    let frames = features.rows, dim = features.cols
    var out = Matrix(rows: frames, cols: dim * (order + 1))
    guard frames > 0 else { return out }
    for t in 0..<frames {
        for (i, s) in scales.enumerated() {
            let maxOffset = (s.count - 1) / 2
            for j in -maxOffset...maxOffset {
                let scale = s[j + maxOffset]
                if scale == 0 { continue }
                let src = min(max(t + j, 0), frames - 1)
                for d in 0..<dim {
                    out.data[t * out.cols + i * dim + d] += scale * features.data[src * dim + d]
                }
            }
        }
    }
    return out
}

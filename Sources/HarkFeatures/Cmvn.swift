import HarkCore

/// Per-utterance mean (and variance) normalisation in place, as Kaldi's
/// `compute-cmvn-stats` on the utterance followed by `apply-cmvn`
/// (statistics accumulated in double precision).
///
/// mean: x − μ.  meanvar: (x − μ) / σ with σ² = E[x²] − μ², floored at 1e-20.
///
/// - Shapes: [T, D] in place.
public func applyCmvn(_ features: inout Matrix, mode: CmvnMode) {
    guard mode != .none, features.rows > 0 else { return }
    let rows = features.rows, cols = features.cols
    var sum = [Double](repeating: 0, count: cols)
    var sumSq = [Double](repeating: 0, count: cols)
    for r in 0..<rows {
        for c in 0..<cols {
            let v = Double(features.data[r * cols + c])
            sum[c] += v
            sumSq[c] += v * v
        }
    }
    let count = Double(rows)
    var offset = [Float](repeating: 0, count: cols)
    var scale = [Float](repeating: 1, count: cols)
    for c in 0..<cols {
        let mean = sum[c] / count
        if mode == .meanvar {
            let variance = max(sumSq[c] / count - mean * mean, 1e-20)
            let s = 1 / variance.squareRoot()
            scale[c] = Float(s)
            offset[c] = Float(-mean * s)
        } else {
            offset[c] = Float(-mean)
        }
    }
    for r in 0..<rows {
        for c in 0..<cols {
            features.data[r * cols + c] = features.data[r * cols + c] * scale[c] + offset[c]
        }
    }
}

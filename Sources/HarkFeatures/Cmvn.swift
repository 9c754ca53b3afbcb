import HarkCore

/// Per-utterance mean (and variance) normalisation in place, as Kaldi's
/// `compute-cmvn-stats` on the utterance followed by `apply-cmvn`
/// (statistics accumulated in double precision by `CmvnAccumulator`).
///
/// - Shapes: [T, D] in place.
public func applyCmvn(_ features: inout Matrix, mode: CmvnMode) {
    guard mode != .none, features.rows > 0 else { return }
    var stats = CmvnAccumulator(mode: mode, dimension: features.cols)
    stats.add(features)
    let (scale, offset) = stats.transform()
    let cols = features.cols
    for r in 0..<features.rows {
        for c in 0..<cols {
            features.data[r * cols + c] = features.data[r * cols + c] * scale[c] + offset[c]
        }
    }
}

/// Per-utterance CMVN as a transform learned from a first pass over the
/// features: statistics accumulated row by row in double precision, then
/// x · scale + offset per column, so that streamed features (`FeatureStream`) and whole
/// matrices (`applyCmvn`) are normalised by the same formula:
///
/// mean: x − μ.  meanvar: (x − μ) / σ with σ² = E[x²] − μ², floored at 1e-20.
public struct CmvnAccumulator {
    public let mode: CmvnMode
    private var sum: [Double]
    private var sumSq: [Double]
    public private(set) var count = 0

    public init(mode: CmvnMode, dimension: Int) {
        self.mode = mode
        sum = [Double](repeating: 0, count: dimension)
        sumSq = [Double](repeating: 0, count: dimension)
    }

    /// - Shapes: rows [t, D].
    public mutating func add(_ rows: Matrix) {
        let cols = rows.cols
        for r in 0..<rows.rows {
            for c in 0..<cols {
                let v = Double(rows.data[r * cols + c])
                sum[c] += v
                sumSq[c] += v * v
            }
        }
        count += rows.rows
    }

    /// (scale, offset) per column.
    public func transform() -> (scale: [Float], offset: [Float]) {
        let cols = sum.count
        var offset = [Float](repeating: 0, count: cols)
        var scale = [Float](repeating: 1, count: cols)
        guard mode != .none, count > 0 else { return (scale, offset) }
        let n = Double(count)
        for c in 0..<cols {
            let mean = sum[c] / n
            if mode == .meanvar {
                let variance = max(sumSq[c] / n - mean * mean, 1e-20)
                let s = 1 / variance.squareRoot()
                scale[c] = Float(s)
                offset[c] = Float(-mean * s)
            } else {
                offset[c] = Float(-mean)
            }
        }
        return (scale, offset)
    }
}

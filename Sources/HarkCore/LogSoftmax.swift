import Foundation

/// log-softmax of every row: x[r, k] − log Σⱼ exp(x[r, j]), computed stably
/// (the row's maximum is subtracted before exponentiating).
///
/// - Shapes: [N, K] → [N, K].
public func logSoftmax(_ x: Matrix) -> Matrix {
    var out = x
    let K = x.cols
    out.data.withUnsafeMutableBufferPointer { o in
        for r in 0..<x.rows {
            let row = o.baseAddress! + r * K
            var m = -Float.infinity
            for k in 0..<K { m = max(m, row[k]) }
            if m == -.infinity { continue }
            var s: Float = 0
            for k in 0..<K { s += expf(row[k] - m) }
            let lse = m + logf(s)
            for k in 0..<K { row[k] -= lse }
        }
    }
    return out
}

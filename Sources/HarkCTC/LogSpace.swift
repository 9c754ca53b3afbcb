import Foundation

/// log(eᵃ + eᵇ), exact for −∞ operands: max + log1p(e^(−|a − b|)).
@inline(__always)
func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b))
}

/// log Σ eˣ over a row.
@inline(__always)
func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, x[i]) }
    if m == -.infinity { return m }
    var s: Float = 0
    for i in 0..<n { s += expf(x[i] - m) }
    return m + logf(s)
}

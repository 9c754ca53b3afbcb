import Foundation

/// log(eᵃ + eᵇ), exact for −∞ operands: max + log1p(e^(−|a − b|)).
@inline(__always)
func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b))
}

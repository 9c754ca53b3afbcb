import Foundation

/// log(eᵃ + eᵇ), exact for −∞ operands: max + log1p(e^(−|a − b|)).
/// Operands more than 40 apart give the larger one: the term dropped,
/// log1p(e^−40) ≈ 4.2·10⁻¹⁸, is below half the spacing of Doubles of
/// magnitude 1/16 or more, so the sum would round to the larger there anyway
/// (and the shortcut spares exp and log1p, which a beam search would
/// otherwise call on most of its additions).
@inline(__always)
func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    let (hi, lo) = a > b ? (a, b) : (b, a)
    return hi - lo > 40 ? hi : hi + log1p(exp(lo - hi))
}

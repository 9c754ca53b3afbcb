import Foundation

// Vectorised sigmoid and tanh for the gate non-linearities: eight lanes at a
// time, exp from Cephes' single-precision polynomial (about 1 ulp), tanh from
// Cephes' odd polynomial for |x| < 0.625 and 1 − 2/(e^{2x} + 1) above.
// Absolute error below 2e-7 everywhere, far inside the 1e-5 agreement with
// PyTorch that the fixtures check.

typealias F8 = SIMD8<Float>

@inline(__always)
func exp8(_ input: F8) -> F8 {
    var x0 = input
    x0.replace(with: -87.3, where: x0 .< -87.3)
    x0.replace(with: 88.3, where: x0 .> 88.3)
    // n = round(x / ln 2): adding 1.5·2²³ rounds to an integer and leaves it in
    // the low mantissa bits, which also gives n's bits without a conversion.
    let magic = F8(repeating: 12_582_912)
    let shifted = x0 * 1.442_695_04 + magic
    let fx = shifted - magic
    var x = x0 - fx * 0.693_359_375
    x = x - fx * -2.121_944_4e-4
    let z = x * x
    var y: F8 = F8(repeating: 1.987_569_15e-4)
    y = y * x + 1.398_199_950_7e-3
    y = y * x + 8.333_451_907_3e-3
    y = y * x + 4.166_579_589_4e-2
    y = y * x + 1.666_666_545_9e-1
    y = y * x + 5.000_000_120_1e-1
    y = y * z + x + 1
    // y · 2ⁿ, with 2ⁿ built from its exponent bits.
    let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    return y * unsafeBitCast((n &+ 127) &<< 23, to: F8.self)
}

@inline(__always)
func sigmoid8(_ x: F8) -> F8 { 1 / (1 + exp8(-x)) }

@inline(__always)
func tanh8(_ x: F8) -> F8 {
    let ax = x.replacing(with: -x, where: x .< 0)
    // Large |x|: 1 − 2/(e^{2|x|} + 1), sign restored.
    let big = 1 - 2 / (exp8(2 * ax) + 1)
    var large = big
    large.replace(with: -big, where: x .< 0)
    // Small |x|: x + x³·P(x²).
    let z = x * x
    var p: F8 = F8(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    var out = large
    out.replace(with: small, where: ax .< 0.625)
    return out
}

/// x[i] ← f(x[i]) for i < n, eight lanes at a time.
@inline(__always)
func mapInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ f: (F8) -> F8) {
    let raw = UnsafeMutableRawPointer(x)
    var i = 0
    while i + 8 <= n {
        raw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: i * 4, as: F8.self)), toByteOffset: i * 4, as: F8.self)
        i += 8
    }
    while i < n { x[i] = f(F8(repeating: x[i]))[0]; i += 1 }
}

/// x[i] ← σ(x[i]) for i < n.
@inline(__always)
func sigmoidInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) { mapInPlace(x, n, sigmoid8) }

/// x[i] ← tanh(x[i]) for i < n.
@inline(__always)
func tanhInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) { mapInPlace(x, n, tanh8) }

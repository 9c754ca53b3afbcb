import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
///
/// Hark never uses the system generator for anything that affects results:
/// every random draw (dither, initialisation, dropout, shuffling) comes from a
/// `SeededGenerator` so that runs are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose state is four SplitMix64 outputs from `seed`: the same seed, the same draws.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator for sub-stream `index` of `seed`: independent of how work
    /// is split between threads.
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03) &+ 0x632B_E59B_D9B4_E019)
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// `count` standard normal draws for long runs of noise: Box–Muller in
    /// single precision, z₁ = r·cos θ and z₂ = r·sin θ with r = √(−2 ln u₁),
    /// θ = 2π·u₂, both of each pair used and u₁, u₂ (24 bits each) from one
    /// 64-bit draw: about a third of `nextGaussian`'s time per draw. Its own
    /// stream: not the values `nextGaussian` would give.
    public mutating func gaussians(count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: max(0, count))
        out.withUnsafeMutableBufferPointer { z in
            var i = 0
            while i < z.count {
                let bits = next()
                // u₁ in (0, 1], never 0; u₂ in [0, 1).
                let u1 = (Float(bits >> 40) + 1) * (1.0 / 16_777_216.0)
                let u2 = Float((bits >> 16) & 0xFF_FFFF) * (1.0 / 16_777_216.0)
                let r = (-2 * logf(u1)).squareRoot(), theta = 2 * Float.pi * u2
                z[i] = r * cosf(theta)
                if i + 1 < z.count { z[i + 1] = r * sinf(theta) }
                i += 2
            }
        }
        return out
    }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1.0p-53, Double.leastNormalMagnitude)
        let u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}

import Foundation

/// The mel filterbank options. Kaldi: `MelBanksOptions` in `mel-computations.h`.
/// Meanings, defaults' reasons and accepted values: `FeatureOption.all`.
public struct MelOptions: Equatable, Sendable {
    /// --num-mel-bins
    public var numBins = 23
    /// --low-freq
    public var lowFreq: Double = 20
    /// --high-freq
    public var highFreq: Double = 0
    /// --vtln-low: the lower knee of the VTLN warp, Hz.
    public var vtlnLow: Double = 100
    /// --vtln-high: the upper knee of the VTLN warp, Hz; 0 or negative: an offset from the Nyquist frequency.
    public var vtlnHigh: Double = -500
    /// --vtln-warp: the vocal tract length warp factor (1: no warp).
    public var vtlnWarp: Double = 1

    /// Kaldi's defaults.
    public init() {}
}

/// Triangular filters equally spaced on the mel scale, applied to a power (or
/// magnitude) spectrum. Kaldi: `MelBanks` in `mel-computations.cc`.
///
/// mel(f) = 1127 · ln(1 + f / 700). With Δ = (mel(high) − mel(low)) / (M + 1),
/// filter m has left, centre and right edges mel(low) + (m, m+1, m+2)·Δ, and
/// the weight of FFT bin k (frequency k · fs / N) rises linearly from 0 at the
/// left edge to 1 at the centre and falls back to 0 at the right edge. Bins
/// 0 ..< N/2 are used (the Nyquist bin never is, as in Kaldi).
public struct MelBanks: Sendable {
    /// Filter m covers FFT bins `offsets[m] ..< offsets[m] + weights[m].count`.
    public let offsets: [Int]
    /// Filter m's weights of the FFT bins from `offsets[m]` on.
    public let weights: [[Float]]
    /// Filter m's centre in Hz (the inverse of the mel scale at its centre's mel).
    public let centerFrequencies: [Double]
    /// The same weights in one contiguous array for the per-frame loop:
    /// filter m's weights are `packed[packedStart[m] ..< packedStart[m + 1]]`.
    let packed: [Float]
    let packedStart: [Int]

    @inline(__always)
    static func melScale(_ freq: Float) -> Float { 1127 * logf(1 + freq / 700) }

    /// The frequency, Hz, whose mel is `mel`: `melScale`'s inverse.
    static func inverseMelScale(_ mel: Double) -> Double { 700 * (exp(mel / 1127) - 1) }

    /// - Parameters:
    ///   - paddedWindowSize: N, the FFT length.
    public init(options: MelOptions, sampleFrequency: Double, paddedWindowSize: Int) throws {
        let numBins = options.numBins
        guard numBins >= 3 else {
            throw FeatureError.invalidOption("num-mel-bins", "\(numBins)", "must be at least 3")
        }
        let numFftBins = paddedWindowSize / 2
        let nyquist = 0.5 * sampleFrequency
        let lowFreq = options.lowFreq
        let highFreq = options.highFreq > 0 ? options.highFreq : nyquist + options.highFreq
        guard lowFreq >= 0, lowFreq < nyquist, highFreq > 0, highFreq <= nyquist, highFreq > lowFreq else {
            throw FeatureError.invalidOption(
                "low-freq/--high-freq", "\(lowFreq)/\(options.highFreq)",
                "the band [\(lowFreq), \(highFreq)] Hz must lie within [0, \(nyquist)] Hz (Nyquist at \(sampleFrequency) Hz)")
        }
        let fftBinWidth = Float(sampleFrequency) / Float(paddedWindowSize)
        let melLow = MelBanks.melScale(Float(lowFreq))
        let melHigh = MelBanks.melScale(Float(highFreq))
        let delta = (melHigh - melLow) / Float(numBins + 1)
        let warp = try VtlnWarp(options: options, lowFreq: lowFreq, highFreq: highFreq, nyquist: nyquist)

        var offsets: [Int] = []
        var weights: [[Float]] = []
        for m in 0..<numBins {
            var left = melLow + Float(m) * delta
            var center = melLow + Float(m + 1) * delta
            var right = melLow + Float(m + 2) * delta
            if let warp {
                left = warp.warpMel(left)
                center = warp.warpMel(center)
                right = warp.warpMel(right)
            }
            var first = -1
            var filter: [Float] = []
            for k in 0..<numFftBins {
                let mel = MelBanks.melScale(fftBinWidth * Float(k))
                guard mel > left && mel < right else { continue }
                let w = mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center)
                if first < 0 { first = k }
                // Bins between first and k that were outside (cannot happen for a
                // monotone scale) would be zero; keep the run contiguous.
                while first + filter.count < k { filter.append(0) }
                filter.append(w)
            }
            guard first >= 0 else {
                throw FeatureError.invalidOption(
                    "num-mel-bins", "\(numBins)",
                    "mel filter \(m) contains no FFT bin; use fewer mel bins, a wider band or a longer frame")
            }
            offsets.append(first)
            weights.append(filter)
        }
        self.offsets = offsets
        self.weights = weights
        centerFrequencies = (0..<numBins).map { m in
            let mel = melLow + Float(m + 1) * delta
            return Self.inverseMelScale(Double(warp?.warpMel(mel) ?? mel))
        }
        packed = weights.flatMap { $0 }
        packedStart = weights.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    }

    /// The highest FFT bin any filter uses, plus one.
    var binsUsed: Int { zip(offsets, weights).map { $0 + $1.count }.max() ?? 0 }

    /// M, the number of filters.
    public var count: Int { offsets.count }
}

/// Vocal tract length normalisation's warp of the filterbank, as Kaldi's
/// `MelBanks::VtlnWarpFreq` (`mel-computations.cc`): a piecewise-linear map
/// of frequency f by the factor α, linear in the middle and bent at two knees
/// so that the band's edges stay put. With l = vtlnLow·max(1, α),
/// h = vtlnHigh·min(1, α) and the band [low, high]:
///
///     f < l:      low + (l/α − low)/(l − low) · (f − low)
///     l ≤ f < h:  f / α
///     f ≥ h:      high + (high − h/α)/(high − h) · (f − high)
///
/// (f outside [low, high] is unchanged). Each filter's left edge, centre and
/// right edge move by it in the mel domain: mel(warp(mel⁻¹(m))).
struct VtlnWarp {
    let low: Double, high: Double, l: Double, h: Double, factor: Double

    /// nil when the factor is 1 (no warp).
    init?(options: MelOptions, lowFreq: Double, highFreq: Double, nyquist: Double) throws {
        guard options.vtlnWarp != 1 else { return nil }
        let vtlnHigh = options.vtlnHigh > 0 ? options.vtlnHigh : options.vtlnHigh + nyquist
        guard options.vtlnWarp.isFinite, options.vtlnWarp > 0 else {
            throw FeatureError.invalidOption("vtln-warp", "\(options.vtlnWarp)", "must be a positive number")
        }
        guard options.vtlnLow > lowFreq, vtlnHigh < highFreq, options.vtlnLow < vtlnHigh else {
            throw FeatureError.invalidOption(
                "vtln-low/--vtln-high", "\(options.vtlnLow)/\(options.vtlnHigh)",
                "the knees must lie inside the band (\(lowFreq), \(highFreq)) Hz, the low one below the high one")
        }
        low = lowFreq
        high = highFreq
        factor = options.vtlnWarp
        l = options.vtlnLow * max(1, factor)
        h = vtlnHigh * min(1, factor)
        guard l > low, h < high else {
            throw FeatureError.invalidOption("vtln-warp", "\(factor)", "moves a knee of the warp outside the band (\(low), \(high)) Hz")
        }
    }

    func warp(_ f: Double) -> Double {
        if f < low || f > high { return f }
        let scale = 1 / factor
        if f < l { return low + (scale * l - low) / (l - low) * (f - low) }
        if f < h { return scale * f }
        return high + (high - scale * h) / (high - h) * (f - high)
    }

    /// The warp in the mel domain.
    func warpMel(_ mel: Float) -> Float {
        MelBanks.melScale(Float(warp(MelBanks.inverseMelScale(Double(mel)))))
    }
}

/// The analysis window of the signal: how the waveform is cut into frames
/// and how each frame is prepared before the FFT.
///
/// Kaldi: `FrameExtractionOptions` in `feature-window.h`. Names and defaults
/// are Kaldi's, except `dither`. What each option means, why its default is
/// what it is, and which values it accepts: its entry in `FeatureOption.all`.
public struct FrameOptions: Equatable, Sendable {
    /// --sample-frequency
    public var sampleFrequency: Double = 16_000
    /// --frame-length
    public var frameLength: Double = 25
    /// --frame-shift
    public var frameShift: Double = 10
    /// --preemphasis-coefficient
    public var preemphasisCoefficient: Double = 0.97
    /// --remove-dc-offset
    public var removeDcOffset = true
    /// --window-type
    public var windowType: WindowType = .povey
    /// --blackman-coeff
    public var blackmanCoeff: Double = 0.42
    /// --round-to-power-of-two
    public var roundToPowerOfTwo = true
    /// --snip-edges
    public var snipEdges = true
    /// --dither
    public var dither: Double = 0
    /// --dither-seed
    public var ditherSeed: UInt64 = 0

    /// Kaldi's defaults (but no dither).
    public init() {}

    /// Samples per frame (Kaldi's `WindowSize()`).
    public var windowSize: Int { Int(sampleFrequency * 0.001 * frameLength) }
    /// Samples between frame starts (Kaldi's `WindowShift()`).
    public var windowShift: Int { Int(sampleFrequency * 0.001 * frameShift) }
    /// FFT length (Kaldi's `PaddedWindowSize()`).
    public var paddedWindowSize: Int {
        roundToPowerOfTwo ? FrameOptions.nextPowerOfTwo(windowSize) : windowSize
    }

    static func nextPowerOfTwo(_ n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }

    /// The number of frames for `sampleCount` samples (Kaldi's `NumFrames`, flush = true).
    public func frameCount(sampleCount: Int) -> Int {
        let shift = windowShift, size = windowSize
        if snipEdges {
            return sampleCount < size ? 0 : 1 + (sampleCount - size) / shift
        }
        return (sampleCount + shift / 2) / shift
    }

    /// Index of frame `t`'s first sample; negative before the signal starts
    /// when `snipEdges` is false (Kaldi's `FirstSampleOfFrame`).
    public func firstSample(ofFrame t: Int) -> Int {
        let shift = windowShift
        if snipEdges { return t * shift }
        return t * shift + shift / 2 - windowSize / 2
    }
}

/// Why features could not be computed with the given options.
public enum FeatureError: Error, CustomStringConvertible, Equatable {
    /// option name (Kaldi's), value, what is wrong.
    case invalidOption(String, String, String)

    /// "invalid --NAME=VALUE: why".
    public var description: String {
        switch self {
        case let .invalidOption(name, value, why): return "invalid --\(name)=\(value): \(why)"
        }
    }
}

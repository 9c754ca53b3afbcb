/// The analysis window of the signal: how the waveform is cut into frames
/// and how each frame is prepared before the FFT.
///
/// Kaldi: `FrameExtractionOptions` in `feature-window.h`. Names and defaults
/// are Kaldi's, except `dither` (see below).
public struct FrameOptions: Equatable, Sendable {
    /// Sample rate the waveform must be at, Hz. Kaldi default 16000.
    public var sampleFrequency: Double = 16_000
    /// Frame length in milliseconds. Kaldi default 25 (400 samples at 16 kHz).
    public var frameLength: Double = 25
    /// Frame shift in milliseconds. Kaldi default 10.
    public var frameShift: Double = 10
    /// Pre-emphasis `x[i] -= c · x[i-1]`. Kaldi default 0.97.
    public var preemphasisCoefficient: Double = 0.97
    /// Subtract each frame's mean before everything else. Kaldi default true.
    public var removeDcOffset = true
    /// The taper applied to each frame. Kaldi default povey.
    public var windowType: WindowType = .povey
    /// The constant of the generalised Blackman window. Kaldi default 0.42.
    public var blackmanCoeff: Double = 0.42
    /// Zero-pad each frame to a power of two before the FFT. Kaldi default true.
    public var roundToPowerOfTwo = true
    /// true: only frames that fit entirely in the signal (Kaldi's default).
    /// false: frames centred every shift, the edges reflected; T = round(N / shift).
    public var snipEdges = true
    /// Standard deviation of Gaussian noise added to every sample (on the
    /// 16-bit integer scale). Kaldi's default is 1; Hark's is 0, so output is
    /// deterministic unless asked otherwise.
    public var dither: Double = 0
    /// Seed of the dither noise; frame t uses sub-stream t, so results do not
    /// depend on the thread count.
    public var ditherSeed: UInt64 = 0

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

    /// Checks the values as Kaldi does; the error names the bad option.
    public func validate() throws {
        guard sampleFrequency > 0 else {
            throw FeatureError.invalidOption("sample-frequency", "\(sampleFrequency)", "must be positive")
        }
        guard windowShift > 0 else {
            throw FeatureError.invalidOption("frame-shift", "\(frameShift)", "gives a shift of \(windowShift) samples at \(sampleFrequency) Hz; it must be at least one sample")
        }
        guard windowSize >= 2 else {
            throw FeatureError.invalidOption("frame-length", "\(frameLength)", "gives \(windowSize) samples at \(sampleFrequency) Hz; a frame needs at least 2")
        }
        guard (0...1).contains(preemphasisCoefficient) else {
            throw FeatureError.invalidOption("preemphasis-coefficient", "\(preemphasisCoefficient)", "must be in [0, 1]")
        }
        guard dither >= 0 else {
            throw FeatureError.invalidOption("dither", "\(dither)", "must be 0 (off) or positive")
        }
    }
}

/// Why features could not be computed with the given options.
public enum FeatureError: Error, CustomStringConvertible, Equatable {
    /// option name (Kaldi's), value, what is wrong.
    case invalidOption(String, String, String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, why): return "invalid --\(name)=\(value): \(why)"
        }
    }
}

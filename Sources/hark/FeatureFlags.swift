import ArgumentParser
import HarkAudio
import HarkFeatures

/// Feature options under Kaldi's names, shared by every command that computes
/// features so that they cannot compute them differently.
struct FeatureFlags: ParsableArguments {
    @Option(help: "Feature type: mfcc or fbank.")
    var type: FeatureKind = .mfcc

    @Option(help: "Sample rate of the analysis, Hz; audio at another rate is resampled.")
    var sampleFrequency: Double = 16_000
    @Option(help: "Frame length in milliseconds.")
    var frameLength: Double = 25
    @Option(help: "Frame shift in milliseconds.")
    var frameShift: Double = 10
    @Option(help: "Pre-emphasis coefficient.")
    var preemphasisCoefficient: Double = 0.97
    @Option(help: "Subtract each frame's mean (true/false).")
    var removeDcOffset: Bool = true
    @Option(help: "Window: povey, hamming, hanning, rectangular, blackman.")
    var windowType: WindowType = .povey
    @Option(help: "Constant of the Blackman window.")
    var blackmanCoeff: Double = 0.42
    @Option(help: "Zero-pad frames to a power of two before the FFT (true/false).")
    var roundToPowerOfTwo: Bool = true
    @Option(help: "Only frames that fit in the signal (true), or frames centred every shift with reflected edges (false).")
    var snipEdges: Bool = true
    @Option(help: "Gaussian dither on the 16-bit sample scale (Kaldi's default is 1; 0 = off, deterministic).")
    var dither: Double = 0
    @Option(help: "Seed of the dither noise.")
    var ditherSeed: UInt64 = 0

    @Option(help: "Number of mel bins.")
    var numMelBins: Int = 23
    @Option(help: "Low cut-off of the mel bins, Hz.")
    var lowFreq: Double = 20
    @Option(help: "High cut-off of the mel bins, Hz (≤ 0: offset from Nyquist).")
    var highFreq: Double = 0

    @Option(help: "Cepstra kept, C0 included (mfcc).")
    var numCeps: Int = 13
    @Option(help: "Cepstral lifter Q, 0 = none (mfcc).")
    var cepstralLifter: Double = 22
    @Option(help: "Use the log energy: replaces C0 in mfcc, adds a first column in fbank (default: true for mfcc, false for fbank).")
    var useEnergy: Bool?
    @Option(help: "Energy before pre-emphasis and windowing (true/false).")
    var rawEnergy: Bool = true
    @Option(help: "Floor on the energy (not its log); 0 = none.")
    var energyFloor: Double = 0
    @Option(help: "Log of the mel energies (fbank).")
    var useLogFbank: Bool = true
    @Option(help: "Power spectrum (true) or magnitude (false) (fbank).")
    var usePower: Bool = true

    @Option(help: "Per-utterance normalisation: none, mean or meanvar.")
    var cmvn: CmvnMode = .none
    @Option(help: "Delta order appended (0 = none, 2 = deltas and delta-deltas).")
    var deltas: Int = 0
    @Option(help: "Delta window half-width.")
    var deltaWindow: Int = 2

    @Option(help: "Use this channel (0-based) instead of the mean of all channels.")
    var channel: Int?
    @Option(help: "Resampler quality: best, medium or fastest (libsamplerate sinc converters).")
    var resampleQuality: Resampler.Quality = .best

    enum FeatureKind: String, ExpressibleByArgument, CaseIterable { case mfcc, fbank }

    /// The options as the feature library takes them.
    var featureOptions: FeatureOptions {
        var frame = FrameOptions()
        frame.sampleFrequency = sampleFrequency
        frame.frameLength = frameLength
        frame.frameShift = frameShift
        frame.preemphasisCoefficient = preemphasisCoefficient
        frame.removeDcOffset = removeDcOffset
        frame.windowType = windowType
        frame.blackmanCoeff = blackmanCoeff
        frame.roundToPowerOfTwo = roundToPowerOfTwo
        frame.snipEdges = snipEdges
        frame.dither = dither
        frame.ditherSeed = ditherSeed
        var mel = MelOptions()
        mel.numBins = numMelBins
        mel.lowFreq = lowFreq
        mel.highFreq = highFreq
        let kind: FeatureOptions.Kind
        switch type {
        case .mfcc:
            var o = MfccOptions()
            o.frame = frame
            o.mel = mel
            o.numCeps = numCeps
            o.cepstralLifter = cepstralLifter
            o.useEnergy = useEnergy ?? true
            o.rawEnergy = rawEnergy
            o.energyFloor = energyFloor
            kind = .mfcc(o)
        case .fbank:
            var o = FbankOptions()
            o.frame = frame
            o.mel = mel
            o.useEnergy = useEnergy ?? false
            o.rawEnergy = rawEnergy
            o.energyFloor = energyFloor
            o.useLogFbank = useLogFbank
            o.usePower = usePower
            kind = .fbank(o)
        }
        return FeatureOptions(kind: kind, cmvn: cmvn, deltas: deltas, deltaWindow: deltaWindow)
    }

    var audioOptions: AudioLoadOptions {
        AudioLoadOptions(targetSampleRate: Int(sampleFrequency),
                         channel: channel.map { .channel($0) } ?? .average,
                         resampleQuality: resampleQuality)
    }

    mutating func validate() throws {
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, got \(channel)") }
        if sampleFrequency != sampleFrequency.rounded() {
            throw ValidationError("--sample-frequency must be a whole number of Hz, got \(sampleFrequency)")
        }
        do {
            _ = try FeatureExtractor(featureOptions)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

extension WindowType: ExpressibleByArgument {}
extension CmvnMode: ExpressibleByArgument {}
extension Resampler.Quality: ExpressibleByArgument {}

import ArgumentParser
import HarkAudio
import HarkFeatures

/// Feature options under Kaldi's names, shared by every command that computes
/// features so that they cannot compute them differently.
struct FeatureFlags: ParsableArguments {
    // Every option is optional: what is not given keeps the command's default
    // (Kaldi's for `hark features`, the model's for training from a config).
    @Option(help: "Feature type: mfcc or fbank.")
    var type: FeatureKind?

    @Option(help: "Sample rate of the analysis, Hz; audio at another rate is resampled (default 16000).")
    var sampleFrequency: Double?
    @Option(help: "Frame length in milliseconds (default 25).")
    var frameLength: Double?
    @Option(help: "Frame shift in milliseconds (default 10).")
    var frameShift: Double?
    @Option(help: "Pre-emphasis coefficient (default 0.97).")
    var preemphasisCoefficient: Double?
    @Option(help: "Subtract each frame's mean, true/false (default true).")
    var removeDcOffset: Bool?
    @Option(help: "Window: povey, hamming, hanning, rectangular, blackman (default povey).")
    var windowType: WindowType?
    @Option(help: "Constant of the Blackman window (default 0.42).")
    var blackmanCoeff: Double?
    @Option(help: "Zero-pad frames to a power of two before the FFT, true/false (default true).")
    var roundToPowerOfTwo: Bool?
    @Option(help: "Only frames that fit in the signal (true), or frames centred every shift with reflected edges (false) (default true).")
    var snipEdges: Bool?
    @Option(help: "Gaussian dither on the 16-bit sample scale (Kaldi's default is 1; Hark's 0 = off, deterministic).")
    var dither: Double?
    @Option(help: "Seed of the dither noise (default 0).")
    var ditherSeed: UInt64?

    @Option(help: "Number of mel bins (default 23).")
    var numMelBins: Int?
    @Option(help: "Low cut-off of the mel bins, Hz (default 20).")
    var lowFreq: Double?
    @Option(help: "High cut-off of the mel bins, Hz; ≤ 0: offset from Nyquist (default 0).")
    var highFreq: Double?

    @Option(help: "Cepstra kept, C0 included (mfcc; default 13).")
    var numCeps: Int?
    @Option(help: "Cepstral lifter Q, 0 = none (mfcc; default 22).")
    var cepstralLifter: Double?
    @Option(help: "Use the log energy: replaces C0 in mfcc, adds a first column in fbank (default: true for mfcc, false for fbank).")
    var useEnergy: Bool?
    @Option(help: "Energy before pre-emphasis and windowing, true/false (default true).")
    var rawEnergy: Bool?
    @Option(help: "Floor on the energy (not its log); 0 = none (default 0).")
    var energyFloor: Double?
    @Option(help: "Log of the mel energies (fbank; default true).")
    var useLogFbank: Bool?
    @Option(help: "Power spectrum (true) or magnitude (false) (fbank; default true).")
    var usePower: Bool?

    @Option(help: "Per-utterance normalisation: none, mean or meanvar (default none).")
    var cmvn: CmvnMode?
    @Option(help: "Delta order appended: 0 = none, 2 = deltas and delta-deltas (default 0).")
    var deltas: Int?
    @Option(help: "Delta window half-width (default 2).")
    var deltaWindow: Int?

    @Option(help: "Use this channel (0-based) instead of the mean of all channels.")
    var channel: Int?
    @Option(help: "Resampler quality: best, medium or fastest (libsamplerate sinc converters).")
    var resampleQuality: Resampler.Quality = .best

    enum FeatureKind: String, ExpressibleByArgument, CaseIterable { case mfcc, fbank }

    /// Whether any feature option was given.
    var anyGiven: Bool {
        let values: [Any?] = [type, sampleFrequency, frameLength, frameShift, preemphasisCoefficient, removeDcOffset,
                              windowType, blackmanCoeff, roundToPowerOfTwo, snipEdges, dither, ditherSeed, numMelBins,
                              lowFreq, highFreq, numCeps, cepstralLifter, useEnergy, rawEnergy, energyFloor,
                              useLogFbank, usePower, cmvn, deltas, deltaWindow]
        return values.contains { $0 != nil }
    }

    /// The given options applied over `defaults` (a different --type starts
    /// from that type's Kaldi defaults).
    func featureOptions(over defaults: FeatureOptions = .mfcc) -> FeatureOptions {
        var base = defaults
        if let type, type.rawValue != defaults.typeName { base = FeatureOptions(kind: type == .mfcc ? .mfcc(MfccOptions()) : .fbank(FbankOptions()), cmvn: defaults.cmvn, deltas: defaults.deltas, deltaWindow: defaults.deltaWindow) }
        var frame = base.frame
        if let v = sampleFrequency { frame.sampleFrequency = v }
        if let v = frameLength { frame.frameLength = v }
        if let v = frameShift { frame.frameShift = v }
        if let v = preemphasisCoefficient { frame.preemphasisCoefficient = v }
        if let v = removeDcOffset { frame.removeDcOffset = v }
        if let v = windowType { frame.windowType = v }
        if let v = blackmanCoeff { frame.blackmanCoeff = v }
        if let v = roundToPowerOfTwo { frame.roundToPowerOfTwo = v }
        if let v = snipEdges { frame.snipEdges = v }
        if let v = dither { frame.dither = v }
        if let v = ditherSeed { frame.ditherSeed = v }
        switch base.kind {
        case .mfcc(var o):
            o.frame = frame
            if let v = numMelBins { o.mel.numBins = v }
            if let v = lowFreq { o.mel.lowFreq = v }
            if let v = highFreq { o.mel.highFreq = v }
            if let v = numCeps { o.numCeps = v }
            if let v = cepstralLifter { o.cepstralLifter = v }
            if let v = useEnergy { o.useEnergy = v }
            if let v = rawEnergy { o.rawEnergy = v }
            if let v = energyFloor { o.energyFloor = v }
            base.kind = .mfcc(o)
        case .fbank(var o):
            o.frame = frame
            if let v = numMelBins { o.mel.numBins = v }
            if let v = lowFreq { o.mel.lowFreq = v }
            if let v = highFreq { o.mel.highFreq = v }
            if let v = useEnergy { o.useEnergy = v }
            if let v = rawEnergy { o.rawEnergy = v }
            if let v = energyFloor { o.energyFloor = v }
            if let v = useLogFbank { o.useLogFbank = v }
            if let v = usePower { o.usePower = v }
            base.kind = .fbank(o)
        }
        if let v = cmvn { base.cmvn = v }
        if let v = deltas { base.deltas = v }
        if let v = deltaWindow { base.deltaWindow = v }
        return base
    }

    func audioOptions(sampleRate: Int) -> AudioLoadOptions {
        AudioLoadOptions(targetSampleRate: sampleRate, channel: channel.map { .channel($0) } ?? .average,
                         resampleQuality: resampleQuality)
    }

    mutating func validate() throws {
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, got \(channel)") }
        if let f = sampleFrequency, f != f.rounded() {
            throw ValidationError("--sample-frequency must be a whole number of Hz, got \(f)")
        }
        do {
            _ = try FeatureExtractor(featureOptions())
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

extension WindowType: ExpressibleByArgument {}
extension CmvnMode: ExpressibleByArgument {}
extension Resampler.Quality: ExpressibleByArgument {}

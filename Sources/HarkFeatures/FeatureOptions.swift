/// MFCC options. Kaldi: `MfccOptions` in `feature-mfcc.h`.
public struct MfccOptions: Equatable, Sendable {
    public var frame = FrameOptions()
    public var mel = MelOptions()
    /// Cepstra kept, C0 included. Kaldi default 13.
    public var numCeps = 13
    /// Replace C0 by the log energy of the frame. Kaldi default true.
    public var useEnergy = true
    /// Floor on the log energy (absolute, not relative); 0 = none. Kaldi default 0.
    public var energyFloor: Double = 0
    /// Energy before pre-emphasis and windowing (true) or after (false). Kaldi default true.
    public var rawEnergy = true
    /// Q of the sinusoidal lifter 1 + (Q/2)·sin(π i / Q); 0 = none. Kaldi default 22.
    public var cepstralLifter: Double = 22

    public init() {}
}

/// Log-mel filterbank options. Kaldi: `FbankOptions` in `feature-fbank.h`.
public struct FbankOptions: Equatable, Sendable {
    public var frame = FrameOptions()
    public var mel = MelOptions()
    /// Add the log energy as an extra first column. Kaldi default false.
    public var useEnergy = false
    /// Floor on the log energy; 0 = none. Kaldi default 0.
    public var energyFloor: Double = 0
    /// Energy before pre-emphasis and windowing. Kaldi default true.
    public var rawEnergy = true
    /// Log of the filterbank energies (true) or the energies themselves. Kaldi default true.
    public var useLogFbank = true
    /// Power spectrum (true) or magnitude spectrum (false). Kaldi default true.
    public var usePower = true

    public init() {}
}

/// Per-utterance cepstral mean (and variance) normalisation, as Kaldi's
/// `apply-cmvn` with statistics of the utterance itself.
public enum CmvnMode: String, Codable, CaseIterable, Sendable {
    case none, mean, meanvar
}

/// The whole feature pipeline: features, then CMVN, then deltas (Kaldi's usual order).
public struct FeatureOptions: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case mfcc(MfccOptions)
        case fbank(FbankOptions)
    }

    public var kind: Kind
    public var cmvn: CmvnMode = .none
    /// Delta order, 0 = none (Kaldi `add-deltas --delta-order`).
    public var deltas = 0
    /// Delta window half-width (Kaldi `add-deltas --delta-window`, default 2).
    public var deltaWindow = 2

    public init(kind: Kind, cmvn: CmvnMode = .none, deltas: Int = 0, deltaWindow: Int = 2) {
        self.kind = kind
        self.cmvn = cmvn
        self.deltas = deltas
        self.deltaWindow = deltaWindow
    }

    public static var mfcc: FeatureOptions { FeatureOptions(kind: .mfcc(MfccOptions())) }
    public static var fbank: FeatureOptions { FeatureOptions(kind: .fbank(FbankOptions())) }

    /// The frame options of either kind.
    public var frame: FrameOptions {
        get {
            switch kind {
            case .mfcc(let o): return o.frame
            case .fbank(let o): return o.frame
            }
        }
        set {
            switch kind {
            case .mfcc(var o): o.frame = newValue; kind = .mfcc(o)
            case .fbank(var o): o.frame = newValue; kind = .fbank(o)
            }
        }
    }

    /// "mfcc" or "fbank".
    public var typeName: String {
        if case .mfcc = kind { return "mfcc" }
        return "fbank"
    }

    /// Columns of the final feature matrix.
    public var dimension: Int {
        let base: Int
        switch kind {
        case .mfcc(let o): base = o.numCeps
        case .fbank(let o): base = o.mel.numBins + (o.useEnergy ? 1 : 0)
        }
        return base * (deltas + 1)
    }
}

// The options of each stage nest as Kaldi's do. What each option means, its
// default's reason and its accepted values are declared once, in
// `FeatureOption.all` (FeatureOptionTable.swift), under its Kaldi name; the
// defaults themselves are the initial values of the stored properties here.

/// MFCC options. Kaldi: `MfccOptions` in `feature-mfcc.h`.
public struct MfccOptions: Equatable, Sendable {
    /// Framing and windowing of the signal (Kaldi's `FrameExtractionOptions`).
    public var frame = FrameOptions()
    /// The mel filterbank (Kaldi's `MelBanksOptions`).
    public var mel = MelOptions()
    /// --num-ceps
    public var numCeps = 13
    /// --use-energy
    public var useEnergy = true
    /// --energy-floor
    public var energyFloor: Double = 0
    /// --raw-energy
    public var rawEnergy = true
    /// --cepstral-lifter
    public var cepstralLifter: Double = 22

    /// Kaldi's defaults.
    public init() {}
}

/// Log-mel filterbank options. Kaldi: `FbankOptions` in `feature-fbank.h`.
public struct FbankOptions: Equatable, Sendable {
    /// Framing and windowing of the signal (Kaldi's `FrameExtractionOptions`).
    public var frame = FrameOptions()
    /// The mel filterbank (Kaldi's `MelBanksOptions`).
    public var mel = MelOptions()
    /// --use-energy
    public var useEnergy = false
    /// --energy-floor
    public var energyFloor: Double = 0
    /// --raw-energy
    public var rawEnergy = true
    /// --use-log-fbank
    public var useLogFbank = true
    /// --use-power
    public var usePower = true

    /// Kaldi's defaults.
    public init() {}
}

/// The two kinds of features, by their names in `config.json` and on the command line.
public enum FeatureType: String, Codable, CaseIterable, Sendable {
    case mfcc, fbank
}

/// Per-utterance cepstral mean (and variance) normalisation, as Kaldi's
/// `apply-cmvn` with statistics of the utterance itself.
public enum CmvnMode: String, Codable, CaseIterable, Sendable {
    case none, mean, meanvar
}

/// The whole feature pipeline: features, then CMVN, then deltas (Kaldi's usual order).
public struct FeatureOptions: Equatable, Sendable {
    /// The features computed, with their own options.
    public enum Kind: Equatable, Sendable {
        case mfcc(MfccOptions)
        case fbank(FbankOptions)
    }

    /// The features and their options (`type` names which).
    public var kind: Kind
    /// --cmvn
    public var cmvn: CmvnMode
    /// --cmvn-frames
    public var cmvnFrames: CmvnFrames = .all
    /// --deltas
    public var deltas: Int
    /// --delta-window
    public var deltaWindow: Int

    /// Options of the given features; by default without CMVN or deltas, a delta window of 2.
    public init(kind: Kind, cmvn: CmvnMode = .none, deltas: Int = 0, deltaWindow: Int = 2) {
        self.kind = kind
        self.cmvn = cmvn
        self.deltas = deltas
        self.deltaWindow = deltaWindow
    }

    /// The default options of features of `type`.
    public init(type: FeatureType) {
        switch type {
        case .mfcc: self.init(kind: .mfcc(MfccOptions()))
        case .fbank: self.init(kind: .fbank(FbankOptions()))
        }
    }

    /// MFCC with Kaldi's defaults, no CMVN, no deltas.
    public static var mfcc: FeatureOptions { FeatureOptions(type: .mfcc) }
    /// Log-mel filterbank features with Kaldi's defaults, no CMVN, no deltas.
    public static var fbank: FeatureOptions { FeatureOptions(type: .fbank) }

    /// --type. Setting another type starts its options from their defaults;
    /// CMVN and deltas are kept.
    public var type: FeatureType {
        get {
            if case .mfcc = kind { return .mfcc }
            return .fbank
        }
        set {
            guard newValue != type else { return }
            kind = FeatureOptions(type: newValue).kind
        }
    }

    /// "mfcc" or "fbank".
    public var typeName: String { type.rawValue }

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

    /// The mel filterbank options of either kind.
    public var mel: MelOptions {
        get {
            switch kind {
            case .mfcc(let o): return o.mel
            case .fbank(let o): return o.mel
            }
        }
        set {
            switch kind {
            case .mfcc(var o): o.mel = newValue; kind = .mfcc(o)
            case .fbank(var o): o.mel = newValue; kind = .fbank(o)
            }
        }
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

    /// Checks every option of this feature type against its declaration in
    /// `FeatureOption.all`, in table order. `MelBanks` adds Kaldi's checks of
    /// the band against the Nyquist frequency and of the bins against the FFT.
    ///
    /// - Throws: `FeatureError.invalidOption` naming the first bad option and its value.
    public func validate() throws {
        for option in FeatureOption.all { try option.validate(in: self) }
    }
}

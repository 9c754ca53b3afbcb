/// The feature options as a flat JSON object under Kaldi's option names with
/// `-` replaced by `_` (`"num_mel_bins"`, `"frame_shift"`, …), plus `"type"`,
/// `"cmvn"`, `"deltas"`, `"delta_window"`. This is the `"features"` object of
/// a model's `config.json`. Every option is written; on reading, a missing key
/// takes Kaldi's default (Hark's for `dither`) and an unknown key is an error.
extension FeatureOptions: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let frameKeys = ["sample_frequency", "frame_length", "frame_shift", "preemphasis_coefficient",
                            "remove_dc_offset", "window_type", "blackman_coeff", "round_to_power_of_two",
                            "snip_edges", "dither", "dither_seed"]
    static let melKeys = ["num_mel_bins", "low_freq", "high_freq"]
    static let mfccKeys = ["num_ceps", "use_energy", "energy_floor", "raw_energy", "cepstral_lifter"]
    static let fbankKeys = ["use_energy", "energy_floor", "raw_energy", "use_log_fbank", "use_power"]
    static let pipelineKeys = ["type", "cmvn", "deltas", "delta_window"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func value<T: Decodable>(_ name: String, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: Key(name)) ?? fallback
        }
        let type = try value("type", "mfcc")
        var frame = FrameOptions()
        frame.sampleFrequency = try value("sample_frequency", frame.sampleFrequency)
        frame.frameLength = try value("frame_length", frame.frameLength)
        frame.frameShift = try value("frame_shift", frame.frameShift)
        frame.preemphasisCoefficient = try value("preemphasis_coefficient", frame.preemphasisCoefficient)
        frame.removeDcOffset = try value("remove_dc_offset", frame.removeDcOffset)
        frame.windowType = try value("window_type", frame.windowType)
        frame.blackmanCoeff = try value("blackman_coeff", frame.blackmanCoeff)
        frame.roundToPowerOfTwo = try value("round_to_power_of_two", frame.roundToPowerOfTwo)
        frame.snipEdges = try value("snip_edges", frame.snipEdges)
        frame.dither = try value("dither", frame.dither)
        frame.ditherSeed = try value("dither_seed", frame.ditherSeed)
        var mel = MelOptions()
        mel.numBins = try value("num_mel_bins", mel.numBins)
        mel.lowFreq = try value("low_freq", mel.lowFreq)
        mel.highFreq = try value("high_freq", mel.highFreq)

        let allowed: [String]
        switch type {
        case "mfcc":
            var o = MfccOptions()
            o.frame = frame
            o.mel = mel
            o.numCeps = try value("num_ceps", o.numCeps)
            o.useEnergy = try value("use_energy", o.useEnergy)
            o.energyFloor = try value("energy_floor", o.energyFloor)
            o.rawEnergy = try value("raw_energy", o.rawEnergy)
            o.cepstralLifter = try value("cepstral_lifter", o.cepstralLifter)
            kind = .mfcc(o)
            allowed = Self.mfccKeys
        case "fbank":
            var o = FbankOptions()
            o.frame = frame
            o.mel = mel
            o.useEnergy = try value("use_energy", o.useEnergy)
            o.energyFloor = try value("energy_floor", o.energyFloor)
            o.rawEnergy = try value("raw_energy", o.rawEnergy)
            o.useLogFbank = try value("use_log_fbank", o.useLogFbank)
            o.usePower = try value("use_power", o.usePower)
            kind = .fbank(o)
            allowed = Self.fbankKeys
        default:
            throw DecodingError.dataCorruptedError(forKey: Key("type"), in: c,
                debugDescription: "feature type \"\(type)\" is not \"mfcc\" or \"fbank\"")
        }
        cmvn = try value("cmvn", CmvnMode.none)
        deltas = try value("deltas", 0)
        deltaWindow = try value("delta_window", 2)
        let known = Set(Self.frameKeys + Self.melKeys + Self.pipelineKeys + allowed)
        if let unknown = c.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: c,
                debugDescription: "unknown \(type) option \"\(unknown.stringValue)\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        func put<T: Encodable>(_ name: String, _ v: T) throws { try c.encode(v, forKey: Key(name)) }
        try put("type", typeName)
        let frame = self.frame
        try put("sample_frequency", frame.sampleFrequency)
        try put("frame_length", frame.frameLength)
        try put("frame_shift", frame.frameShift)
        try put("preemphasis_coefficient", frame.preemphasisCoefficient)
        try put("remove_dc_offset", frame.removeDcOffset)
        try put("window_type", frame.windowType)
        try put("blackman_coeff", frame.blackmanCoeff)
        try put("round_to_power_of_two", frame.roundToPowerOfTwo)
        try put("snip_edges", frame.snipEdges)
        try put("dither", frame.dither)
        try put("dither_seed", frame.ditherSeed)
        switch kind {
        case .mfcc(let o):
            try put("num_mel_bins", o.mel.numBins)
            try put("low_freq", o.mel.lowFreq)
            try put("high_freq", o.mel.highFreq)
            try put("num_ceps", o.numCeps)
            try put("use_energy", o.useEnergy)
            try put("energy_floor", o.energyFloor)
            try put("raw_energy", o.rawEnergy)
            try put("cepstral_lifter", o.cepstralLifter)
        case .fbank(let o):
            try put("num_mel_bins", o.mel.numBins)
            try put("low_freq", o.mel.lowFreq)
            try put("high_freq", o.mel.highFreq)
            try put("use_energy", o.useEnergy)
            try put("energy_floor", o.energyFloor)
            try put("raw_energy", o.rawEnergy)
            try put("use_log_fbank", o.useLogFbank)
            try put("use_power", o.usePower)
        }
        try put("cmvn", cmvn)
        try put("deltas", deltas)
        try put("delta_window", deltaWindow)
    }
}

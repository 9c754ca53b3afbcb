/// The feature options as a flat JSON object: the `"features"` object of a
/// model's `config.json`, a public format. Each option of `FeatureOption.all`
/// that the feature type has is one key, its Kaldi name with `_` for `-`
/// (`"num_mel_bins"`, `"frame_shift"`, `"type"`, `"cmvn"`, `"deltas"`, …).
///
/// Writing: every option of the type, in table order (writers of config.json
/// sort the keys, so the bytes are as before the table). Reading: a missing key
/// takes its default (Kaldi's; Hark's for `dither`); an unknown key, a key of
/// the other feature type, and a value its declaration rejects are errors
/// that name the key.
extension FeatureOptions: Codable {
    /// A key of the object: some option's `jsonKey`.
    struct JSONKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads the `"features"` object: missing keys take their defaults; an unknown key, a key of the other
    /// feature type or a rejected value is an error naming the key.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        self = .mfcc
        let declared = Dictionary(uniqueKeysWithValues: FeatureOption.all.map { ($0.jsonKey, $0) })
        if let unknown = c.allKeys.first(where: { declared[$0.stringValue] == nil }) {
            let type = (try? c.decodeIfPresent(String.self, forKey: JSONKey("type"))).flatMap { $0 } ?? "mfcc"
            throw DecodingError.dataCorruptedError(
                forKey: unknown, in: c,
                debugDescription: "unknown \(type) option \"\(unknown.stringValue)\"")
        }
        // In table order, so "type" is read first and the other keys land in its options.
        for option in FeatureOption.all {
            let key = JSONKey(option.jsonKey)
            guard c.contains(key) else { continue }
            guard option.scope.includes(type) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c,
                    debugDescription: "\"\(key.stringValue)\" is an \(option.scope.text) option, and \"type\" is \(type.rawValue)")
            }
            try option.decode(from: c, forKey: key, into: &self)
        }
        for option in FeatureOption.all {
            do {
                try option.validate(in: self)
            } catch FeatureError.invalidOption(_, let value, let why) {
                throw DecodingError.dataCorruptedError(
                    forKey: JSONKey(option.jsonKey), in: c,
                    debugDescription: "invalid \(option.jsonKey) \(value): \(why)")
            }
        }
    }

    /// Writes the `"features"` object: every option of the type, in table order.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        for option in FeatureOption.all { try option.encode(self, into: &c) }
    }
}

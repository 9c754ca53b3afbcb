/// One Kaldi feature option, declared once: its Kaldi name, what it means,
/// why its default is what it is, which feature types use it, where it is
/// stored in `FeatureOptions`, and which values it accepts.
///
/// Everything else is derived from the declarations in `FeatureOption.all`:
/// the JSON key (`"frame-length"` → `"frame_length"`) and the `"features"`
/// object of `config.json` (`FeatureOptions+Coding.swift`), validation
/// (`FeatureOptions.validate()`), and the command-line flags and their help
/// (`hark features`, `hark train`). The default is not written here: it is
/// read from a default-constructed `FrameOptions`, `MelOptions`, `MfccOptions`,
/// `FbankOptions` or `FeatureOptions`, whose stored properties hold it.
public struct FeatureOption: Sendable {
    /// Which feature types have the option.
    public enum Scope: Sendable, Equatable {
        /// Applies after the features, or chooses them: type, CMVN, deltas.
        case pipeline
        case mfcc
        case fbank
        /// Both types (framing, mel banks, energy).
        case mfccAndFbank

        /// Whether features of `type` have the option.
        public func includes(_ type: FeatureType) -> Bool {
            switch self {
            case .pipeline, .mfccAndFbank: return true
            case .mfcc: return type == .mfcc
            case .fbank: return type == .fbank
            }
        }

        /// "mfcc, fbank", "mfcc", "fbank" or "pipeline".
        public var text: String {
            switch self {
            case .pipeline: return "pipeline"
            case .mfcc: return "mfcc"
            case .fbank: return "fbank"
            case .mfccAndFbank: return "mfcc, fbank"
            }
        }
    }

    /// What values of the option look like.
    public enum ValueKind: Sendable, Equatable {
        case number  // Double
        case integer  // Int
        case unsignedInteger  // UInt64
        case boolean  // Bool: true or false
        case choice([String])  // an enum: one of these names

        /// Completes "not …" in an error: "a number", "one of povey, hamming, …".
        public var expected: String {
            switch self {
            case .number: return "a finite number"
            case .integer: return "a whole number"
            case .unsignedInteger: return "a whole number ≥ 0"
            case .boolean: return "true or false"
            case .choice(let names) where names.count == 2: return "\(names[0]) or \(names[1])"
            case .choice(let names): return "one of " + names.joined(separator: ", ")
            }
        }

        /// The value placeholder of `--help` when the option has no unit.
        public var placeholder: String {
            switch self {
            case .number: return "number"
            case .integer, .unsignedInteger: return "n"
            case .boolean: return "true|false"
            case .choice(let names): return names.joined(separator: "|")
            }
        }
    }

    /// Where a value is stored in `FeatureOptions`; this also gives the scope.
    enum Place<Value> {
        case pipeline(WritableKeyPath<FeatureOptions, Value>)
        case frame(WritableKeyPath<FrameOptions, Value>)
        case mel(WritableKeyPath<MelOptions, Value>)
        case mfcc(WritableKeyPath<MfccOptions, Value>)
        case fbank(WritableKeyPath<FbankOptions, Value>)
        /// Stored separately by each type (their defaults may differ).
        case mfccAndFbank(WritableKeyPath<MfccOptions, Value>, WritableKeyPath<FbankOptions, Value>)
    }

    /// Kaldi's name, also the flag: `--frame-length`.
    public let name: String
    /// What the option is (one sentence, for `--help`).
    public let summary: String
    /// Why the default is what it is (one line).
    public let reason: String
    /// Which feature types have the option.
    public let scope: Scope
    /// What its values look like.
    public let kind: ValueKind
    /// The unit of a number ("ms", "Hz"), the `--help` placeholder if given.
    public let unit: String?
    /// An option added after `config.json`'s format was first fixed: written
    /// only when it differs from its default, so that the features of every
    /// model made before it encode to the same bytes as they did.
    public let writtenOnlyWhenSet: Bool

    // Type-erased access to the value, made by `init` from the typed place and
    // check. The erased values they take always come from this option's own
    // `read`, `parse` or `decodeValue`, so the casts to `Value` cannot fail.
    private let read: @Sendable (FeatureOptions) -> (any FeatureOptionValue)?
    private let write: @Sendable (any FeatureOptionValue, inout FeatureOptions) -> Void
    private let parse: @Sendable (String) -> (any FeatureOptionValue)?
    private let problem: @Sendable (any FeatureOptionValue, FeatureOptions?) -> String?
    private let decodeValue:
        @Sendable (KeyedDecodingContainer<FeatureOptions.JSONKey>, FeatureOptions.JSONKey) throws -> any FeatureOptionValue

    /// Declares an option.
    ///
    /// - Parameters:
    ///   - place: where the value is stored; it decides the scope and the value kind.
    ///   - check: nil when the value is acceptable, else what is wrong, completing
    ///     "invalid --name=value: …". It gets the other options when they are
    ///     known (the whole `FeatureOptions`), nil when the value is checked on
    ///     its own (a flag, before the command knows what it applies to).
    init<Value: FeatureOptionValue>(
        _ name: String, _ place: Place<Value>, unit: String? = nil,
        _ summary: String, reason: String, writtenOnlyWhenSet: Bool = false,
        check: @escaping @Sendable (Value, FeatureOptions?) -> String? = { _, _ in nil }
    ) {
        self.name = name
        self.writtenOnlyWhenSet = writtenOnlyWhenSet
        self.summary = summary
        self.reason = reason
        self.unit = unit
        kind = Value.kind
        scope = place.scope
        read = { place.value(in: $0) }
        write = { value, options in place.set(value as! Value, in: &options) }
        parse = { Value(text: $0) }
        problem = { value, options in check(value as! Value, options) }
        decodeValue = { try $0.decode(Value.self, forKey: $1) }
    }

    /// The key in a `"features"` object: Kaldi's name with `_` for `-`.
    public var jsonKey: String { String(name.map { $0 == "-" ? "_" : $0 }) }

    /// The value in `options`, spelled as on the command line; nil when
    /// features of `options.type` do not have the option.
    public func text(in options: FeatureOptions) -> String? { read(options)?.text }

    /// The default, read from the default options of each type: "25", or
    /// "true for mfcc, false for fbank" when the types differ.
    public var defaultText: String {
        if scope == .pipeline { return text(in: .mfcc)! }
        let defaults = FeatureType.allCases.compactMap { type in text(in: FeatureOptions(type: type)).map { (type, $0) } }
        if Set(defaults.map(\.1)).count == 1 { return defaults[0].1 }
        return defaults.map { "\($1) for \($0.rawValue)" }.joined(separator: ", ")
    }

    /// Reads a command-line value and checks it as far as it can be checked
    /// alone (the range; not what depends on other options).
    ///
    /// - Throws: `FeatureError.invalidOption` naming the option and the value.
    public func check(_ text: String) throws {
        _ = try value(from: text)
    }

    /// Sets the option from its command-line value, checked as `check(_:)`
    /// does. Does nothing when features of `options.type` do not have it.
    public func set(_ text: String, in options: inout FeatureOptions) throws {
        guard scope.includes(options.type) else { return }
        write(try value(from: text), &options)
    }

    /// Checks the value the option has in `options`, the other options known.
    public func validate(in options: FeatureOptions) throws {
        guard let value = read(options) else { return }
        if let why = problem(value, options) { throw FeatureError.invalidOption(name, value.text, why) }
    }

    private func value(from text: String) throws -> any FeatureOptionValue {
        guard let value = parse(text) else { throw FeatureError.invalidOption(name, text, "not \(kind.expected)") }
        if let why = problem(value, nil) { throw FeatureError.invalidOption(name, text, why) }
        return value
    }

    // MARK: - JSON (used by FeatureOptions+Coding.swift)

    /// Sets the option from `key` of a `"features"` object. A value of the
    /// wrong kind is an error naming the key; the range is checked afterwards,
    /// with the other options, by `FeatureOptions.validate()`.
    func decode(
        from container: KeyedDecodingContainer<FeatureOptions.JSONKey>, forKey key: FeatureOptions.JSONKey,
        into options: inout FeatureOptions
    ) throws {
        let value: any FeatureOptionValue
        do {
            value = try decodeValue(container, key)
        } catch {
            // JSONDecoder's own message would not name the key ("The given data was not valid JSON" for 1e400).
            let written =
                (try? container.decode(String.self, forKey: key)).map { "\"\($0)\"" }
                ?? (try? container.decode(Bool.self, forKey: key)).map { $0.text }
                ?? (try? container.decode(Int64.self, forKey: key)).map { String($0) }
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "invalid \(jsonKey)\(written.map { " " + $0 } ?? ""): not \(kind.expected)")
        }
        write(value, &options)
    }

    /// Writes the option's value in `options`, if features of its type have it.
    func encode(_ options: FeatureOptions, into container: inout KeyedEncodingContainer<FeatureOptions.JSONKey>) throws {
        guard let value = read(options) else { return }
        if writtenOnlyWhenSet && value.text == defaultText { return }
        try container.encode(value, forKey: FeatureOptions.JSONKey(jsonKey))
    }

    /// The option named `name` (Kaldi's spelling), if it is one.
    public static func named(_ name: String) -> FeatureOption? { byName[name] }

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

extension FeatureOption.Place {
    var scope: FeatureOption.Scope {
        switch self {
        case .pipeline: return .pipeline
        case .frame, .mel, .mfccAndFbank: return .mfccAndFbank
        case .mfcc: return .mfcc
        case .fbank: return .fbank
        }
    }

    /// The value in `options`; nil when features of its type do not have it.
    func value(in options: FeatureOptions) -> Value? {
        switch (self, options.kind) {
        case (.pipeline(let path), _): return options[keyPath: path]
        case (.frame(let path), _): return options.frame[keyPath: path]
        case (.mel(let path), _): return options.mel[keyPath: path]
        case (.mfcc(let path), .mfcc(let o)), (.mfccAndFbank(let path, _), .mfcc(let o)): return o[keyPath: path]
        case (.fbank(let path), .fbank(let o)), (.mfccAndFbank(_, let path), .fbank(let o)): return o[keyPath: path]
        case (.mfcc, .fbank), (.fbank, .mfcc): return nil
        }
    }

    /// Sets the value in `options`; nothing happens when features of its type do not have it.
    func set(_ value: Value, in options: inout FeatureOptions) {
        switch (self, options.kind) {
        case (.pipeline(let path), _): options[keyPath: path] = value
        case (.frame(let path), _): options.frame[keyPath: path] = value
        case (.mel(let path), _): options.mel[keyPath: path] = value
        case (.mfcc(let path), .mfcc(var o)), (.mfccAndFbank(let path, _), .mfcc(var o)):
            o[keyPath: path] = value
            options.kind = .mfcc(o)
        case (.fbank(let path), .fbank(var o)), (.mfccAndFbank(_, let path), .fbank(var o)):
            o[keyPath: path] = value
            options.kind = .fbank(o)
        case (.mfcc, .fbank), (.fbank, .mfcc): return
        }
    }
}

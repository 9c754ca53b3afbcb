/// A type a feature option can hold — `Double`, `Int`, `UInt64`, `Bool`, or
/// an enum of names (`WindowType`, `CmvnMode`, `FeatureType`) — and how its
/// values are spelled on the command line, in `--help` and in error messages.
/// JSON uses the type's own `Codable` form, so `config.json` keeps its format.
protocol FeatureOptionValue: Codable, Equatable, Sendable {
    /// What values look like: `--help` shows it, tests pick values by it.
    static var kind: FeatureOption.ValueKind { get }
    /// Reads the command-line spelling; nil when `text` is not a value of this type.
    init?(text: String)
    /// The command-line spelling: how `--help` shows a default and an error shows a value.
    var text: String { get }
}

extension Double: FeatureOptionValue {
    static var kind: FeatureOption.ValueKind { .number }
    init?(text: String) { self.init(text) }
    /// Whole numbers without ".0" (25, not 25.0), as they are written in config.json.
    var text: String {
        isFinite && rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : "\(self)"
    }
}

extension Int: FeatureOptionValue {
    static var kind: FeatureOption.ValueKind { .integer }
    init?(text: String) { self.init(text) }
    var text: String { String(self) }
}

extension UInt64: FeatureOptionValue {
    static var kind: FeatureOption.ValueKind { .unsignedInteger }
    init?(text: String) { self.init(text) }
    var text: String { String(self) }
}

extension Bool: FeatureOptionValue {
    static var kind: FeatureOption.ValueKind { .boolean }
    init?(text: String) { self.init(text) }  // "true" or "false", as Kaldi writes them
    var text: String { self ? "true" : "false" }
}

/// Enums of names are spelled by their raw values on the command line and in JSON.
extension FeatureOptionValue where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var kind: FeatureOption.ValueKind { .choice(allCases.map(\.rawValue)) }
    init?(text: String) { self.init(rawValue: text) }
    var text: String { rawValue }
}

extension WindowType: FeatureOptionValue {}
extension CmvnMode: FeatureOptionValue {}
extension CmvnFrames: FeatureOptionValue {}
extension FeatureType: FeatureOptionValue {}

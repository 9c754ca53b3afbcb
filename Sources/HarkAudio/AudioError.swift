/// Why an audio input could not be used. Every case names the input and says
/// what is wrong in one line a person understands.
public struct AudioError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong; the raw value says it in words.
    public enum Kind: String, Sendable {
        case notFound = "no such file"
        case isDirectory = "is a directory, not an audio file"
        case unreadable = "cannot be read"
        case empty = "empty file"
        case unrecognized = "not a recognised audio file"
        case badHeader = "invalid header"
        case truncated = "truncated file"
        case tooLong = "input too long"
        case badSampleRate = "implausible sample rate"
        case noSamples = "no audio samples"
        case nonFinite = "non-finite sample"
        case badChannel = "no such channel"
        case resampling = "resampling failed"
    }

    /// The input as the user named it (a path, or `-` for standard input).
    public var input: String
    /// What went wrong.
    public var kind: Kind
    /// The details: values found and, where there is one, the likely fix.
    public var detail: String

    /// An error of the given kind about `input`, with details (none by default).
    public init(_ kind: Kind, _ input: String, _ detail: String = "") {
        self.kind = kind
        self.input = input
        self.detail = detail
    }

    /// "input: kind" or "input: kind: detail".
    public var description: String {
        detail.isEmpty ? "\(input): \(kind.rawValue)" : "\(input): \(kind.rawValue): \(detail)"
    }
}

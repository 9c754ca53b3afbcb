/// A file Hark reads or writes (other than audio) is missing or malformed.
public struct IOError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file concerned.
    public var path: String
    /// What is wrong with it, in words.
    public var problem: String

    /// An error about `path`.
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    /// "path: problem".
    public var description: String { "\(path): \(problem)" }
}

import Foundation

/// A language-model file that cannot be read: the file, the 1-based line
/// (nil when the problem is the file as a whole) and what is wrong.
public struct ARPAError: Error, CustomStringConvertible, Equatable {
    /// The file, as named to the reader.
    public var file: String
    /// The 1-based line; nil when the problem is the file as a whole.
    public var line: Int?
    /// What is wrong, in words.
    public var problem: String

    /// An error about `file`, at `line` if given.
    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    /// "file:line: problem", or "file: problem" without a line.
    public var description: String {
        if let line { return "\(file):\(line): \(problem)" }
        return "\(file): \(problem)"
    }
}

/// A corpus from which modified Kneser-Ney cannot estimate a model, and why.
public struct EstimationError: Error, CustomStringConvertible, Equatable {
    /// Why the model cannot be estimated, in words.
    public var problem: String
    /// An error with the given problem.
    public init(_ problem: String) { self.problem = problem }
    /// The problem.
    public var description: String { problem }
}

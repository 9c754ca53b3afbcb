import Foundation

/// A language-model file that cannot be read: the file, the 1-based line
/// (nil when the problem is the file as a whole) and what is wrong.
public struct ARPAError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var problem: String

    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        if let line { return "\(file):\(line): \(problem)" }
        return "\(file): \(problem)"
    }
}

/// A corpus from which modified Kneser-Ney cannot estimate a model, and why.
public struct EstimationError: Error, CustomStringConvertible, Equatable {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}

import Foundation

/// The output units: token strings in index order, one of them the blank.
public struct Vocabulary: Equatable, Sendable {
    public let tokens: [String]
    public let blank: Int
    private let index: [String: Int]

    public init(tokens: [String], blank: Int) {
        self.tokens = tokens
        self.blank = blank
        index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The blank, then every character of `texts` and the space (always: a
    /// model trained on single words can still decode into words).
    public static func characters(of texts: [String]) -> Vocabulary {
        let chars = Set(texts.joined()).union([" "]).map(String.init).sorted()
        return Vocabulary(tokens: ["<blank>"] + chars, blank: 0)
    }

    /// Token indices of a normalised text; nil if a character has no token.
    public func encode(_ text: String) -> [Int]? {
        var out: [Int] = []
        for ch in text {
            guard let i = index[String(ch)], i != blank else { return nil }
            out.append(i)
        }
        return out
    }

    public func decode(_ labels: [Int]) -> String {
        labels.filter { $0 != blank && $0 < tokens.count }.map { tokens[$0] }.joined()
    }
}

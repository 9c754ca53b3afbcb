import Foundation

/// The output units: token strings in index order, one of them the blank.
public struct Vocabulary: Equatable, Sendable {
    /// The token strings, by output index.
    public let tokens: [String]
    /// The index of the CTC blank in `tokens`.
    public let blank: Int
    private let index: [String: Int]

    /// A vocabulary of the given tokens; a token listed twice encodes as its first index.
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

    /// The text of token indices (already collapsed, not per frame): their tokens joined, blanks and indices out of
    /// range left out.
    public func decode(_ labels: [Int]) -> String {
        labels.filter { $0 != blank && $0 < tokens.count }.map { tokens[$0] }.joined()
    }
}

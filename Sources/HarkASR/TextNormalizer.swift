import Foundation

/// How transcripts become token sequences: case folding, then every
/// character not in `keep` is dropped (runs of white space become one space,
/// leading and trailing space removed).
public struct TextNormalizer: Codable, Equatable, Sendable {
    /// Case folding before the filter: to upper case, to lower case, or none.
    public enum Case: String, Codable, Sendable { case upper, lower, keep }

    /// The case folding.
    public var `case`: Case
    /// The characters kept after case folding.
    public var keep: String

    /// A normaliser with the given folding and kept characters (by default: upper case, the space, the apostrophe
    /// and A–Z).
    public init(case: Case = .upper, keep: String = " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
        self.case = `case`
        self.keep = keep
    }

    /// The normaliser that keeps exactly a model's non-blank tokens.
    public init(tokens: [String], blank: Int) {
        let symbols = tokens.enumerated().filter { $0.offset != blank }.map(\.element).joined()
        let hasUpper = symbols.contains { $0.isUppercase }, hasLower = symbols.contains { $0.isLowercase }
        self.init(case: hasUpper && !hasLower ? .upper : (hasLower && !hasUpper ? .lower : .keep), keep: symbols)
    }

    /// `text` folded and filtered: characters not in `keep` dropped, each run of white space between kept characters
    /// one space (none when `keep` has no space), no leading or trailing space.
    public func normalize(_ text: String) -> String {
        let folded: String
        switch self.case {
        case .upper: folded = text.uppercased()
        case .lower: folded = text.lowercased()
        case .keep: folded = text
        }
        let allowed = Set(keep)
        var out = ""
        var pendingSpace = false
        for ch in folded {
            if ch.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            guard allowed.contains(ch) else { continue }
            if pendingSpace && allowed.contains(" ") { out.append(" ") }
            pendingSpace = false
            out.append(ch)
        }
        return out
    }

    /// What normalising `texts` drops: each character it removes (other
    /// than white space) with how often, in order of frequency, and the
    /// texts that end up empty, with one example of each.
    public func removals(_ texts: [String]) -> (characters: [(Character, Int)], emptied: Int, example: (String, String)?) {
        var counts: [Character: Int] = [:]
        var emptied = 0, example: (String, String)?
        let allowed = Set(keep)
        for text in texts {
            let folded: String
            switch self.case {
            case .upper: folded = text.uppercased()
            case .lower: folded = text.lowercased()
            case .keep: folded = text
            }
            var removed = false
            for ch in folded where !ch.isWhitespace && !allowed.contains(ch) {
                counts[ch, default: 0] += 1
                removed = true
            }
            let result = normalize(text)
            if result.isEmpty && !text.allSatisfy(\.isWhitespace) { emptied += 1 }
            if removed && example == nil { example = (text, result) }
        }
        return (counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }, emptied, example)
    }
}

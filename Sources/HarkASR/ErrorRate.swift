/// Substitutions, deletions and insertions of an alignment of a hypothesis to
/// a reference, by Levenshtein distance (each edit costs 1).
public struct EditCounts: Equatable, Codable, Sendable {
    public var substitutions = 0
    public var deletions = 0
    public var insertions = 0
    /// Reference length.
    public var referenceLength = 0

    public init(substitutions: Int = 0, deletions: Int = 0, insertions: Int = 0, referenceLength: Int = 0) {
        self.substitutions = substitutions
        self.deletions = deletions
        self.insertions = insertions
        self.referenceLength = referenceLength
    }

    public var errors: Int { substitutions + deletions + insertions }
    /// errors / reference length (not capped; above 1 with many insertions).
    public var rate: Double { referenceLength > 0 ? Double(errors) / Double(referenceLength) : (errors > 0 ? .infinity : 0) }

    public static func + (a: EditCounts, b: EditCounts) -> EditCounts {
        EditCounts(substitutions: a.substitutions + b.substitutions, deletions: a.deletions + b.deletions,
                   insertions: a.insertions + b.insertions, referenceLength: a.referenceLength + b.referenceLength)
    }

    /// The minimum-edit alignment of `hypothesis` to `reference`; among equal
    /// totals, substitutions are preferred to deletion + insertion pairs.
    public static func align<T: Equatable>(reference: [T], hypothesis: [T]) -> EditCounts {
        let n = reference.count, m = hypothesis.count
        // cost[j] = (total, s, d, i) for the prefix pair ending at j.
        typealias Cell = (total: Int, s: Int, d: Int, i: Int)
        var prev = (0...m).map { Cell($0, 0, 0, $0) }
        for r in 1...max(n, 1) where n > 0 {
            var cur = [Cell](repeating: (0, 0, 0, 0), count: m + 1)
            cur[0] = (r, 0, r, 0)
            for h in 1..<(m + 1) {
                let same = reference[r - 1] == hypothesis[h - 1]
                let diag = prev[h - 1]
                var best: Cell = (diag.total + (same ? 0 : 1), diag.s + (same ? 0 : 1), diag.d, diag.i)
                let del = prev[h]
                if del.total + 1 < best.total { best = (del.total + 1, del.s, del.d + 1, del.i) }
                let ins = cur[h - 1]
                if ins.total + 1 < best.total { best = (ins.total + 1, ins.s, ins.d, ins.i + 1) }
                cur[h] = best
            }
            prev = cur
        }
        let c = prev[m]
        return EditCounts(substitutions: c.s, deletions: c.d, insertions: c.i, referenceLength: n)
    }

    /// Character edits (spaces count as characters).
    public static func characters(reference: String, hypothesis: String) -> EditCounts {
        align(reference: Array(reference), hypothesis: Array(hypothesis))
    }

    /// Word edits (words split on white space).
    public static func words(reference: String, hypothesis: String) -> EditCounts {
        align(reference: reference.split(separator: " ").map(String.init),
              hypothesis: hypothesis.split(separator: " ").map(String.init))
    }
}

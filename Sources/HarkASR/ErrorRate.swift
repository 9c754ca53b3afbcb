import HarkCore

/// Substitutions, deletions and insertions of an alignment of a hypothesis to
/// a reference, by Levenshtein distance (each edit costs 1).
public struct EditCounts: Equatable, Codable, Sendable {
    /// Reference items replaced by another hypothesis item.
    public var substitutions = 0
    /// Reference items missing from the hypothesis.
    public var deletions = 0
    /// Hypothesis items with no reference item.
    public var insertions = 0
    /// Reference length.
    public var referenceLength = 0

    /// Counts of the given edits and reference length (all 0 by default).
    public init(substitutions: Int = 0, deletions: Int = 0, insertions: Int = 0, referenceLength: Int = 0) {
        self.substitutions = substitutions
        self.deletions = deletions
        self.insertions = insertions
        self.referenceLength = referenceLength
    }

    /// The four counts in one order, [substitutions, deletions, insertions,
    /// reference length]: how they travel between the ranks of a job.
    public var packed: [Int] { [substitutions, deletions, insertions, referenceLength] }

    /// Counts from `packed` (four values from `offset`).
    public init<C: Collection>(packed: C, offset: Int = 0) where C.Element == Int, C.Index == Int {
        self.init(
            substitutions: packed[offset], deletions: packed[offset + 1], insertions: packed[offset + 2],
            referenceLength: packed[offset + 3])
    }

    /// The total edits: substitutions + deletions + insertions.
    public var errors: Int { substitutions + deletions + insertions }
    /// errors / reference length (not capped; above 1 with many insertions).
    public var rate: Double { referenceLength > 0 ? Double(errors) / Double(referenceLength) : (errors > 0 ? .infinity : 0) }

    /// The counts of two alignments together, each count and the reference lengths summed.
    public static func + (a: EditCounts, b: EditCounts) -> EditCounts {
        EditCounts(
            substitutions: a.substitutions + b.substitutions, deletions: a.deletions + b.deletions,
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
                let cost = reference[r - 1] == hypothesis[h - 1] ? 0 : 1
                let diag = prev[h - 1], del = prev[h], ins = cur[h - 1]
                switch cheapestStep(diagonal: diag.total + cost, deletion: del.total + 1, insertion: ins.total + 1) {
                case .diagonal: cur[h] = (diag.total + cost, diag.s + cost, diag.d, diag.i)
                case .deletion: cur[h] = (del.total + 1, del.s, del.d + 1, del.i)
                case .insertion: cur[h] = (ins.total + 1, ins.s, ins.d, ins.i + 1)
                }
            }
            prev = cur
        }
        let c = prev[m]
        return EditCounts(substitutions: c.s, deletions: c.d, insertions: c.i, referenceLength: n)
    }

    /// The step an alignment cell takes, given the totals through each
    /// neighbour: among equal totals the diagonal (a match or a
    /// substitution), then a deletion, then an insertion. `align` and
    /// `alignment` both choose by it, so they count the same edits.
    enum Step: UInt8 { case diagonal, deletion, insertion }

    @inline(__always)
    static func cheapestStep(diagonal: Int, deletion: Int, insertion: Int) -> Step {
        var step = Step.diagonal, best = diagonal
        if deletion < best { step = .deletion; best = deletion }
        if insertion < best { step = .insertion }
        return step
    }

    /// Character edits (spaces count as characters).
    public static func characters(reference: String, hypothesis: String) -> EditCounts {
        align(reference: Array(reference), hypothesis: Array(hypothesis))
    }

    /// Word edits (words split on white space).
    public static func words(reference: String, hypothesis: String) -> EditCounts {
        align(
            reference: reference.split(separator: " ").map(String.init),
            hypothesis: hypothesis.split(separator: " ").map(String.init))
    }
}

/// One column of an alignment: a reference item, a hypothesis item, or both.
public struct AlignedPair<T: Equatable>: Equatable {
    /// What the column is: the same item on both sides, one replaced by another, a reference item missing, or a
    /// hypothesis item added.
    public enum Operation: String, Sendable { case match, substitution, deletion, insertion }
    /// The reference item; nil for an insertion.
    public var reference: T?
    /// The hypothesis item; nil for a deletion.
    public var hypothesis: T?
    /// The column's edit, or `match`.
    public var operation: Operation
}

extension EditCounts {
    /// Longest alignment table (reference × hypothesis cells) `alignment` builds.
    public static let maxAlignmentCells = 16_000_000

    /// The minimum-edit alignment itself, column by column, with the same
    /// choices as `align` (a substitution before a deletion before an
    /// insertion among equal totals), so its operations count to the same
    /// `EditCounts`. Nil when the table would exceed `maxAlignmentCells`.
    public static func alignment<T: Equatable>(reference: [T], hypothesis: [T]) -> [AlignedPair<T>]? {
        let n = reference.count, m = hypothesis.count
        guard (n + 1) * (m + 1) <= maxAlignmentCells else { return nil }
        // choice[r][h]: the step into cell (r, h); the first row inserts, the first column deletes.
        var choice = [Step](repeating: .diagonal, count: (n + 1) * (m + 1))
        var prev = Array(0...m)
        for h in 1..<(m + 1) { choice[h] = .insertion }
        for r in 1..<(n + 1) {
            var cur = [Int](repeating: 0, count: m + 1)
            cur[0] = r
            choice[r * (m + 1)] = .deletion
            for h in 1..<(m + 1) {
                let diagonal = prev[h - 1] + (reference[r - 1] == hypothesis[h - 1] ? 0 : 1)
                let step = cheapestStep(diagonal: diagonal, deletion: prev[h] + 1, insertion: cur[h - 1] + 1)
                switch step {
                case .diagonal: cur[h] = diagonal
                case .deletion: cur[h] = prev[h] + 1
                case .insertion: cur[h] = cur[h - 1] + 1
                }
                choice[r * (m + 1) + h] = step
            }
            prev = cur
        }
        var pairs: [AlignedPair<T>] = []
        var r = n, h = m
        while r > 0 || h > 0 {
            switch choice[r * (m + 1) + h] {
            case .diagonal:
                let same = reference[r - 1] == hypothesis[h - 1]
                pairs.append(
                    AlignedPair(reference: reference[r - 1], hypothesis: hypothesis[h - 1], operation: same ? .match : .substitution))
                r -= 1; h -= 1
            case .deletion:
                pairs.append(AlignedPair(reference: reference[r - 1], hypothesis: nil, operation: .deletion)); r -= 1
            case .insertion:
                pairs.append(AlignedPair(reference: nil, hypothesis: hypothesis[h - 1], operation: .insertion)); h -= 1
            }
        }
        return pairs.reversed()
    }
}

/// A bootstrap confidence interval of an error rate, as Kaldi's
/// `compute-wer-bootci`: utterances are drawn with replacement (as many as
/// there are) `replications` times; each draw's rate is its errors over its
/// reference length; the interval is the mean of those rates ± 1.96 standard
/// deviations (95%).
public struct BootstrapInterval: Equatable, Sendable {
    /// The mean of the replications' rates.
    public var mean: Double
    /// Half the interval's width.
    public var halfWidth: Double
    /// The interval's lower end, mean − halfWidth (not clamped at 0).
    public var lower: Double { mean - halfWidth }
    /// The interval's upper end, mean + halfWidth.
    public var upper: Double { mean + halfWidth }

    /// An interval of the given mean and half-width.
    public init(mean: Double, halfWidth: Double) {
        self.mean = mean
        self.halfWidth = halfWidth
    }

    /// - Parameter counts: per utterance, its edit counts. Nil without utterances or reference.
    public static func estimate(_ counts: [EditCounts], replications: Int = 10_000, seed: UInt64 = 0) -> BootstrapInterval? {
        guard !counts.isEmpty, replications > 1, counts.contains(where: { $0.referenceLength > 0 }) else { return nil }
        var generator = SeededGenerator(seed: seed)
        var sum = 0.0, sumSquares = 0.0, kept = 0
        for _ in 0..<replications {
            var errors = 0, length = 0
            for _ in 0..<counts.count {
                let c = counts[Int(generator.next() % UInt64(counts.count))]
                errors += c.errors
                length += c.referenceLength
            }
            guard length > 0 else { continue }
            let rate = Double(errors) / Double(length)
            sum += rate
            sumSquares += rate * rate
            kept += 1
        }
        guard kept > 0 else { return nil }
        let mean = sum / Double(kept)
        return BootstrapInterval(mean: mean, halfWidth: 1.96 * max(0, sumSquares / Double(kept) - mean * mean).squareRoot())
    }
}

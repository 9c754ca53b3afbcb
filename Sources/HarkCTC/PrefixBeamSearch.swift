import Foundation
import HarkCore

/// A score added to a hypothesis each time it is extended by a token — the
/// hook for a language model. A word-level LM returns its log-probability of
/// the word just completed when `token` is a word boundary, and 0 otherwise.
public protocol PrefixScorer {
    /// log-weight of extending `prefix` (token indices) by `token`.
    func score(prefix: [Int], extendedBy token: Int) -> Float
}

/// Prefix beam search for CTC (Hannun et al., 2014, lexicon-free).
public struct PrefixBeamSearch {
    public var beamWidth: Int
    /// Hypotheses returned, best first.
    public var nBest: Int
    public var blank: Int
    /// Tokens whose log-probability at a frame is below this are not tried
    /// there (−∞: try every token).
    public var tokenThreshold: Float
    public var scorer: PrefixScorer?
    /// The scorer's weight in the ranking score.
    public var scorerWeight: Float

    public init(beamWidth: Int = 16, nBest: Int = 1, blank: Int = 0, tokenThreshold: Float = -.infinity,
                scorer: PrefixScorer? = nil, scorerWeight: Float = 1) {
        precondition(beamWidth >= 1 && nBest >= 1, "beam width and n-best must be at least 1")
        self.beamWidth = beamWidth
        self.nBest = nBest
        self.blank = blank
        self.tokenThreshold = tokenThreshold
        self.scorer = scorer
        self.scorerWeight = scorerWeight
    }

    public struct Hypothesis: Equatable, Sendable {
        public var tokens: [Int]
        /// log P(tokens | audio) summed over the alignments the search kept.
        public var logProbability: Float
        /// The ranking score: logProbability + weight · Σ scorer scores.
        public var score: Float
    }

    /// A prefix in the search: log-probabilities of its alignments ending in a
    /// blank (pb) and in its last token (pnb).
    private struct Entry {
        var pb = -Double.infinity
        var pnb = -Double.infinity
        var extra: Double = 0
        var total: Double { logAdd(pb, pnb) }
    }

    /// - Shapes: logProbs [T, K] of one utterance.
    public func decode(_ logProbs: Matrix, length: Int? = nil) -> [Hypothesis] {
        let T = min(length ?? logProbs.rows, logProbs.rows), K = logProbs.cols
        // Prefixes as nodes of a tree: node 0 is the empty prefix.
        var tokenOf: [Int] = [-1], parentOf: [Int] = [-1], children: [[Int: Int]] = [[:]]
        func child(_ node: Int, _ k: Int) -> Int {
            if let c = children[node][k] { return c }
            tokenOf.append(k); parentOf.append(node); children.append([:])
            children[node][k] = tokenOf.count - 1
            return tokenOf.count - 1
        }
        func tokens(_ node: Int) -> [Int] {
            var out: [Int] = [], n = node
            while n > 0 { out.append(tokenOf[n]); n = parentOf[n] }
            return out.reversed()
        }
        var beam: [Int: Entry] = [0: Entry(pb: 0, pnb: -.infinity)]
        for t in 0..<T {
            var next: [Int: Entry] = [:]
            let row = (0..<K).map { Double(logProbs[t, $0]) }
            let candidates = (0..<K).filter { $0 != blank && Float(row[$0]) >= tokenThreshold }
            for (node, e) in beam {
                let total = e.total
                // Stay on the same prefix: a blank, or the last token repeated.
                var same = next[node] ?? Entry(extra: e.extra)
                same.pb = logAdd(same.pb, total + row[blank])
                let last = node > 0 ? tokenOf[node] : -1
                if last >= 0 { same.pnb = logAdd(same.pnb, e.pnb + row[last]) }
                next[node] = same
                // Extend by a token; a repeat of the last token needs a blank between.
                for k in candidates {
                    let c = child(node, k)
                    var ext = next[c] ?? Entry(extra: e.extra + (scorer.map { Double($0.score(prefix: tokens(node), extendedBy: k)) } ?? 0))
                    ext.pnb = logAdd(ext.pnb, (k == last ? e.pb : total) + row[k])
                    next[c] = ext
                }
            }
            let w = Double(scorerWeight)
            // Prefixes no alignment reaches (a repeat without the frames for a blank) are dropped.
            beam = Dictionary(uniqueKeysWithValues: next.filter { $0.value.total > -.infinity }.sorted {
                ($0.value.total + w * $0.value.extra, $1.key) > ($1.value.total + w * $1.value.extra, $0.key)
            }.prefix(beamWidth).map { ($0.key, $0.value) })
        }
        let w = Double(scorerWeight)
        return beam.map { node, e in
            Hypothesis(tokens: tokens(node), logProbability: Float(e.total), score: Float(e.total + w * e.extra))
        }.sorted { ($0.score, $1.tokens.count) > ($1.score, $0.tokens.count) }.prefix(nBest).map { $0 }
    }
}

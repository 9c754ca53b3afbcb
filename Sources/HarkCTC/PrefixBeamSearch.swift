import Foundation
import HarkCore

/// A score added to a hypothesis as it grows, token by token — the hook for
/// a language model. A word LM keeps the words so far and the partial word
/// in its `State`, returns its weighted log-probability when `token` ends a
/// word (0 or a partial-word estimate otherwise), and the end-of-sentence
/// score in `finish`.
public protocol PrefixScorer: Sendable {
    associatedtype State
    /// The state of the empty prefix.
    var initialState: State { get }
    /// The state after appending `token`, and the log-weight that adds to the hypothesis's score.
    func advance(_ state: State, token: Int) -> (state: State, score: Float)
    /// The log-weight added when a hypothesis ends in `state`.
    func finish(_ state: State) -> Float
}

/// Prefix beam search for CTC (Hannun et al., 2014, lexicon-free), with an
/// optional `PrefixScorer` fused into the ranking. Every prefix keeps the
/// frames that emitted its tokens, so beam results carry token times and
/// confidences as greedy ones do.
public struct PrefixBeamSearch {
    public var options: BeamSearchOptions
    public var blank: Int

    public init(_ options: BeamSearchOptions, blank: Int = 0) {
        precondition(options.width >= 1 && options.nBest >= 1, "beam width and n-best must be at least 1")
        self.options = options
        self.blank = blank
    }

    /// The n best hypotheses of one utterance, best first.
    ///
    /// - Shapes: logProbs [T, K] (rows beyond `length` are ignored).
    public func decode(_ logProbs: Matrix, length: Int? = nil) -> [Hypothesis] {
        if let scorer = options.scorer { return search(logProbs, length: length, scorer: scorer) }
        return search(logProbs, length: length, scorer: NoScorer())
    }

    /// A prefix in the search: log-probabilities of its alignments ending in a
    /// blank (pb) and in its last token (pnb), what the scorer added, and the
    /// timing of its tokens along its likeliest alignment.
    private struct Entry<State> {
        var pb = -Double.infinity
        var pnb = -Double.infinity
        var extra: Double
        var state: State
        /// The head of its emission chain (-1: no token), and the log-probability
        /// of the alignment that chain describes.
        var emission = -1
        var emissionWeight = -Double.infinity
        var total: Double { logAdd(pb, pnb) }
        var score: Double { total + extra }

        /// Adds an alignment's probability; its timing becomes the prefix's if it is the likeliest so far.
        mutating func add(blankEnding: Bool, _ logP: Double, emission make: () -> Int) {
            if blankEnding { pb = logAdd(pb, logP) } else { pnb = logAdd(pnb, logP) }
            if logP > emissionWeight {
                emissionWeight = logP
                emission = make()
            }
        }
    }

    /// Where one token of a hypothesis was heard: its run of frames, the sum
    /// of its posteriors there, and the emission of the token before it.
    /// Chains share their older links; a changed run gets a new link.
    private struct Emission {
        var token: Int
        var firstFrame: Int
        var lastFrame: Int
        var posteriorSum: Double
        var previous: Int
    }

    private func search<S: PrefixScorer>(_ logProbs: Matrix, length: Int?, scorer: S) -> [Hypothesis] {
        let T = min(length ?? logProbs.rows, logProbs.rows), K = logProbs.cols
        // Prefixes as nodes of a tree: node 0 is the empty prefix.
        var tokenOf: [Int] = [-1], parentOf: [Int] = [-1], children: [[Int: Int]] = [[:]]
        func child(_ node: Int, _ k: Int) -> Int {
            if let c = children[node][k] { return c }
            tokenOf.append(k); parentOf.append(node); children.append([:])
            children[node][k] = tokenOf.count - 1
            return tokenOf.count - 1
        }
        var chain: [Emission] = []
        func link(_ e: Emission) -> Int { chain.append(e); return chain.count - 1 }
        var beam: [Int: Entry<S.State>] = [0: Entry(pb: 0, pnb: -.infinity, extra: 0, state: scorer.initialState)]
        var row = [Double](repeating: 0, count: K)
        for t in 0..<T {
            var next: [Int: Entry<S.State>] = [:]
            for k in 0..<K { row[k] = Double(logProbs[t, k]) }
            let candidates = (0..<K).filter { $0 != blank && Float(row[$0]) >= options.tokenThreshold }
            for (node, e) in beam {
                let total = e.total
                // Stay on the same prefix: a blank, or the last token repeated (its run goes on at t).
                var same = next[node] ?? Entry(extra: e.extra, state: e.state)
                same.add(blankEnding: true, total + row[blank]) { e.emission }
                let last = node > 0 ? tokenOf[node] : -1
                if last >= 0 {
                    same.add(blankEnding: false, e.pnb + row[last]) {
                        var run = chain[e.emission]
                        run.lastFrame = t
                        run.posteriorSum += exp(row[last])
                        return link(run)
                    }
                }
                next[node] = same
                // Extend by a token; a repeat of the last token needs a blank between.
                for k in candidates {
                    let c = child(node, k)
                    if next[c] == nil {
                        if let kept = beam[c] {
                            next[c] = Entry(extra: kept.extra, state: kept.state)
                        } else {
                            let (state, score) = scorer.advance(e.state, token: k)
                            next[c] = Entry(extra: e.extra + Double(score), state: state)
                        }
                    }
                    next[c]!.add(blankEnding: false, (k == last ? e.pb : total) + row[k]) {
                        link(Emission(token: k, firstFrame: t, lastFrame: t, posteriorSum: exp(row[k]), previous: e.emission))
                    }
                }
            }
            // Prefixes no alignment reaches (a repeat without the frames for a blank), and
            // those the scorer rules out, are dropped.
            beam = Dictionary(uniqueKeysWithValues: next.filter { $0.value.total > -.infinity && $0.value.extra > -.infinity }.sorted {
                ($0.value.score, $1.key) > ($1.value.score, $0.key)
            }.prefix(options.width).map { ($0.key, $0.value) })
        }
        func tokens(_ head: Int) -> [DecodedToken] {
            var out: [DecodedToken] = [], i = head
            while i >= 0 {
                let e = chain[i]
                out.append(DecodedToken(token: e.token, firstFrame: e.firstFrame, lastFrame: e.lastFrame,
                                        confidence: Float(e.posteriorSum / Double(e.lastFrame - e.firstFrame + 1))))
                i = e.previous
            }
            return out.reversed()
        }
        return beam.map { node, e -> (Int, Hypothesis) in
            let end = Double(scorer.finish(e.state))
            return (node, Hypothesis(tokens: tokens(e.emission), logProbability: Float(e.total),
                                     scorerScore: Float(e.extra + end), score: Float(e.score + end)))
        }.sorted { ($0.1.score, $1.1.tokens.count, $1.0) > ($1.1.score, $0.1.tokens.count, $0.0) }
            .prefix(options.nBest).map(\.1)
    }
}

/// No scorer: every extension adds 0.
struct NoScorer: PrefixScorer {
    var initialState: Void { () }
    func advance(_ state: Void, token: Int) -> (state: Void, score: Float) { ((), 0) }
    func finish(_ state: Void) -> Float { 0 }
}

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
        let search = stream()
        search.consume(logProbs, rows: 0..<min(length ?? logProbs.rows, logProbs.rows))
        return search.finish()
    }

    /// A search over log-probabilities that arrive in blocks (a long
    /// recording, window by window). Memory stays flat: every
    /// `compactionInterval` frames, prefixes and emissions no beam entry can
    /// reach any more are dropped, and the tokens every entry shares are set
    /// aside. The result equals `decode` of all the rows at once.
    public func stream() -> BeamSearchStream {
        func make<S: PrefixScorer>(_ scorer: S) -> BeamSearchStream {
            BeamSearchStream(BeamSearchState(options: options, blank: blank, scorer: scorer))
        }
        if let scorer = options.scorer { return make(scorer) }
        return make(NoScorer())
    }
}

/// An ongoing prefix beam search: `consume` rows of log-probabilities as they
/// come, then `finish` for the n best hypotheses.
public final class BeamSearchStream {
    private let state: AnyBeamSearchState

    fileprivate init(_ state: AnyBeamSearchState) { self.state = state }

    /// Frames searched so far.
    public var frames: Int { state.frame }

    /// Frames between compactions (tests set it to show that compaction changes nothing).
    var compactionInterval: Int {
        get { state.compactionInterval }
        set { state.compactionInterval = max(1, newValue) }
    }

    /// Searches rows `rows` of `logProbs` (all of them by default) as the next frames.
    ///
    /// - Shapes: logProbs [t, K].
    public func consume(_ logProbs: Matrix, rows: Range<Int>? = nil) {
        state.consume(logProbs, rows: rows ?? 0..<logProbs.rows)
    }

    /// The n best hypotheses, best first.
    public func finish() -> [Hypothesis] { state.finish() }
}

private class AnyBeamSearchState {
    var frame = 0
    /// Frames between compactions of the prefix tree and the emission chain.
    var compactionInterval = 256
    func consume(_ logProbs: Matrix, rows: Range<Int>) {}
    func finish() -> [Hypothesis] { [] }
}

/// The search itself (Hannun et al., 2014): the beam of prefixes, the prefix
/// tree that identifies them, and the chain of token emissions behind them.
private final class BeamSearchState<S: PrefixScorer>: AnyBeamSearchState {
    let options: BeamSearchOptions
    let blank: Int
    let scorer: S

    // Prefixes as nodes of a tree: node 0 is the empty prefix (token −1).
    // Node numbers only grow (compaction keeps their order), so ties broken
    // by node number break as they would without compaction.
    var tokenOf: [Int] = [-1], parentOf: [Int] = [-1], depthOf: [Int] = [0], children: [[Int: Int]] = [[:]]
    var chain: [BeamEmission] = []
    /// The tokens every entry of the beam shares, oldest first (set aside from the chain).
    var shared: [DecodedToken] = []
    var beam: [Int: BeamEntry]
    /// The scorer states the entries point to.
    var states: [S.State] = []
    var row: [Double]

    init(options: BeamSearchOptions, blank: Int, scorer: S) {
        self.options = options
        self.blank = blank
        self.scorer = scorer
        states = [scorer.initialState]
        beam = [0: BeamEntry(pb: 0, pnb: -.infinity, extra: 0, state: 0)]
        row = []
    }

    func child(_ node: Int, _ k: Int) -> Int {
        if let c = children[node][k] { return c }
        tokenOf.append(k); parentOf.append(node); depthOf.append(depthOf[node] + 1); children.append([:])
        children[node][k] = tokenOf.count - 1
        return tokenOf.count - 1
    }

    func link(_ e: BeamEmission) -> Int { chain.append(e); return chain.count - 1 }

    override func consume(_ logProbs: Matrix, rows: Range<Int>) {
        let K = logProbs.cols
        if row.count != K { row = [Double](repeating: 0, count: K) }
        for r in rows {
            step(logProbs, r, frame)
            frame += 1
            if frame % compactionInterval == 0 { compact() }
        }
    }

    /// One frame: row r of `logProbs` is frame t.
    private func step(_ logProbs: Matrix, _ r: Int, _ t: Int) {
        let K = logProbs.cols
        var next: [Int: BeamEntry] = [:]
        for k in 0..<K { row[k] = Double(logProbs[r, k]) }
        let candidates = (0..<K).filter { $0 != blank && Float(row[$0]) >= options.tokenThreshold }
        for (node, e) in beam {
            let total = e.total
            // Stay on the same prefix: a blank, or the last token repeated (its run goes on at t).
            var same = next[node] ?? BeamEntry(extra: e.extra, state: e.state)
            same.add(blankEnding: true, total + row[blank]) { e.emission }
            let last = tokenOf[node]
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
                        next[c] = BeamEntry(extra: kept.extra, state: kept.state)
                    } else {
                        let (state, score) = scorer.advance(states[e.state], token: k)
                        states.append(state)
                        next[c] = BeamEntry(extra: e.extra + Double(score), state: states.count - 1)
                    }
                }
                let depth = e.emission >= 0 ? chain[e.emission].depth + 1 : shared.count + 1
                next[c]!.add(blankEnding: false, (k == last ? e.pb : total) + row[k]) {
                    link(BeamEmission(token: k, firstFrame: t, lastFrame: t, posteriorSum: exp(row[k]),
                                  previous: e.emission, depth: depth))
                }
            }
        }
        // Prefixes no alignment reaches (a repeat without the frames for a blank), those
        // the scorer rules out, and those too far below the best are dropped.
        let best = next.values.map(\.score).max() ?? -.infinity
        let floor = Double(options.scorePruning) == -.infinity ? -.infinity : best + Double(options.scorePruning)
        beam = Dictionary(uniqueKeysWithValues: next.filter {
            $0.value.total > -.infinity && $0.value.extra > -.infinity && $0.value.score >= floor
        }.sorted {
            ($0.value.score, $1.key) > ($1.value.score, $0.key)
        }.prefix(options.width).map { ($0.key, $0.value) })
    }

    /// Drops the prefixes and emissions the beam no longer needs.
    ///
    /// Prefix tree: a new prefix is always a beam entry's extension, so the
    /// only nodes that can ever be reached again lie on paths from one entry
    /// down to another; those are kept (all ancestors of entries no shallower
    /// than the shallowest entry), with their links between them.
    ///
    /// Emissions: the links reachable from the entries' heads are kept; the
    /// links every entry's chain passes through before its head (which no
    /// later frame can change) are moved to `shared`.
    private func compact() {
        // The tree.
        let shallowest = beam.keys.map { depthOf[$0] }.min() ?? 0
        var keep = Set<Int>()
        for node in beam.keys {
            var n = node
            while n >= 0 && depthOf[n] >= shallowest && keep.insert(n).inserted { n = parentOf[n] }
        }
        let order = keep.sorted()
        var newId = [Int: Int](minimumCapacity: order.count)
        for (i, old) in order.enumerated() { newId[old] = i }
        tokenOf = order.map { tokenOf[$0] }
        depthOf = order.map { depthOf[$0] }
        let oldParent = parentOf, oldChildren = children
        parentOf = order.map { newId[oldParent[$0]] ?? -1 }
        children = order.map { old in
            var c: [Int: Int] = [:]
            for (k, v) in oldChildren[old] { if let n = newId[v] { c[k] = n } }
            return c
        }
        var remapped: [Int: BeamEntry] = [:]
        for (node, e) in beam { if let n = newId[node] { remapped[n] = e } }
        beam = remapped

        // The scorer states the entries use.
        let usedStates = Set(beam.values.map(\.state)).sorted()
        var newState = [Int: Int](minimumCapacity: usedStates.count)
        for (i, old) in usedStates.enumerated() { newState[old] = i }
        states = usedStates.map { states[$0] }
        for (node, e) in beam { beam[node]!.state = newState[e.state] ?? 0 }

        // The chain: the latest link that every entry's head has strictly before it.
        let heads = Array(beam.values.map(\.emission))
        var common = -1
        if !heads.contains(-1) {
            var front = Set(heads.map { chain[$0].previous })
            while front.count > 1, !front.contains(-1) {
                let deepest = front.max { chain[$0].depth < chain[$1].depth }!
                front.remove(deepest)
                front.insert(chain[deepest].previous)
            }
            if front.count == 1, let only = front.first { common = only }
        }
        if common >= 0 {
            var run: [DecodedToken] = []
            var i = common
            while i >= 0 { run.append(chain[i].decoded); i = chain[i].previous }
            shared.append(contentsOf: run.reversed())
        }
        var live = Set<Int>()
        for h in heads {
            var i = h
            while i >= 0 && i != common && live.insert(i).inserted { i = chain[i].previous }
        }
        let links = live.sorted()
        var newLink = [Int: Int](minimumCapacity: links.count)
        for (i, old) in links.enumerated() { newLink[old] = i }
        chain = links.map { old in
            var e = chain[old]
            e.previous = e.previous == common ? -1 : (newLink[e.previous] ?? -1)
            return e
        }
        for (node, e) in beam { beam[node]!.emission = e.emission >= 0 ? (newLink[e.emission] ?? -1) : -1 }
    }

    override func finish() -> [Hypothesis] {
        func tokens(_ head: Int) -> [DecodedToken] {
            var out: [DecodedToken] = [], i = head
            while i >= 0 { out.append(chain[i].decoded); i = chain[i].previous }
            return shared + out.reversed()
        }
        // Ranked before the tokens are gathered: only the n best are built
        // (each holds every token of a long recording).
        let ranked = beam.map { node, e -> (node: Int, entry: BeamEntry, end: Double, count: Int) in
            (node, e, Double(scorer.finish(states[e.state])), e.emission >= 0 ? chain[e.emission].depth : shared.count)
        }.sorted {
            (Float($0.entry.score + $0.end), $1.count, $1.node) > (Float($1.entry.score + $1.end), $0.count, $0.node)
        }
        return ranked.prefix(options.nBest).map { r in
            Hypothesis(tokens: tokens(r.entry.emission), logProbability: Float(r.entry.total),
                       scorerScore: Float(r.entry.extra + r.end), score: Float(r.entry.score + r.end))
        }
    }
}

/// A prefix in the search: log-probabilities of its alignments ending in a
/// blank (pb) and in its last token (pnb), what the scorer added, and the
/// timing of its tokens along its likeliest alignment.
struct BeamEntry {
    var pb = -Double.infinity
    var pnb = -Double.infinity
    var extra: Double
    /// Its scorer state: an index into the search's `states`, so that this type is not generic.
    var state: Int
    /// The head of its emission chain (-1: no token since the shared,
    /// set-aside tokens), and the log-probability of the alignment that chain describes.
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
struct BeamEmission {
    var token: Int
    var firstFrame: Int
    var lastFrame: Int
    var posteriorSum: Double
    var previous: Int
    /// Tokens up to and including this one, set-aside ones counted.
    var depth: Int

    var decoded: DecodedToken {
        DecodedToken(token: token, firstFrame: firstFrame, lastFrame: lastFrame,
                     confidence: Float(posteriorSum / Double(lastFrame - firstFrame + 1)))
    }
}

/// No scorer: every extension adds 0.
struct NoScorer: PrefixScorer {
    var initialState: Void { () }
    func advance(_ state: Void, token: Int) -> (state: Void, score: Float) { ((), 0) }
    func finish(_ state: Void) -> Float { 0 }
}

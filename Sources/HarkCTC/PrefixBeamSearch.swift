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
    /// The same in place: `state` becomes the state after `token`; returns
    /// the log-weight. The search calls this one (a scorer with a large
    /// `State` implements it, and the other in its terms, to spare copies).
    func advance(_ state: inout State, token: Int) -> Float
    /// The log-weight added when a hypothesis ends in `state`.
    func finish(_ state: State) -> Float
    /// The store the search keeps this scorer's states in. The default,
    /// `ScorerStateArray(self)`, is generic code the search runs without
    /// knowing `State`; a scorer whose module knows its concrete type returns
    /// a non-generic store there (see `ScorerStateArray`).
    func makeStates() -> any PrefixScorerStates
}

extension PrefixScorer {
    public func makeStates() -> any PrefixScorerStates { ScorerStateArray(self) }

    public func advance(_ state: inout State, token: Int) -> Float {
        let (next, score) = advance(state, token: token)
        state = next
        return score
    }
}

/// A scorer's states held for the search, by index (state 0: the empty
/// prefix's). The search calls it once per new prefix, and so never handles
/// a `State` itself: a search generic over `State` would run as unspecialised
/// generic code (the scorer comes as `any PrefixScorer`), every field reached
/// through run-time type metadata.
public protocol PrefixScorerStates: AnyObject {
    /// States held.
    var count: Int { get }
    /// Appends the state after `token` from state `index`; its index and the score added.
    func advance(_ index: Int, token: Int) -> (index: Int, score: Float)
    /// The end-of-sentence score of state `index`.
    func finish(_ index: Int) -> Float
    /// Keeps the states whose `renumber` entry is not −1, in order, and writes their new indices there.
    func compact(_ renumber: inout [Int32])
}

/// The states of a `PrefixScorer` in an array. Its methods are inlinable, so
/// that a module that knows the scorer's concrete type can wrap one in a
/// final class of its own and get code specialised for that type.
public final class ScorerStateArray<S: PrefixScorer>: PrefixScorerStates {
    @usableFromInline let scorer: S
    /// Reached only through this store's methods, one search at a time: no run-time exclusivity checks.
    @exclusivity(unchecked) @usableFromInline var states: [S.State]

    @inlinable public init(_ scorer: S) {
        self.scorer = scorer
        states = [scorer.initialState]
        states.reserveCapacity(8192)
    }

    @inlinable public var count: Int { states.count }

    @inlinable public func advance(_ index: Int, token: Int) -> (index: Int, score: Float) {
        states.append(states[index])
        let score = scorer.advance(&states[states.count - 1], token: token)
        return (states.count - 1, score)
    }

    @inlinable public func finish(_ index: Int) -> Float { scorer.finish(states[index]) }

    @inlinable public func compact(_ renumber: inout [Int32]) {
        var kept: [S.State] = []
        kept.reserveCapacity(max(1024, renumber.count / 2))
        for old in renumber.indices where renumber[old] >= 0 { renumber[old] = Int32(kept.count); kept.append(states[old]) }
        states = kept
    }
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
        let states = options.scorer?.makeStates() ?? NoScorer().makeStates()
        return BeamSearchStream(BeamSearchBox(BeamSearchState(options: options, blank: blank, states: states)))
    }
}

/// An ongoing prefix beam search: `consume` rows of log-probabilities as they
/// come, then `finish` for the n best hypotheses.
public final class BeamSearchStream {
    private let state: BeamSearchBox

    fileprivate init(_ state: BeamSearchBox) { self.state = state }

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

/// Holds a `BeamSearchState` (a value, so that the search's arrays are
/// reached without the run-time exclusivity checks a class's properties get).
private final class BeamSearchBox {
    var search: BeamSearchState
    /// Frames between compactions of the prefix tree and the emission chain.
    var compactionInterval = 256

    init(_ search: BeamSearchState) { self.search = search }

    var frame: Int { search.frame }
    func consume(_ logProbs: Matrix, rows: Range<Int>) {
        search.consume(logProbs, rows: rows, compactionInterval: compactionInterval)
    }
    func finish() -> [Hypothesis] { search.finish() }
}

/// The search itself (Hannun et al., 2014): the beam of prefixes, the prefix
/// tree that identifies them, and the chain of token emissions behind them.
///
/// Everything a frame touches is a flat array reused from frame to frame:
/// the beam and the next frame's entries are arrays of `BeamEntry`, and a
/// prefix's node records where its entry is among the latter, so a frame
/// allocates nothing once the buffers have grown. What the scorer gives a
/// prefix depends on the prefix alone, so it is kept on the prefix's node
/// and asked for once, however often the prefix leaves the beam and comes
/// back.
private struct BeamSearchState {
    let options: BeamSearchOptions
    let blank: Int
    /// The scorer and the states the entries point to.
    let scorerStates: any PrefixScorerStates
    /// Frames searched so far.
    var frame = 0

    // Prefixes as nodes of a tree: node 0 is the empty prefix (token −1).
    // Node numbers only grow (compaction keeps their order), so ties broken
    // by node number break as they would without compaction. `children`
    // finds a node's child by token.
    var nodes = [PrefixNode(token: -1, parent: -1, depth: 0, state: 0)]
    var children = PrefixTreeEdges()
    var chain: [BeamEmission] = []
    /// The tokens every entry of the beam shares, oldest first (set aside from the chain).
    var shared: [DecodedToken] = []
    /// The prefixes kept after the last frame, in no particular order, and
    /// each one's `total` (worked out once, when it was ranked).
    var beam: [BeamEntry], beamTotal: [Double]
    /// The prefixes of the frame being searched (a buffer kept between frames).
    var next: [BeamEntry] = []
    /// Buffers of `step`: the frame's log-probabilities and probabilities
    /// (each worked out when first needed: NaN until then), the tokens tried, the ranking.
    var row: [Double] = [], posterior: [Double] = [], candidates: [Int] = [], ranked: [Ranked] = []

    /// A prefix of the frame being ranked: its score, its index in `next`, its node and its `total`.
    typealias Ranked = (score: Double, slot: Int32, node: Int32, total: Double)

    init(options: BeamSearchOptions, blank: Int, states: any PrefixScorerStates) {
        self.options = options
        self.blank = blank
        scorerStates = states
        // Room for a few hundred frames' new prefixes, so that these arrays seldom regrow.
        nodes.reserveCapacity(8192)
        chain.reserveCapacity(8192)
        beam = [BeamEntry(node: 0, pb: 0, pnb: -.infinity, extra: 0, state: 0)]
        beamTotal = [0]
    }

    /// The node of prefix `node` + token `k`, made if new.
    @inline(__always)
    mutating func child(_ node: Int, _ k: Int) -> Int {
        if let c = children[node, k] { return c }
        let n = nodes.count
        nodes.append(PrefixNode(token: Int32(k), parent: Int32(node), depth: nodes[node].depth + 1))
        children.insert(node, k, child: n)
        return n
    }

    mutating func link(_ e: BeamEmission) -> Int { chain.append(e); return chain.count - 1 }

    mutating func consume(_ logProbs: Matrix, rows: Range<Int>, compactionInterval: Int) {
        let K = logProbs.cols
        if row.count != K { row = [Double](repeating: 0, count: K); posterior = row }
        for r in rows {
            step(logProbs, r, frame)
            frame += 1
            if frame % compactionInterval == 0 { compact() }
        }
    }

    /// The index of `node`'s entry in `next`, made with this scorer part (`extra`, `state`) if new.
    @inline(__always)
    private mutating func slot(_ node: Int, extra: Double, state: Int) -> Int {
        let s = nodes[node].slot
        if s >= 0 { return Int(s) }
        next.append(BeamEntry(node: node, extra: extra, state: state))
        nodes[node].slot = Int32(next.count - 1)
        return next.count - 1
    }

    /// Token k's probability in the frame being searched.
    @inline(__always)
    private mutating func probability(_ k: Int) -> Double {
        if posterior[k].isNaN { posterior[k] = exp(row[k]) }
        return posterior[k]
    }

    /// One frame: row r of `logProbs` is frame t.
    private mutating func step(_ logProbs: Matrix, _ r: Int, _ t: Int) {
        let K = logProbs.cols
        next.removeAll(keepingCapacity: true)
        candidates.removeAll(keepingCapacity: true)
        for k in 0..<K {
            let p = logProbs[r, k]
            row[k] = Double(p)
            posterior[k] = .nan
            if k != blank && p >= options.tokenThreshold { candidates.append(k) }
        }
        for i in beam.indices {
            let e = beam[i], node = e.node
            let total = beamTotal[i]
            // Stay on the same prefix: a blank, or the last token repeated (its run goes on at t).
            let s = slot(node, extra: e.extra, state: e.state)
            next[s].add(blankEnding: true, total + row[blank], emission: e.emission)
            let last = Int(nodes[node].token)
            if last >= 0 {
                let p = e.pnb + row[last]
                if next[s].add(blankEnding: false, p) {
                    var run = chain[e.emission]
                    run.lastFrame = t
                    run.posteriorSum += probability(last)
                    next[s].emission = link(run)
                }
            }
            // Extend by a token; a repeat of the last token needs a blank between.
            for k in candidates {
                let c = child(node, k)
                var sc = Int(nodes[c].slot)
                if sc < 0 {
                    if nodes[c].state < 0 {
                        let (state, score) = scorerStates.advance(e.state, token: k)
                        nodes[c].state = Int32(state)
                        nodes[c].extra = e.extra + Double(score)
                    }
                    sc = slot(c, extra: nodes[c].extra, state: Int(nodes[c].state))
                }
                let p = (k == last ? e.pb : total) + row[k]
                if next[sc].add(blankEnding: false, p) {
                    let depth = e.emission >= 0 ? chain[e.emission].depth + 1 : shared.count + 1
                    next[sc].emission = link(BeamEmission(token: k, firstFrame: t, lastFrame: t, posteriorSum: probability(k),
                                                          previous: e.emission, depth: depth))
                }
            }
        }
        select()
    }

    /// The next beam: of this frame's prefixes, the best `width` by score
    /// (ties: the lower node first). Prefixes no alignment reaches (a repeat
    /// without the frames for a blank), those the scorer rules out, and those
    /// too far below the best are dropped first.
    private mutating func select() {
        ranked.removeAll(keepingCapacity: true)
        var best = -Double.infinity
        for (i, e) in next.enumerated() {
            nodes[e.node].slot = -1
            let total = e.total
            guard total > -.infinity && e.extra > -.infinity else { continue }
            let score = total + e.extra
            best = max(best, score)
            ranked.append((score, Int32(i), Int32(e.node), total))
        }
        let floor = Double(options.scorePruning) == -.infinity ? -.infinity : best + Double(options.scorePruning)
        ranked.removeAll { $0.score < floor }
        if ranked.count > options.width { selectTop(options.width) }
        beam.removeAll(keepingCapacity: true)
        beamTotal.removeAll(keepingCapacity: true)
        for r in ranked.prefix(options.width) {
            beam.append(next[Int(r.slot)])
            beamTotal.append(r.total)
        }
    }

    /// Moves the n best of `ranked` (score descending, then node ascending)
    /// to its front, in any order: quickselect (Hoare, 1961).
    private mutating func selectTop(_ n: Int) {
        @inline(__always) func before(_ a: Ranked, _ b: Ranked) -> Bool {
            a.score > b.score || (a.score == b.score && a.node < b.node)
        }
        var lo = 0, hi = ranked.count - 1
        while lo < hi {
            // Median of three as the pivot, then Lomuto partition around it.
            let mid = lo + (hi - lo) / 2
            if before(ranked[mid], ranked[lo]) { ranked.swapAt(mid, lo) }
            if before(ranked[hi], ranked[lo]) { ranked.swapAt(hi, lo) }
            if before(ranked[hi], ranked[mid]) { ranked.swapAt(hi, mid) }
            ranked.swapAt(mid, hi)
            let pivot = ranked[hi]
            var store = lo
            for i in lo..<hi where before(ranked[i], pivot) {
                ranked.swapAt(i, store)
                store += 1
            }
            ranked.swapAt(store, hi)
            // ranked[lo..<store] come before the pivot, now at `store`.
            if store == n - 1 || store == n { return }
            if store > n { hi = store - 1 } else { lo = store + 1 }
        }
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
    private mutating func compact() {
        // The tree: mark the nodes kept, number them in their old order.
        let shallowest = beam.map { nodes[$0.node].depth }.min() ?? 0
        var newId = [Int32](repeating: -1, count: nodes.count)
        for e in beam {
            var n = e.node
            while n >= 0 && nodes[n].depth >= shallowest && newId[n] < 0 { newId[n] = 0; n = Int(nodes[n].parent) }
        }
        // In place (new numbers never exceed old ones), keeping the array's capacity.
        var kept = 0
        for old in newId.indices where newId[old] >= 0 {
            newId[old] = Int32(kept)
            var node = nodes[old]
            node.parent = node.parent >= 0 ? newId[Int(node.parent)] : -1
            nodes[kept] = node
            kept += 1
        }
        nodes.removeLast(nodes.count - kept)
        children.removeAll()
        for (n, node) in nodes.enumerated() where node.parent >= 0 { children.insert(Int(node.parent), Int(node.token), child: n) }
        for i in beam.indices { beam[i].node = Int(newId[beam[i].node]) }

        // The scorer states the kept nodes use (an entry's is its node's).
        var newState = [Int32](repeating: -1, count: scorerStates.count)
        for node in nodes where node.state >= 0 { newState[Int(node.state)] = 0 }
        scorerStates.compact(&newState)
        for n in nodes.indices where nodes[n].state >= 0 { nodes[n].state = newState[Int(nodes[n].state)] }
        for i in beam.indices { beam[i].state = Int(newState[beam[i].state]) }

        // The chain: the latest link that every entry's head has strictly before it.
        let heads = beam.map(\.emission)
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
        var newLink = [Int32](repeating: -1, count: chain.count)
        for h in heads {
            var i = h
            while i >= 0 && i != common && newLink[i] < 0 { newLink[i] = 0; i = chain[i].previous }
        }
        // In place, as the tree: a link's previous one comes before it.
        var keptLinks = 0
        for old in newLink.indices where newLink[old] >= 0 {
            newLink[old] = Int32(keptLinks)
            var link = chain[old]
            link.previous = link.previous < 0 || link.previous == common ? -1 : Int(newLink[link.previous])
            chain[keptLinks] = link
            keptLinks += 1
        }
        chain.removeLast(chain.count - keptLinks)
        for i in beam.indices where beam[i].emission >= 0 { beam[i].emission = Int(newLink[beam[i].emission]) }
    }

    func finish() -> [Hypothesis] {
        func tokens(_ head: Int) -> [DecodedToken] {
            var out: [DecodedToken] = [], i = head
            while i >= 0 { out.append(chain[i].decoded); i = chain[i].previous }
            return shared + out.reversed()
        }
        // Ranked before the tokens are gathered: only the n best are built
        // (each holds every token of a long recording).
        let ranked = beam.map { e -> (node: Int, entry: BeamEntry, end: Double, count: Int) in
            (e.node, e, Double(scorerStates.finish(e.state)), e.emission >= 0 ? chain[e.emission].depth : shared.count)
        }.sorted {
            (Float($0.entry.score + $0.end), $1.count, $1.node) > (Float($1.entry.score + $1.end), $0.count, $0.node)
        }
        return ranked.prefix(options.nBest).map { r in
            Hypothesis(tokens: tokens(r.entry.emission), logProbability: Float(r.entry.total),
                       scorerScore: Float(r.entry.extra + r.end), score: Float(r.entry.score + r.end))
        }
    }
}

/// A prefix in the search: its node in the prefix tree, log-probabilities
/// of its alignments ending in a blank (pb) and in its last token (pnb),
/// what the scorer added, and the timing of its tokens along its likeliest
/// alignment.
struct BeamEntry {
    var node: Int
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

    /// Adds an alignment's probability; returns whether it is the likeliest
    /// so far, in which case the caller sets `emission` to its timing.
    @inline(__always)
    mutating func add(blankEnding: Bool, _ logP: Double) -> Bool {
        if blankEnding { pb = logAdd(pb, logP) } else { pnb = logAdd(pnb, logP) }
        guard logP > emissionWeight else { return false }
        emissionWeight = logP
        return true
    }

    /// Adds an alignment whose timing is the existing emission chain `head`.
    @inline(__always)
    mutating func add(blankEnding: Bool, _ logP: Double, emission head: Int) {
        if add(blankEnding: blankEnding, logP) { emission = head }
    }
}

/// A prefix in the tree: its last token (−1 for the empty prefix), its
/// parent (−1 for the root) and its length; during a frame, its entry's index
/// in `next` (−1: none); and, once scored, what the scorer added along it and
/// its scorer state (an index into the search's `states`; −1: not scored yet).
struct PrefixNode {
    var token: Int32
    var parent: Int32
    var depth: Int32
    var slot: Int32 = -1
    var state: Int32 = -1
    var extra: Double = 0
}

/// The edges of the prefix tree, (parent, token) → child: a hash table
/// with open addressing and linear probing, at most half full. A slot holds
/// its key and its child side by side, so a probe touches one cache line.
/// It starts small (a search begins with every utterance) and doubles.
struct PrefixTreeEdges {
    struct Slot {
        /// parent · 2³² + token (−1: empty).
        var key: Int
        var child: Int32
    }
    private var slots = [Slot](repeating: Slot(key: -1, child: -1), count: 4096)
    private var count = 0

    @inline(__always)
    private static func key(_ parent: Int, _ token: Int) -> Int { parent << 32 | token }

    /// The first slot to probe for `key` (Fibonacci hashing) in a table of `capacity`, a power of 2.
    @inline(__always)
    private static func home(_ key: Int, _ capacity: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & (capacity - 1)
    }

    /// The child of `parent` by `token`, if there is one.
    subscript(parent: Int, token: Int) -> Int? {
        let key = Self.key(parent, token), mask = slots.count - 1
        var i = Self.home(key, slots.count)
        while slots[i].key >= 0 {
            if slots[i].key == key { return Int(slots[i].child) }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Records `child` as the child of `parent` by `token` (not yet recorded).
    mutating func insert(_ parent: Int, _ token: Int, child: Int) {
        if 2 * (count + 1) > slots.count { grow() }
        place(Slot(key: Self.key(parent, token), child: Int32(child)))
        count += 1
    }

    private mutating func place(_ slot: Slot) {
        let mask = slots.count - 1
        var i = Self.home(slot.key, slots.count)
        while slots[i].key >= 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    /// Forgets every edge, keeping the table's size.
    mutating func removeAll() {
        for i in slots.indices { slots[i].key = -1 }
        count = 0
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: -1, child: -1), count: 2 * old.count)
        for slot in old where slot.key >= 0 { place(slot) }
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

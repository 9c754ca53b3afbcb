import Foundation
import HarkCore

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
struct BeamSearchState {
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

    /// One frame: row r of `logProbs` is frame t. The recursion (1)–(3) of
    /// `PrefixBeamSearch` in log space, `total` being log(p_b(ℓ) + p_nb(ℓ));
    /// `BeamEntry.add` sums an alignment's probability into p_b or p_nb and
    /// says whether it is the prefix's likeliest so far, whose token timing
    /// the prefix then takes (`continueRun`, `emit`: bookkeeping only).
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
            let e = beam[i], node = e.node, last = Int(nodes[node].token)
            let total = beamTotal[i]
            let s = slot(node, extra: e.extra, state: e.state)
            // (1) a blank: ℓ stays, its timing too.
            next[s].add(blankEnding: true, total + row[blank], emission: e.emission)
            // (2) ℓₑ again.
            if last >= 0 && next[s].add(blankEnding: false, e.pnb + row[last]) { continueRun(of: e, token: last, into: s, at: t) }
            // (3) ℓ + k.
            for k in candidates {
                let c = slot(extending: e, node: child(node, k), by: k)
                if next[c].add(blankEnding: false, (k == last ? e.pb : total) + row[k]) { emit(k, after: e, into: c, at: t) }
            }
        }
        select()
    }

    /// The entry in `next` of prefix `node` = `e`'s prefix + `k`, scored the
    /// first time that prefix is made: extra(ℓ+k) = extra(ℓ) + scorer(ℓ, k).
    @inline(__always)
    private mutating func slot(extending e: BeamEntry, node: Int, by k: Int) -> Int {
        let s = Int(nodes[node].slot)
        if s >= 0 { return s }
        if nodes[node].state < 0 {
            let (state, score) = scorerStates.advance(e.state, token: k)
            nodes[node].state = Int32(state)
            nodes[node].extra = e.extra + Double(score)
        }
        return slot(node, extra: nodes[node].extra, state: Int(nodes[node].state))
    }

    /// Bookkeeping of (2): the prefix's last token now runs to frame t.
    @inline(__always)
    private mutating func continueRun(of e: BeamEntry, token last: Int, into s: Int, at t: Int) {
        var run = chain[e.emission]
        run.lastFrame = t
        run.posteriorSum += probability(last)
        next[s].emission = link(run)
    }

    /// Bookkeeping of (3): token k is heard from frame t, after `e`'s tokens.
    @inline(__always)
    private mutating func emit(_ k: Int, after e: BeamEntry, into s: Int, at t: Int) {
        let depth = e.emission >= 0 ? chain[e.emission].depth + 1 : shared.count + 1
        next[s].emission = link(
            BeamEmission(
                token: k, firstFrame: t, lastFrame: t, posteriorSum: probability(k),
                previous: e.emission, depth: depth))
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
            Hypothesis(
                tokens: tokens(r.entry.emission), logProbability: Float(r.entry.total),
                scorerScore: Float(r.entry.extra + r.end), score: Float(r.entry.score + r.end))
        }
    }
}

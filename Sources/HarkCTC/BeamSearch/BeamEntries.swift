import Foundation
import HarkCore

// The records of the search: a prefix's entry in the beam, its node in the
// prefix tree and the tree's edges, and the emissions that time its tokens.

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
        DecodedToken(
            token: token, firstFrame: firstFrame, lastFrame: lastFrame,
            confidence: Float(posteriorSum / Double(lastFrame - firstFrame + 1)))
    }
}

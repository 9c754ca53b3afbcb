/// The probability and back-off weight of one n-gram, as the ARPA file gives
/// them (log10), and whether a longer n-gram can follow from it.
struct NGramWeights {
    var prob: Float
    var backoff: Float
    /// True when the n-gram has a non-zero back-off or is the context
    /// (prefix) of a longer n-gram: only then must a state keep it.
    /// KenLM marks the same with the sign of a zero back-off.
    var extends: Bool
}

/// The hash of an n-gram v₁…vₙ is taken over its words from the last to the
/// first, hₙ = mix(…mix(mix(seed, vₙ), vₙ₋₁)…, v₁), so that scoring, which
/// extends a match leftwards one context word at a time (w, then c₁ w, then
/// c₂ c₁ w, …), updates the hash with one `mix` per order as KenLM does.
@inline(__always)
func ngramHash(_ previous: UInt64, _ word: Int32) -> UInt64 {
    // A splitmix64 finaliser over the previous hash and the next id.
    var x = (previous ^ UInt64(UInt32(bitPattern: word))) &* 0x9E37_79B9_7F4A_7C15
    x ^= x >> 31
    x = x &* 0xBF58_476D_1CE4_E5B9
    x ^= x >> 29
    return x
}

let ngramHashSeed: UInt64 = 0x2545_F491_4F6C_DD1D

/// The hash of `ids` (natural order v₁…vₙ), as defined above.
func ngramHash(of ids: ArraySlice<Int32>) -> UInt64 {
    var h = ngramHashSeed
    for id in ids.reversed() { h = ngramHash(h, id) }
    return h
}

/// All n-grams of one order n ≥ 2 in an open-addressing hash table (linear
/// probing, load ≤ 2/3). Entry e holds the word ids
/// `ids[e·n ..< (e+1)·n]` (v₁…vₙ), its hash and its weights; `slots` maps
/// hash positions to entries (−1: empty). A lookup compares the 64-bit hash
/// and then the ids, so distinct n-grams never collide.
struct NGramTable {
    let order: Int
    private(set) var ids: [Int32] = []
    private(set) var hashes: [UInt64] = []
    var weights: [NGramWeights] = []
    private var slots: [Int32]
    private let mask: Int

    init(order: Int, capacity: Int) {
        self.order = order
        var size = 4
        while size < capacity + capacity / 2 + 1 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        ids.reserveCapacity(capacity * order)
        hashes.reserveCapacity(capacity)
        weights.reserveCapacity(capacity)
    }

    var count: Int { hashes.count }

    /// Adds an n-gram (natural order); returns false, changing nothing, if it is already there.
    /// The table must have been made with room for it (`capacity`).
    mutating func insert(_ gram: ArraySlice<Int32>, _ w: NGramWeights) -> Bool {
        precondition(gram.count == order && count < slots.count * 2 / 3 + 1)
        let h = ngramHash(of: gram)
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] >= 0 {
            if matches(Int(slots[s]), hash: h, gram) { return false }
            s = (s + 1) & mask
        }
        slots[s] = Int32(count)
        ids.append(contentsOf: gram)
        hashes.append(h)
        weights.append(w)
        return true
    }

    private func matches(_ e: Int, hash: UInt64, _ gram: ArraySlice<Int32>) -> Bool {
        guard hashes[e] == hash else { return false }
        var i = e * order
        for id in gram {
            if ids[i] != id { return false }
            i += 1
        }
        return true
    }

    /// The entry of the n-gram (natural order), or nil.
    func find(_ gram: ArraySlice<Int32>) -> Int? {
        let h = ngramHash(of: gram)
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] >= 0 {
            if matches(Int(slots[s]), hash: h, gram) { return Int(slots[s]) }
            s = (s + 1) & mask
        }
        return nil
    }

    /// The entry of the n-gram cₙ₋₁ … c₁ w, given its hash (see `ngramHash`),
    /// the word w and the context c₁, c₂, … most recent first; −1 if absent.
    @inline(__always)
    func find(hash: UInt64, word: Int32, context: SIMD16<Int32>) -> Int {
        var s = Int(truncatingIfNeeded: hash) & mask
        return ids.withUnsafeBufferPointer { ids in
            while true {
                let e = Int(slots[s])
                if e < 0 { return -1 }
                if hashes[e] == hash {
                    let last = e * order + order - 1
                    if ids[last] == word {
                        var k = 1
                        while k < order && ids[last - k] == context[k - 1] { k += 1 }
                        if k == order { return e }
                    }
                }
                s = (s + 1) & mask
            }
        }
    }
}

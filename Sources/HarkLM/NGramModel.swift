import Foundation

/// A back-off n-gram language model as an ARPA file states it, scored as
/// KenLM scores it.
///
/// **Back-off** (Katz 1987; the ARPA convention). For a word w after the
/// history … c₂ c₁ (c₁ the most recent word), let c_m … c₁ w be the longest
/// n-gram of the model ending in w (m ≥ 0). Then
///
///     log10 p(w | c_k … c₁) = log10 p(c_m … c₁ w) + Σ_{j=m+1…k} bo(c_j … c₁)
///
/// where p and bo are the ARPA file's probability and back-off columns, and
/// k = order − 1 at most (a missing back-off is 0). A word missing from the
/// unigrams is scored as `<unk>`; a model without `<unk>` gets it with
/// log10 p = −100, as KenLM does.
///
/// **States** are KenLM's: the context c₁ … c_L kept is the longest that can
/// still change a later score, i.e. whose n-gram has a non-zero back-off or
/// begins a longer n-gram. Two histories with equal states score every
/// continuation alike, so a decoder may merge them. The back-offs of the
/// context travel in the state, so a lookup costs one hash probe per order.
///
/// Storage: word ids (Int32) from the unigram section's order; unigrams in
/// arrays indexed by id, each higher order in an `NGramTable`.
public final class NGramModel: @unchecked Sendable {
    /// The highest order that states support (KenLM's default build stops at 6).
    public static let maxOrder = 10

    /// The model's order N: the longest n-gram it holds.
    public let order: Int
    /// Word ids: the unigram section's order; `<unk>` is added when missing.
    let vocabulary: [String: Int32]
    let unigramWords: [String]
    let unigrams: [NGramWeights]
    /// `tables[n − 2]` holds the n-grams of order n ≥ 2.
    let tables: [NGramTable]
    let unknown: Int32
    let sentenceStart: Int32
    let sentenceEnd: Int32

    init(
        order: Int, words: [String], unigrams: [NGramWeights], tables: [NGramTable],
        unknown: Int32, sentenceStart: Int32, sentenceEnd: Int32
    ) {
        self.order = order
        unigramWords = words
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(words.count)
        for (i, w) in words.enumerated() { vocabulary[w] = Int32(i) }
        self.vocabulary = vocabulary
        self.unigrams = unigrams
        self.tables = tables
        self.unknown = unknown
        self.sentenceStart = sentenceStart
        self.sentenceEnd = sentenceEnd
    }

    /// The words of the unigram table other than `<s>`, `</s>` and `<unk>`, in the file's order.
    public var words: [String] {
        unigramWords.filter { !ARPAWords.special.contains($0) }
    }

    /// Whether `word` has a unigram in the model (`<s>`, `</s>` and `<unk>` always have one).
    public func contains(_ word: String) -> Bool { vocabulary[word] != nil }

    /// An LM state: the context c₁ … c_L (most recent first, L ≤ order − 1)
    /// that can still matter, and the back-off bo(c_j … c₁) of each of its
    /// suffixes. Equality and hashing look at the words only (the back-offs
    /// follow from them).
    public struct State: Hashable, Sendable {
        /// c₁ … c_L in lanes 0 ..< L; the other lanes are unspecified.
        var words = SIMD16<Int32>(repeating: -1)
        /// bo(c_j … c₁) in lane j − 1.
        var backoffs = SIMD16<Float>(repeating: 0)
        var length: Int = 0

        /// The number of context words kept.
        public var count: Int { length }

        /// Whether the two states keep the same context words.
        public static func == (a: State, b: State) -> Bool {
            guard a.length == b.length else { return false }
            for i in 0..<a.length where a.words[i] != b.words[i] { return false }
            return true
        }

        /// Hashes the context words.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(length)
            for i in 0..<length { hasher.combine(words[i]) }
        }
    }

    /// The state after `<s>` (KenLM's BeginSentenceState).
    public var beginSentence: State {
        var s = State()
        guard order > 1 else { return s }
        s.words[0] = sentenceStart
        s.backoffs[0] = unigrams[Int(sentenceStart)].backoff
        s.length = 1
        return s
    }

    /// The empty context (KenLM's NullContextState).
    public var nullContext: State { State() }

    /// log10 p(word | state) with ARPA back-off, and the state after the word.
    /// A word not in the model is scored as `<unk>` and `isUnknown` is true.
    public func score(_ state: State, _ word: String) -> (log10: Float, next: State, isUnknown: Bool) {
        let id = vocabulary[word] ?? unknown
        let (p, next) = score(state, id: id)
        return (p, next, id == unknown)
    }

    /// A word as this model's integer id; a decoder that scores the same
    /// words many times can look them up once (`id(_:)`) and skip the string
    /// hashing of `score(_:_:)` with a String.
    public struct WordID: Hashable, Sendable {
        let raw: Int32
    }

    /// The word's id; `<unk>`'s when the model does not have the word.
    public func id(_ word: String) -> WordID { WordID(raw: vocabulary[word] ?? unknown) }

    /// `<unk>`'s id: every word the model does not have scores as this one.
    public var unknownID: WordID { WordID(raw: unknown) }

    /// `score(_:_:)` by id: the same values, without the string lookup.
    public func score(_ state: State, _ word: WordID) -> (log10: Float, next: State, isUnknown: Bool) {
        let (p, next) = score(state, id: word.raw)
        return (p, next, word.raw == unknown)
    }

    /// `score` by word id.
    func score(_ state: State, id w: Int32) -> (Float, State) {
        let uni = unigrams[Int(w)]
        var prob = uni.prob
        var next = State()
        next.words[0] = w
        next.backoffs[0] = uni.backoff
        next.length = uni.extends && order > 1 ? 1 : 0
        // Extend the match leftwards: c₁ w, c₂ c₁ w, … while the model has it.
        var matched = 0
        var h = ngramHash(ngramHashSeed, w)
        while matched < state.length {
            let c = state.words[matched]
            h = ngramHash(h, c)
            let table = tables[matched]
            let e = table.find(hash: h, word: w, context: state.words)
            if e < 0 { break }
            let weights = table.weights[e]
            prob = weights.prob
            matched += 1
            if matched < order - 1 {
                next.words[matched] = c
                next.backoffs[matched] = weights.backoff
                if weights.extends { next.length = matched + 1 }
            }
        }
        // Back off from the contexts longer than the match: Σ_{j>m} bo(c_j … c₁).
        for j in matched..<state.length { prob += state.backoffs[j] }
        return (prob, next)
    }

    /// log10 p(</s> | state).
    public func endSentence(_ state: State) -> Float {
        score(state, id: sentenceEnd).0
    }

    /// The total log10 probability of the words, as KenLM's
    /// `Model.score(" ".join(words), bos, eos)`: from `<s>` when `bos`
    /// (else from the empty context), plus p(</s> | …) when `eos`.
    public func sentenceLog10(_ words: [String], bos: Bool = true, eos: Bool = true) -> Double {
        var state = bos ? beginSentence : nullContext
        var total = 0.0
        for word in words {
            let (p, next, _) = score(state, word)
            total += Double(p)
            state = next
        }
        if eos { total += Double(endSentence(state)) }
        return total
    }

    /// The number of n-grams of each order, 1 … `order` (`<unk>` included when added).
    public var counts: [Int] { [unigrams.count] + tables.map(\.count) }
}

import Foundation
import HarkCTC
import HarkLM

/// A word-level language model as the beam search sees it: log10
/// probabilities of the next word given a state (ARPA back-off semantics).
public protocol WordLanguageModel: Sendable {
    associatedtype State: Hashable & Sendable
    /// The state after `<s>`.
    var beginSentence: State { get }
    /// log10 p(word | state), the next state, and whether the word is unknown to the model.
    func score(_ state: State, _ word: String) -> (log10: Float, next: State, isUnknown: Bool)
    /// log10 p(`</s>` | state).
    func endSentence(_ state: State) -> Float
    /// The model's words (without `<s>`, `</s>`, `<unk>`).
    var words: [String] { get }
}

/// Hark's ARPA n-gram models, as KenLM scores them.
extension NGramModel: WordLanguageModel {}

/// No language model: every word scores 0 (vocabulary constraints and hotwords still apply).
public struct NoLanguageModel: WordLanguageModel {
    public init() {}
    public var beginSentence: Int { 0 }
    public func score(_ state: Int, _ word: String) -> (log10: Float, next: Int, isUnknown: Bool) { (0, 0, false) }
    public func endSentence(_ state: Int) -> Float { 0 }
    public var words: [String] { [] }
}

/// How words steer the character beam search (shallow fusion, as
/// pyctcdecode and the DeepSpeech decoder do).
public struct WordDecodingOptions: Codable, Equatable, Sendable {
    /// α: the weight of the language model's natural-log probability.
    public var alpha: Float = 0.5
    /// β: the bonus for every completed word (counters the LM's preference for short outputs).
    public var beta: Float = 1
    /// Added (natural log) to a word, or a partial word, the vocabulary does
    /// not know (pyctcdecode's `unk_score_offset`).
    public var unknownPenalty: Float = -10
    /// Only these words may be output (nil: any word, unknown ones penalised).
    public var vocabulary: [String]?
    /// Words or phrases to favour, with their boost (natural log, per word; a
    /// partial word that is a prefix of a hotword gets its share by length).
    public var hotwords: [String: Float] = [:]

    public init() {}
}

/// Scores character hypotheses word by word for `PrefixBeamSearch`:
///
///     score(word) = α · ln 10 · log10 p_LM(word | history) + β (+ unknownPenalty, + hotword boost)
///
/// applied when the word ends (a space token, or the end of the utterance,
/// where α · ln 10 · log10 p(</s> | history) is added too). While a word is
/// being spelled, a partial score keeps the beam honest: 0 while the letters
/// so far begin some known word (a trie of the vocabulary), the unknown
/// penalty once they cannot (−∞ with a closed vocabulary), plus the
/// hotword share. The partial score is replaced, not accumulated, as letters
/// arrive, and taken back when the word is scored.
public struct WordScorer<LM: WordLanguageModel>: PrefixScorer {
    public struct State: Sendable {
        var lm: LM.State
        /// The trie node of the letters of the current word (-1: no known word starts so).
        var node: Int32
        var letters: Letters
        /// What the partial word currently adds.
        var partial: Float
        var words: Int
    }

    /// The tokens of the word being spelled, kept inline (no allocation)
    /// up to `Letters.inlineCount` tokens below 65 536; a longer word keeps
    /// the rest in `overflow`.
    struct Letters: Sendable {
        static var inlineCount: Int { 16 }
        var inline = SIMD16<UInt16>()
        var overflow: [Int] = []
        var count = 0

        var isEmpty: Bool { count == 0 }

        mutating func append(_ token: Int) {
            if count < Self.inlineCount && overflow.isEmpty, let t = UInt16(exactly: token) {
                inline[count] = t
            } else {
                overflow.append(token)
            }
            count += 1
        }

        /// The tokens, oldest first.
        var tokens: [Int] {
            let n = count - overflow.count
            return (0..<n).map { Int(inline[$0]) } + overflow
        }
    }

    let lm: LM
    let hasModel: Bool
    let options: WordDecodingOptions
    let tokens: [String]
    let space: Int
    /// The vocabulary as a trie over tokens: children[node][token] = child; node 0 the root.
    let children: [[Int: Int32]]
    /// Whether a node ends a known word.
    let isWord: [Bool]
    /// The word a node ends ("" where `isWord` is false), so that a known word is not rebuilt from its letters.
    let wordOf: [String]
    /// The hotword boost of a node's letters: boost · (letters / word length), the largest over hotwords it begins.
    let hotwordShare: [Float]
    /// Whether there is a vocabulary to be outside of (a word list, or the LM's words).
    let knowsWords: Bool
    let ln10 = Float(log(10.0))

    /// - Parameters:
    ///   - tokens: the model's tokens (one character each, the blank and the space among them).
    ///   - space: the index of the word separator.
    public init(lm: LM, hasModel: Bool = true, options: WordDecodingOptions, tokens: [String], space: Int) {
        self.lm = lm
        self.hasModel = hasModel
        self.options = options
        self.tokens = tokens
        self.space = space
        let index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var children: [[Int: Int32]] = [[:]], isWord = [false], share: [Float] = [0], wordOf = [""]
        func insert(_ word: String, boost: Float) {
            let ids = word.map { index[String($0)] }
            guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else { return }
            var node = 0
            for (i, t) in ids.enumerated() {
                if let c = children[node][t!] {
                    node = Int(c)
                } else {
                    children.append([:]); isWord.append(false); share.append(0); wordOf.append("")
                    children[node][t!] = Int32(children.count - 1)
                    node = children.count - 1
                }
                share[node] = max(share[node], boost * Float(i + 1) / Float(ids.count))
            }
            isWord[node] = true
            wordOf[node] = ids.map { tokens[$0!] }.joined()
        }
        let known = options.vocabulary ?? lm.words
        knowsWords = !known.isEmpty
        for w in known { insert(w, boost: 0) }
        for (phrase, boost) in options.hotwords {
            for w in phrase.split(separator: " ") { insert(String(w), boost: boost) }
        }
        self.children = children
        self.isWord = isWord
        self.wordOf = wordOf
        hotwordShare = share
    }

    public var initialState: State { State(lm: lm.beginSentence, node: 0, letters: Letters(), partial: 0, words: 0) }

    /// With Hark's n-gram models (the usual case), a store compiled for them:
    /// the search then runs this scorer's specialised code.
    public func makeStates() -> any PrefixScorerStates {
        if let scorer = self as? WordScorer<NGramModel> { return NGramScorerStates(scorer) }
        return ScorerStateArray(self)
    }

    public func advance(_ state: State, token: Int) -> (state: State, score: Float) {
        // A hypothesis outside a closed vocabulary is dead: its score is already −∞.
        if state.partial == -.infinity { return (state, 0) }
        var s = state
        if token == space {
            guard !s.letters.isEmpty else { return (s, 0) }
            let (score, next) = completeWord(s)
            s.lm = next
            s.node = 0
            s.letters = Letters()
            s.partial = 0
            s.words += 1
            return (s, score - state.partial)
        }
        s.letters.append(token)
        if s.node >= 0, let child = children[Int(s.node)][token] {
            s.node = child
            s.partial = hotwordShare[Int(child)]
        } else {
            s.node = -1
            s.partial = options.vocabulary != nil ? -.infinity : knowsWords ? options.unknownPenalty : 0
        }
        return (s, s.partial - state.partial)
    }

    public func finish(_ state: State) -> Float {
        if state.partial == -.infinity { return 0 }
        var total: Float = 0
        var lmState = state.lm
        if !state.letters.isEmpty {
            let (score, next) = completeWord(state)
            total += score - state.partial
            lmState = next
        }
        if hasModel { total += options.alpha * ln10 * lm.endSentence(lmState) }
        return total
    }

    /// The score of the word the state spells, and the LM state after it.
    private func completeWord(_ s: State) -> (Float, LM.State) {
        let known = s.node >= 0 && isWord[Int(s.node)]
        let word = known ? wordOf[Int(s.node)] : s.letters.tokens.map { tokens[$0] }.joined()
        if options.vocabulary != nil && !known { return (-.infinity, s.lm) }
        var score = options.beta
        let (log10p, next, unknown) = lm.score(s.lm, word)
        if hasModel { score += options.alpha * ln10 * log10p }
        if unknown { score += options.unknownPenalty }
        if known { score += hotwordShare[Int(s.node)] }
        return (score, next)
    }
}

/// `WordScorer<NGramModel>`'s states in a non-generic class, so that its
/// calls are compiled for the concrete types (see `PrefixScorerStates`).
final class NGramScorerStates: PrefixScorerStates {
    let array: ScorerStateArray<WordScorer<NGramModel>>

    init(_ scorer: WordScorer<NGramModel>) { array = ScorerStateArray(scorer) }

    var count: Int { array.count }
    func advance(_ index: Int, token: Int) -> (index: Int, score: Float) { array.advance(index, token: token) }
    func finish(_ index: Int) -> Float { array.finish(index) }
    func compact(_ renumber: inout [Int32]) { array.compact(&renumber) }
}

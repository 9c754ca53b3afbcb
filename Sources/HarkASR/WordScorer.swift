import Foundation
import HarkCTC
import HarkLM

/// A word-level language model as the beam search sees it: log10
/// probabilities of the next word given a state (ARPA back-off semantics).
public protocol WordLanguageModel: Sendable {
    associatedtype State: Hashable & Sendable
    /// A word as the model looks it up. A decoder resolves each word of its
    /// vocabulary once (`word(_:)`) and scores by that; a model that has
    /// nothing faster than its text keeps the default, the text itself.
    associatedtype Word = String
    /// The state after `<s>`.
    var beginSentence: State { get }
    /// What a decoder keeps of a word spelled outside the vocabulary, for
    /// `word(spelled:tokens:)`: its letters by default (`SpelledLetters`),
    /// nothing for a model that scores all such words alike (`NoSpelling`,
    /// which keeps the decoder's states small and trivially copied).
    associatedtype Spelling: WordSpelling = SpelledLetters
    /// `text` as the model looks it up.
    func word(_ text: String) -> Word
    /// The word `spelling` spells, `tokens` naming the decoder's tokens.
    func word(spelled spelling: Spelling, tokens: [String]) -> Word
    /// log10 p(word | state), the next state, and whether the word is unknown to the model.
    func score(_ state: State, _ word: Word) -> (log10: Float, next: State, isUnknown: Bool)
    /// log10 p(`</s>` | state).
    func endSentence(_ state: State) -> Float
    /// The model's words (without `<s>`, `</s>`, `<unk>`).
    var words: [String] { get }
}

extension WordLanguageModel where Word == String {
    /// The text itself: a model whose words are strings looks them up by text.
    public func word(_ text: String) -> String { text }
}

extension WordLanguageModel where Spelling == SpelledLetters {
    /// The word the spelled letters make: their tokens' text, joined, looked up by `word(_:)`.
    public func word(spelled spelling: SpelledLetters, tokens: [String]) -> Word {
        word(spelling.tokens.map { tokens[$0] }.joined())
    }
}

/// The letters of a word being spelled, as a decoder keeps them for its LM.
public protocol WordSpelling: Sendable {
    /// The spelling of no letters.
    init()
    /// Appends the next token of the word.
    mutating func append(_ token: Int)
}

/// Every token of the word, kept inline (no allocation) up to
/// `inlineCount` tokens below 65 536; a longer word keeps the rest in `overflow`.
public struct SpelledLetters: WordSpelling {
    static var inlineCount: Int { 16 }
    var inline = SIMD16<UInt16>()
    var overflow: [Int] = []
    var count = 0

    /// No letters.
    public init() {}

    /// Appends a token of the word.
    public mutating func append(_ token: Int) {
        if count < Self.inlineCount && overflow.isEmpty, let t = UInt16(exactly: token) {
            inline[count] = t
        } else {
            overflow.append(token)
        }
        count += 1
    }

    /// The tokens, oldest first.
    public var tokens: [Int] {
        let n = count - overflow.count
        return (0..<n).map { Int(inline[$0]) } + overflow
    }
}

/// Nothing of the word: for a model that scores every word outside its vocabulary alike.
public struct NoSpelling: WordSpelling {
    /// Nothing.
    public init() {}
    /// Does nothing.
    public mutating func append(_ token: Int) {}
}

/// Hark's ARPA n-gram models, as KenLM scores them, by word id. A word
/// outside the model's vocabulary is `<unk>`, whatever its letters.
extension NGramModel: WordLanguageModel {
    /// An n-gram model looks words up by id.
    public typealias Word = WordID
    /// The word's id; `<unk>`'s for a word the model does not have.
    public func word(_ text: String) -> WordID { id(text) }
    /// `<unk>`'s id: a word outside the vocabulary scores as `<unk>`, whatever its letters.
    public func word(spelled spelling: NoSpelling, tokens: [String]) -> WordID { unknownID }
}

/// No language model: every word scores 0 (vocabulary constraints and hotwords still apply).
public struct NoLanguageModel: WordLanguageModel {
    /// The model that scores nothing.
    public init() {}
    /// The only state, 0.
    public var beginSentence: Int { 0 }
    /// The empty word: a word outside the vocabulary needs no name.
    public func word(spelled spelling: NoSpelling, tokens: [String]) -> String { "" }
    /// 0 for every word, which is never unknown; the state stays 0.
    public func score(_ state: Int, _ word: String) -> (log10: Float, next: Int, isUnknown: Bool) { (0, 0, false) }
    /// 0.
    public func endSentence(_ state: Int) -> Float { 0 }
    /// None: there is no vocabulary.
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
    /// The boost of a hotword given without one (`--hotword WORD`).
    public static let defaultHotwordBoost: Float = 5

    /// α 0.5, β 1, an unknown penalty of −10, any word, no hotwords.
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
    /// A hypothesis's words as the scorer keeps them: the LM state after its completed words, and the word being spelled.
    public struct State: Sendable {
        var lm: LM.State
        /// The trie node of the letters of the current word (-1: no known word starts so).
        var node: Int32
        /// Letters of the current word.
        var length: Int32
        /// What the LM keeps of them, for a word off the trie.
        var letters: LM.Spelling
        /// What the partial word currently adds.
        var partial: Float
        var words: Int
    }

    /// What the scorer reads, behind one reference: the search calls
    /// `advance` for every new prefix, and a scorer of many arrays would be
    /// copied (and each array retained) on every call.
    final class Tables: @unchecked Sendable {
        let lm: LM
        let hasModel: Bool
        let options: WordDecodingOptions
        let tokens: [String]
        let space: Int
        /// The vocabulary as a trie over tokens, node 0 the root: node n's
        /// children are `edgeChild[edgeStart[n] ..< edgeStart[n + 1]]`, by
        /// the tokens in `edgeToken` (a few per node, scanned in order).
        let edgeStart: [Int32], edgeToken: [Int32], edgeChild: [Int32]
        /// The word a node ends, as the LM looks it up (nil: no word ends there).
        let wordOf: [LM.Word?]
        /// The hotword boost of a node's letters: boost · (letters / word length), the largest over hotwords it begins.
        let hotwordShare: [Float]
        /// What a letter off the trie adds: −∞ with a closed vocabulary, the unknown penalty with known words, else 0.
        let offTrie: Float
        /// α · ln 10: the weight of a log10 LM probability.
        let lmWeight: Float

        init(lm: LM, hasModel: Bool, options: WordDecodingOptions, tokens: [String], space: Int) {
            self.lm = lm
            self.hasModel = hasModel
            self.options = options
            self.tokens = tokens
            self.space = space
            let index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            var children: [[Int: Int32]] = [[:]], share: [Float] = [0], words: [String?] = [nil]
            func insert(_ word: String, boost: Float) {
                let ids = word.map { index[String($0)] }
                guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else { return }
                var node = 0
                for (i, t) in ids.enumerated() {
                    if let c = children[node][t!] {
                        node = Int(c)
                    } else {
                        children.append([:]); share.append(0); words.append(nil)
                        children[node][t!] = Int32(children.count - 1)
                        node = children.count - 1
                    }
                    share[node] = max(share[node], boost * Float(i + 1) / Float(ids.count))
                }
                words[node] = ids.map { tokens[$0!] }.joined()
            }
            let known = options.vocabulary ?? lm.words
            for w in known { insert(w, boost: 0) }
            for (phrase, boost) in options.hotwords {
                for w in phrase.split(separator: " ") { insert(String(w), boost: boost) }
            }
            var start: [Int32] = [0], token: [Int32] = [], child: [Int32] = []
            for edges in children {
                for (t, c) in edges.sorted(by: { $0.key < $1.key }) { token.append(Int32(t)); child.append(c) }
                start.append(Int32(token.count))
            }
            (edgeStart, edgeToken, edgeChild) = (start, token, child)
            wordOf = words.map { $0.map(lm.word) }
            hotwordShare = share
            // Without a word list or LM words, there is no vocabulary to be outside of.
            offTrie = options.vocabulary != nil ? -.infinity : !known.isEmpty ? options.unknownPenalty : 0
            lmWeight = options.alpha * Float(log(10.0))
        }

        /// The child of trie node `node` by `token` (−1: none).
        @inline(__always)
        func child(_ node: Int, _ token: Int) -> Int {
            for e in Int(edgeStart[node])..<Int(edgeStart[node + 1]) where edgeToken[e] == Int32(token) {
                return Int(edgeChild[e])
            }
            return -1
        }
    }

    let tables: Tables

    /// - Parameters:
    ///   - tokens: the model's tokens (one character each, the blank and the space among them).
    ///   - space: the index of the word separator.
    public init(lm: LM, hasModel: Bool = true, options: WordDecodingOptions, tokens: [String], space: Int) {
        tables = Tables(lm: lm, hasModel: hasModel, options: options, tokens: tokens, space: space)
    }

    /// The state of the empty hypothesis: after `<s>`, no letters.
    public var initialState: State { State(lm: tables.lm.beginSentence, node: 0, length: 0, letters: LM.Spelling(), partial: 0, words: 0) }

    /// With Hark's n-gram models (the usual case), a store compiled for them:
    /// the search then runs this scorer's specialised code.
    public func makeStates() -> any PrefixScorerStates {
        if let scorer = self as? WordScorer<NGramModel> { return NGramScorerStates(scorer) }
        return ScorerStateArray(self)
    }

    /// The state after `token`, and the score it adds (see `advance(_:token:)` in place).
    public func advance(_ state: State, token: Int) -> (state: State, score: Float) {
        var s = state
        let score = advance(&s, token: token)
        return (s, score)
    }

    /// Appends `token` to the hypothesis: a space completes the word being spelled (its full score, less the partial
    /// score already given), another token extends it (the change in its partial score). Returns the score added;
    /// 0 for a hypothesis already outside a closed vocabulary.
    public func advance(_ s: inout State, token: Int) -> Float {
        // A hypothesis outside a closed vocabulary is dead: its score is already −∞.
        if s.partial == -.infinity { return 0 }
        let t = tables, before = s.partial
        if token == t.space {
            guard s.length > 0 else { return 0 }
            let (score, next) = completeWord(s)
            s.lm = next
            s.node = 0
            s.length = 0
            s.letters = LM.Spelling()
            s.partial = 0
            s.words += 1
            return score - before
        }
        s.length += 1
        s.letters.append(token)
        let child = s.node >= 0 ? t.child(Int(s.node), token) : -1
        s.node = Int32(child)
        s.partial = child >= 0 ? t.hotwordShare[child] : t.offTrie
        return s.partial - before
    }

    /// The score added at the end of the utterance: the word being spelled, completed, and with a language model
    /// α · ln 10 · log10 p(</s> | history); 0 for a hypothesis already outside a closed vocabulary.
    public func finish(_ state: State) -> Float {
        if state.partial == -.infinity { return 0 }
        var total: Float = 0
        var lmState = state.lm
        if state.length > 0 {
            let (score, next) = completeWord(state)
            total += score - state.partial
            lmState = next
        }
        if tables.hasModel { total += tables.lmWeight * tables.lm.endSentence(lmState) }
        return total
    }

    /// The score of the word the state spells, and the LM state after it.
    private func completeWord(_ s: State) -> (Float, LM.State) {
        let t = tables
        let known = s.node >= 0 ? t.wordOf[Int(s.node)] : nil
        if t.options.vocabulary != nil && known == nil { return (-.infinity, s.lm) }
        var score = t.options.beta
        let word = known ?? t.lm.word(spelled: s.letters, tokens: t.tokens)
        let (log10p, next, unknown) = t.lm.score(s.lm, word)
        if t.hasModel { score += t.lmWeight * log10p }
        if unknown { score += t.options.unknownPenalty }
        if known != nil { score += t.hotwordShare[Int(s.node)] }
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

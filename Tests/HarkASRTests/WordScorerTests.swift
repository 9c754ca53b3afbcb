import Foundation
import HarkCTC
import HarkCore
import HarkLM
import XCTest

@testable import HarkASR

/// Word-level fusion in the character beam search: an LM, hotwords and a
/// closed vocabulary change what they should and nothing else.
final class WordScorerTests: XCTestCase {
    /// tokens: blank, space, A, C, P, T, S
    let tokens = ["<blank>", " ", "A", "C", "P", "T", "S"]
    let space = 1

    /// A unigram model from a table of log10 probabilities; unknown words get `unknown`.
    struct UnigramLM: WordLanguageModel {
        var table: [String: Float]
        var unknown: Float = -5
        var end: Float = -0.5
        var beginSentence: Int { 0 }
        func score(_ state: Int, _ word: String) -> (log10: Float, next: Int, isUnknown: Bool) {
            if let p = table[word] { return (p, state + 1, false) }
            return (unknown, state + 1, true)
        }
        func endSentence(_ state: Int) -> Float { end }
        var words: [String] { Array(table.keys) }
    }

    /// Log-probabilities [T, K] from per-frame distributions over the tokens (the rest share what is left).
    func posteriors(_ frames: [[String: Float]]) -> Matrix {
        var m = Matrix(rows: frames.count, cols: tokens.count)
        for (t, f) in frames.enumerated() {
            let rest = (1 - f.values.reduce(0, +)) / Float(tokens.count - f.count)
            for (k, tok) in tokens.enumerated() { m[t, k] = logf(f[tok] ?? rest) }
        }
        return m
    }

    /// "CAP" by a little, "CAT" close behind, then a space and "SAT".
    var capOrCat: Matrix {
        posteriors([
            ["C": 0.9], ["<blank>": 0.9], ["A": 0.9], ["<blank>": 0.9], ["P": 0.5, "T": 0.45], ["<blank>": 0.9],
            [" ": 0.9], ["S": 0.9], ["A": 0.9], ["T": 0.9], ["<blank>": 0.9]
        ])
    }

    func text(_ h: Hypothesis) -> String { h.labels.map { tokens[$0] }.joined() }

    func beam(_ scorer: (any PrefixScorer)?, nBest: Int = 1) -> [Hypothesis] {
        PrefixBeamSearch(BeamSearchOptions(width: 16, nBest: nBest, scorer: scorer)).decode(capOrCat)
    }

    func testWithoutWeightsTheBeamIsUnchanged() {
        var o = WordDecodingOptions()
        o.alpha = 0; o.beta = 0; o.unknownPenalty = 0
        let lm = UnigramLM(table: ["CAT": -1, "SAT": -1])
        let plain = beam(nil, nBest: 5)
        let fused = beam(WordScorer(lm: lm, options: o, tokens: tokens, space: space), nBest: 5)
        XCTAssertEqual(plain.map(\.labels), fused.map(\.labels))
        for (a, b) in zip(plain, fused) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5) }
        XCTAssertEqual(text(plain[0]), "CAP SAT")
    }

    func testLanguageModelPicksTheLikelyWord() {
        var o = WordDecodingOptions()
        o.alpha = 1; o.beta = 0
        let lm = UnigramLM(table: ["CAT": -1, "CAP": -3, "SAT": -1])
        let best = beam(WordScorer(lm: lm, options: o, tokens: tokens, space: space))[0]
        XCTAssertEqual(text(best), "CAT SAT")
        // Scores: LM part = α·ln10·(log10 p(CAT) + log10 p(SAT) + log10 p(</s>)) + 2β.
        XCTAssertEqual(best.scorerScore, Float(log(10.0)) * (-1 - 1 - 0.5), accuracy: 1e-4)
        XCTAssertEqual(best.score, best.logProbability + best.scorerScore, accuracy: 1e-4)
    }

    func testHotwordChangesTheResult() {
        var o = WordDecodingOptions()
        o.hotwords = ["CAT": 3]
        let best = beam(WordScorer(lm: NoLanguageModel(), hasModel: false, options: o, tokens: tokens, space: space))[0]
        XCTAssertEqual(text(best), "CAT SAT")
        // Without the hotword, no LM: the acoustics decide.
        let plain = beam(WordScorer(lm: NoLanguageModel(), hasModel: false, options: WordDecodingOptions(), tokens: tokens, space: space))[
            0]
        XCTAssertEqual(text(plain), "CAP SAT")
    }

    func testClosedVocabularyOutputsOnlyListedWords() {
        var o = WordDecodingOptions()
        o.vocabulary = ["CAT", "SAT", "AT"]
        for h in beam(WordScorer(lm: NoLanguageModel(), hasModel: false, options: o, tokens: tokens, space: space), nBest: 8)
        where h.score > -.infinity {
            for w in text(h).split(separator: " ") { XCTAssertTrue(o.vocabulary!.contains(String(w)), "\(text(h))") }
        }
        XCTAssertEqual(
            text(beam(WordScorer(lm: NoLanguageModel(), hasModel: false, options: o, tokens: tokens, space: space))[0]), "CAT SAT")
    }

    /// The letters of a word are kept inline up to 16 tokens; longer words
    /// and tokens past 65 535 spill over, in order.
    func testLettersKeepEveryTokenInOrder() {
        for word in [[], [2, 3], Array(0..<16), Array(0..<40), [1, 70_000, 2], Array(0..<16) + [70_000, 5]] {
            var letters = SpelledLetters()
            for t in word { letters.append(t) }
            XCTAssertEqual(letters.tokens, word)
            XCTAssertEqual(letters.count, word.count)
        }
    }

    /// A word the trie does not know, longer than the inline letters, reaches the LM spelled in full.
    func testLongUnknownWordIsScoredByItsText() {
        struct Recorder: WordLanguageModel {
            var beginSentence: Int { 0 }
            func score(_ state: Int, _ word: String) -> (log10: Float, next: Int, isUnknown: Bool) {
                (word == "CATSCATSCATSCATSCATS" ? -1 : -9, state + 1, false)
            }
            func endSentence(_ state: Int) -> Float { 0 }
            var words: [String] { [] }
        }
        var o = WordDecodingOptions()
        o.alpha = 1; o.beta = 0
        let scorer = WordScorer(lm: Recorder(), options: o, tokens: tokens, space: space)
        var state = scorer.initialState
        for c in "CATSCATSCATSCATSCATS" { state = scorer.advance(state, token: tokens.firstIndex(of: String(c))!).state }
        XCTAssertEqual(scorer.advance(state, token: space).score, -Float(log(10.0)), accuracy: 1e-5)
    }

    /// With an n-gram model, a word off the vocabulary keeps no letters
    /// (`NoSpelling`) and scores as `<unk>` does, as its text would; known
    /// words score by id as they would by text.
    func testNGramModelScoresWordsOffTheVocabularyAsUnknown() throws {
        let lm = try NGramModel.parse(
            """
            \\data\\
            ngram 1=5
            ngram 2=2

            \\1-grams:
            -1.0\t<unk>
            -99\t<s>\t-0.3
            -0.7\t</s>
            -0.5\tCAT\t-0.2
            -0.6\tSAT\t-0.1

            \\2-grams:
            -0.2\t<s> CAT
            -0.1\tCAT SAT

            \\end\\

            """, name: "test.arpa")
        var o = WordDecodingOptions()
        o.alpha = 1; o.beta = 0.5; o.unknownPenalty = -3
        let scorer = WordScorer(lm: lm, options: o, tokens: tokens, space: space)
        XCTAssertTrue(_isPOD(WordScorer<NGramModel>.State.self), "the search copies states; they hold no references")
        func spell(_ text: String, from start: WordScorer<NGramModel>.State) -> (WordScorer<NGramModel>.State, Float) {
            var state = start, total: Float = 0
            for c in text { total += scorer.advance(&state, token: tokens.firstIndex(of: String(c))!) }
            return (state, total)
        }
        let ln10 = Float(log(10.0))
        // CAT then SAT: the bigrams, by id.
        let (cat, catScore) = spell("CAT ", from: scorer.initialState)
        XCTAssertEqual(catScore, ln10 * -0.2 + 0.5, accuracy: 1e-5)
        let (_, satScore) = spell("SAT ", from: cat)
        XCTAssertEqual(satScore, ln10 * -0.1 + 0.5, accuracy: 1e-5)
        // PAST is off the trie from its first letter: −3 while spelled, then <unk> after CAT.
        let (past, pastScore) = spell("PAST ", from: cat)
        let unk = lm.score(cat.lm, "PAST")
        XCTAssertTrue(unk.isUnknown)
        XCTAssertEqual(pastScore, ln10 * unk.log10 + 0.5 - 3, accuracy: 1e-5)
        XCTAssertEqual(past.lm, unk.next)
    }

    func testUnknownWordsArePenalised() {
        var o = WordDecodingOptions()
        o.alpha = 0; o.beta = 0; o.unknownPenalty = -4
        let lm = UnigramLM(table: ["CAT": -1, "SAT": -1])
        let best = beam(WordScorer(lm: lm, options: o, tokens: tokens, space: space))[0]
        XCTAssertEqual(text(best), "CAT SAT", "CAP is unknown to the LM")
        XCTAssertEqual(best.scorerScore, 0, accuracy: 1e-6)
    }
}

import Foundation
import HarkLM
import HarkTestSupport
import XCTest

/// Every score of Tests/HarkLMTests/Fixtures/kenlm_scores.json, which KenLM's
/// Python module (`kenlm` 0.3.0 from PyPI) computed with `Model.full_scores`
/// and `Model.score` on the same ARPA files (scripts/make_lm_fixtures.py).
///
/// Tolerance 1e-4 absolute on log10 values: KenLM sums in Float, Hark's
/// per-word scores are Float too; the per-word values agree to rounding.
final class KenLMScoreTests: XCTestCase {
    func check(model key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixtures = try LMFixtures.json("kenlm_scores.json")
        let models = fixtures["models"] as! [String: Any]
        guard let entry = models[key] as? [String: Any] else {
            throw XCTSkip("kenlm_scores.json has no \(key) model (made without its tool)")
        }
        let model = try NGramModel.read(LMFixtures.url(entry["arpa"] as! String))
        XCTAssertEqual(model.order, entry["order"] as? Int, file: file, line: line)
        var got: [Float] = [], expected: [Float] = []
        var totals: [Float] = [], expectedTotals: [Float] = []
        for case let c as [String: Any] in entry["cases"] as! [Any] {
            let sentence = c["sentence"] as! String, bos = c["bos"] as! Bool, eos = c["eos"] as! Bool
            let words = sentence.split(separator: " ").map(String.init)
            let full = c["full_scores"] as! [[Any]]  // [log10 p, n-gram length, out of vocabulary]
            XCTAssertEqual(full.count, words.count + (eos ? 1 : 0), sentence, file: file, line: line)
            var state = bos ? model.beginSentence : model.nullContext
            for (i, word) in words.enumerated() {
                let s = model.score(state, word)
                let byID = model.score(state, model.id(word))
                XCTAssertTrue(byID.log10 == s.log10 && byID.next == s.next && byID.isUnknown == s.isUnknown, word, file: file, line: line)
                got.append(s.log10)
                expected.append((full[i][0] as! NSNumber).floatValue)
                XCTAssertEqual(s.isUnknown, full[i][2] as! Bool, "\(sentence): \(word)", file: file, line: line)
                state = s.next
            }
            if eos {
                got.append(model.endSentence(state))
                expected.append((full.last![0] as! NSNumber).floatValue)
            }
            totals.append(Float(model.sentenceLog10(words, bos: bos, eos: eos)))
            expectedTotals.append((c["score"] as! NSNumber).floatValue)
        }
        let perWord = compare(got, expected, absolute: 1e-4)
        XCTAssertNil(perWord.firstBad, "\(key) per-word scores: \(perWord)", file: file, line: line)
        let sentences = compare(totals, expectedTotals, absolute: 1e-4)
        XCTAssertNil(sentences.firstBad, "\(key) sentence scores: \(sentences)", file: file, line: line)
        print("\(key): per-word \(perWord); sentences \(sentences)")
    }

    /// A hand-written trigram model where sentences back off from every order.
    func testHandWrittenModel() throws { try check(model: "hand") }

    /// The model KenLM's lmplz estimated from corpus.txt.
    func testLmplzModel() throws { try check(model: "lmplz") }

    /// The model `hark lm` estimated from corpus.txt, read by KenLM.
    func testHarkBuiltModel() throws { try check(model: "hark") }
}

import Foundation
import HarkLM
import HarkTestSupport
import XCTest

/// The estimator against KenLM's lmplz (its ARPA files on corpus.txt, when
/// the fixture script could build lmplz) and against the from-scratch Python
/// implementation of interpolated modified Kneser-Ney in
/// scripts/make_lm_fixtures.py. Tolerance 1e-4 on log10 values: both are
/// written as Float, and lmplz computes in Float.
final class NGramEstimatorTests: XCTestCase {
    func testAgainstReferences() throws {
        let fixtures = try LMFixtures.json("estimator_reference.json")
        let corpus = try LMFixtures.corpus()
        for case let c as [String: Any] in fixtures["cases"] as! [Any] {
            let order = c["order"] as! Int, prune = c["prune"] as! [Int]
            let arpa = try NGramEstimator(order: order, prune: prune).estimate(sentences: corpus)
            let ours = LMFixtures.table(arpa)
            var references: [(String, [String: (Float, Float)])] = []
            if let name = c["arpa"] as? String {
                references.append(("lmplz \(name)", LMFixtures.table(try String(contentsOf: LMFixtures.url(name), encoding: .utf8))))
            }
            if let rows = c["reference"] as? [[Any]] {
                var table: [String: (Float, Float)] = [:]
                for r in rows { table[r[0] as! String] = ((r[1] as! NSNumber).floatValue, (r[2] as? NSNumber)?.floatValue ?? 0) }
                references.append(("Python reference", table))
            }
            XCTAssertFalse(references.isEmpty)
            for (source, reference) in references {
                let label = "order \(order), prune \(prune) vs \(source)"
                XCTAssertEqual(Set(ours.keys), Set(reference.keys), label)
                let keys = reference.keys.sorted().filter { ours[$0] != nil }
                let probs = compare(keys.map { ours[$0]!.0 }, keys.map { reference[$0]!.0 }, absolute: 1e-4)
                let backoffs = compare(keys.map { ours[$0]!.1 }, keys.map { reference[$0]!.1 }, absolute: 1e-4)
                XCTAssertNil(probs.firstBad, "\(label) probabilities: \(probs)")
                XCTAssertNil(backoffs.firstBad, "\(label) back-offs: \(backoffs)")
                print("\(label): probabilities \(probs); back-offs \(backoffs)")
            }
            // What Hark writes, Hark reads, with the header's counts.
            let model = try NGramModel.parse(arpa, name: "estimated")
            XCTAssertEqual(model.order, order)
        }
    }

    /// Too little text for Kneser-Ney discounts is an error that says so.
    func testTinyCorpusIsRefused() {
        XCTAssertThrowsError(try NGramEstimator(order: 3).estimate(sentences: [["A", "B"], ["A", "C"]])) { error in
            XCTAssertTrue("\(error)".contains("discount"), "\(error)")
        }
    }

    func testReservedWordsAndBadThresholds() {
        XCTAssertThrowsError(try NGramEstimator(order: 2).estimate(sentences: [["A", "<s>"]])) { error in
            XCTAssertTrue("\(error)".contains("sentence 1 contains <s>"), "\(error)")
        }
        XCTAssertThrowsError(try NGramEstimator(order: 3, prune: [2, 1]).estimate(sentences: [["A"]]))
        XCTAssertThrowsError(try NGramEstimator(order: 11).estimate(sentences: [["A"]]))
    }
}

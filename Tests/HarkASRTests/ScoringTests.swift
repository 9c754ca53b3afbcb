import Foundation
import HarkASR
import HarkCore
import HarkTestSupport
import XCTest

/// Alignments and bootstrap intervals against Kaldi's (through kaldialign:
/// Fixtures/scoring_reference.json, written by scripts/make_scoring_fixtures.py).
final class ScoringTests: XCTestCase {
    struct Reference: Decodable {
        struct Set: Decodable {
            struct Edits: Decodable { var sub: Int; var del: Int; var ins: Int; var total: Int }
            var references: [String]
            var hypotheses: [String]
            var edits: [Edits]
            var replications: Int
            var wer_mean: Double
            var ci95: Double
        }
        var sets: [Set]
    }

    var reference: Reference {
        get throws {
            let url = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures/scoring_reference.json")
            return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        }
    }

    func words(_ s: String) -> [String] { s.split(separator: " ").map(String.init) }

    func testWordErrorTotalsEqualKaldis() throws {
        for set in try reference.sets {
            for (i, (r, h)) in zip(set.references, set.hypotheses).enumerated() {
                let counts = EditCounts.words(reference: r, hypothesis: h)
                XCTAssertEqual(counts.errors, set.edits[i].total, "\(r) | \(h)")
                // Among alignments of equal cost, kaldialign's counts a deletion and an insertion where
                // Hark (like current Kaldi's error_stats ordering and sclite's 4/3/3 weights) counts two
                // substitutions: only the total is the same fact everywhere.
            }
        }
    }

    func testAlignmentCountsToTheSameEditsAsAlign() throws {
        var g = SeededGenerator(seed: 7)
        let letters = Array("ABCD ")
        for _ in 0..<400 {
            let r = (0..<Int(g.next() % 12)).map { _ in letters[Int(g.next() % 5)] }
            let h = (0..<Int(g.next() % 12)).map { _ in letters[Int(g.next() % 5)] }
            let pairs = try XCTUnwrap(EditCounts.alignment(reference: r, hypothesis: h))
            let counts = EditCounts.align(reference: r, hypothesis: h)
            XCTAssertEqual(pairs.filter { $0.operation == .substitution }.count, counts.substitutions)
            XCTAssertEqual(pairs.filter { $0.operation == .deletion }.count, counts.deletions)
            XCTAssertEqual(pairs.filter { $0.operation == .insertion }.count, counts.insertions)
            XCTAssertEqual(pairs.compactMap(\.reference), r)
            XCTAssertEqual(pairs.compactMap(\.hypothesis), h)
        }
    }

    func testAlignmentOfAKnownPair() throws {
        let pairs = try XCTUnwrap(EditCounts.alignment(reference: words("A B C D"), hypothesis: words("A X C D E")))
        XCTAssertEqual(pairs.map(\.operation), [.match, .substitution, .match, .match, .insertion])
        XCTAssertEqual(pairs[1].reference, "B")
        XCTAssertEqual(pairs[1].hypothesis, "X")
        let deletion = try XCTUnwrap(EditCounts.alignment(reference: words("GO NOW"), hypothesis: words("NOW")))
        XCTAssertEqual(deletion.map(\.operation), [.deletion, .match])
        XCTAssertEqual(EditCounts.alignment(reference: [Int](), hypothesis: [])?.count, 0)
        XCTAssertNil(
            EditCounts.alignment(reference: Array(repeating: 1, count: 5000), hypothesis: Array(repeating: 2, count: 5000)),
            "a table past maxAlignmentCells is declined, not allocated")
    }

    /// Kaldi's random draws are not ours: the intervals agree within the
    /// bootstrap's own sampling error at 10000 replications (the standard
    /// deviation's estimate has a relative error of about 1/√(2·10000) = 0.7%).
    func testBootstrapIntervalAgreesWithKaldis() throws {
        for set in try reference.sets {
            let counts = zip(set.references, set.hypotheses).map { EditCounts.words(reference: $0, hypothesis: $1) }
            let total = counts.reduce(EditCounts(), +)
            let ci = try XCTUnwrap(BootstrapInterval.estimate(counts, replications: set.replications))
            XCTAssertEqual(ci.halfWidth, set.ci95, accuracy: 0.04 * set.ci95)
            XCTAssertEqual(ci.mean, set.wer_mean, accuracy: 0.05 * set.ci95)
            XCTAssertEqual(ci.mean, total.rate, accuracy: 0.05 * set.ci95, "the bootstrap mean sits on the rate")
            // Seeded: the same interval every time.
            XCTAssertEqual(BootstrapInterval.estimate(counts, replications: set.replications), ci)
        }
    }

    func testBootstrapEdgeCases() {
        XCTAssertNil(BootstrapInterval.estimate([]))
        XCTAssertNil(BootstrapInterval.estimate([EditCounts(insertions: 2, referenceLength: 0)]))
        // Every utterance equally wrong: no spread.
        let same = BootstrapInterval.estimate(Array(repeating: EditCounts(substitutions: 1, referenceLength: 4), count: 30))!
        XCTAssertEqual(same.mean, 0.25, accuracy: 1e-12)
        XCTAssertEqual(same.halfWidth, 0, accuracy: 1e-6)
    }
}

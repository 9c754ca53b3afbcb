import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkCTC

/// `ForcedAlignment` against `torchaudio.functional.forced_align`
/// (`scripts/make_alignment_fixtures.py`, versions in `Fixtures/alignment.json`):
/// random log-probabilities flat and peaked, repeats, the tightest T, one
/// label, one frame, a blank other than 0, 120 labels over 400 frames, and the
/// bundled model's log-probabilities of "ENTER SEVEN". The path must be
/// torchaudio's exactly (the same Viterbi with the same tie-breaking, in
/// float32); the scores are lp[t, path[t]], exact too.
final class ForcedAlignmentTests: XCTestCase {
    func testAgainstTorchaudio() throws {
        let folder = repositoryRoot.appendingPathComponent("Tests/HarkCTCTests/Fixtures")
        let file = try SafeTensorsFile.read(folder.appendingPathComponent("alignment.safetensors"))
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("alignment.json"))) as! [String: Any]
        let cases = index["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 9)
        for c in cases {
            let name = c["name"] as! String
            let (T, K) = (c["T"] as! Int, c["K"] as! Int)
            let labels = c["labels"] as! [Int]
            let lp = Matrix(rows: T, cols: K, data: try file.tensors[name + "/logprobs"]!.floats(name: name))
            let expected = try file.tensors[name + "/path"]!.integers(name: name)
            let scores = try file.tensors[name + "/scores"]!.floats(name: name)
            let path = try ForcedAlignment.align(lp, labels: labels, blank: c["blank"] as! Int)
            XCTAssertEqual(path.labels, expected, name)
            XCTAssertEqual(path.scores, scores, name)
            // The states spell the labels in order, each holding a run of frames.
            let spans = path.labelSpans
            XCTAssertEqual(spans.count, labels.count, name)
            for (i, span) in spans.enumerated() {
                XCTAssertFalse(span.isEmpty, "\(name): label \(i) holds no frame")
                for t in span { XCTAssertEqual(path.labels[t], labels[i], "\(name): frame \(t)") }
            }
            XCTAssertEqual(spans.map(\.lowerBound), spans.map(\.lowerBound).sorted(), name)
        }
    }

    /// A hand-worked case: T = 3, "a a" needs a blank between the two a's,
    /// so the only path is a, blank, a whatever the probabilities.
    func testRepeatsNeedABlankBetween() throws {
        let lp = Matrix(rows: 3, cols: 2, data: [log(0.1), log(0.9), log(0.9), log(0.1), log(0.2), log(0.8)].map { Float($0) })
        let path = try ForcedAlignment.align(lp, labels: [1, 1], blank: 0)
        XCTAssertEqual(path.labels, [1, 0, 1])
        XCTAssertEqual(path.labelSpans, [0..<1, 2..<3])
    }

    /// A long alignment within a band around the diagonal: the full path
    /// when it stays in the band; an error when it cannot.
    func testBandedAlignmentFollowsTheDiagonal() throws {
        let T = 600, K = 6, L = 150
        var rng = SeededGenerator(seed: 4)
        let labels = (0..<L).map { i in 1 + (i + Int(rng.next() % 3)) % (K - 1) }
        // Label i is likely around frame 4i (+ jitter), blank elsewhere.
        var lp = Matrix(rows: T, cols: K)
        for t in 0..<T {
            let i = min(L - 1, max(0, (t + Int(rng.next() % 5) - 2) / 4))
            var row = (0..<K).map { k in k == 0 ? Float(1.5) : (k == labels[i] ? 1.2 : 0) + 0.3 * rng.nextGaussian() }
            let m = row.max()!, z = logf(row.map { expf($0 - m) }.reduce(0, +)) + m
            row = row.map { $0 - z }
            for k in 0..<K { lp[t, k] = row[k] }
        }
        let full = try ForcedAlignment.align(lp, labels: labels, blank: 0)
        let banded = try ForcedAlignment.align(lp, labels: labels, blank: 0, banded: true, maxCells: T * 40)
        XCTAssertEqual(banded, full)
        XCTAssertThrowsError(try ForcedAlignment.align(lp, labels: labels, blank: 0, maxCells: T * 40), "too big unbanded")
        // The labels all at the start: no path within a narrow band around the diagonal.
        var early = Matrix(rows: T, cols: K)
        for t in 0..<T {
            for k in 0..<K {
                early[t, k] = t < 2 * L ? (k == labels[min(L - 1, t / 2)] || k == 0 ? 0 : -.infinity) : (k == 0 ? 0 : -.infinity)
            }
        }
        XCTAssertEqual(try ForcedAlignment.align(early, labels: labels, blank: 0).labelSpans.last?.upperBound ?? 0, 2 * L, accuracy: 2)
        XCTAssertThrowsError(try ForcedAlignment.align(early, labels: labels, blank: 0, banded: true, maxCells: T * 20)) { error in
            XCTAssertTrue("\(error)".contains("band"), "\(error)")
        }
    }

    func testImpossibleAndBadInputsAreErrors() {
        let lp = Matrix(rows: 2, cols: 3)
        for (labels, blank, message) in [
            ([1, 1], 0, "cannot hold"), ([0], 0, "the blank"), ([5], 0, "not one of"),
            ([1, 2, 1], 0, "cannot hold"), ([1], 7, "blank 7")
        ] {
            XCTAssertThrowsError(try ForcedAlignment.align(lp, labels: labels, blank: blank)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        XCTAssertThrowsError(try ForcedAlignment.align(Matrix(rows: ForcedAlignment.maxCells / 3 + 1, cols: 2), labels: [1], blank: 0))
    }
}

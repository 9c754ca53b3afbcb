import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkCTC

/// CTC against `torch.nn.functional.ctc_loss` (`scripts/make_ctc_fixtures.py`,
/// versions in `Fixtures/ctc.json`): random cases over T, B, K, L with mixed
/// lengths, repeated labels, empty targets, T = 1, targets too long for their
/// frames, zero-length inputs, very peaked and very flat inputs, a blank other
/// than 0; every reduction; both zero_infinity settings; both gradients; both
/// recursions (scaled probabilities, the fast path, and log space).
///
/// Tolerance: 1e-4 relative (plus 1e-5 absolute for values near 0), as float32
/// log-space recursions over up to 200 frames accumulate rounding. Where
/// PyTorch's gradient is NaN (an impossible target without zero_infinity),
/// Hark's is 0 by design.
final class CTCFixtureTests: XCTestCase {
    func testAgainstPyTorch() throws {
        let folder = repositoryRoot.appendingPathComponent("Tests/HarkCTCTests/Fixtures")
        let file = try SafeTensorsFile.read(folder.appendingPathComponent("ctc.safetensors"))
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("ctc.json"))) as! [String: Any]
        func floats(_ n: String) -> [Float] { try! file.tensors[n]!.floats(name: n) }
        var checked = 0
        var worst: Float = 0
        for c in index["cases"] as! [[String: Any]] {
            let name = c["name"] as! String
            let (T, B, K) = (c["T"] as! Int, c["B"] as! Int, c["K"] as! Int)
            let inputLengths = c["input_lengths"] as! [Int]
            let targets = c["targets"] as! [[Int]]
            let x = Matrix(rows: T * B, cols: K, data: floats(name + "/x"))
            let lp = logSoftmax(x)
            for zi in [false, true] {
                for reduction in [CTCLoss.Reduction.none, .sum, .mean] {
                    for logSpace in [false, true] {
                        let prefix = "\(name)/\(zi ? "zi" : "nozi").\(reduction.rawValue)"
                        var ctc = CTCLoss(blank: c["blank"] as! Int, reduction: reduction, zeroInfinity: zi, threads: 2)
                        ctc.kernels = logSpace ? .reference : .fast
                        let r = ctc(logProbs: SequenceBatch(data: lp, steps: T, lengths: inputLengths), targets: targets)
                        let fused = ctc.fromActivations(SequenceBatch(data: x, steps: T, lengths: inputLengths), targets: targets)
                        let expectedLoss = floats(prefix + ".loss")
                        let actualLoss = reduction == .none ? r.losses : [r.loss]
                        for (a, e) in zip(actualLoss, expectedLoss) {
                            if e.isInfinite { XCTAssertEqual(a, e, "\(prefix) loss"); continue }
                            XCTAssertEqual(a, e, accuracy: 1e-5 + 1e-4 * abs(e), "\(prefix) loss")
                            worst = max(worst, abs(a - e) / max(abs(e), 1e-3))
                        }
                        XCTAssertEqual(fused.losses, r.losses, "\(prefix): the fused path gives the same losses")
                        let gradPrefix = "\(name)/\(zi ? "zi" : "nozi").\(reduction == .none ? "sum" : reduction.rawValue)"
                        for (actual, key) in [(r.gradient, "grad_logprobs"), (fused.gradient, "grad_x")] {
                            let expected = floats(gradPrefix + "." + key).map { $0.isNaN ? 0 : $0 }
                            XCTAssertFalse(actual.data.contains { $0.isNaN }, "\(prefix) \(key) has NaN")
                            let cmp = compare(actual.data, expected, absolute: 1e-5, relative: 1e-4)
                            XCTAssertNil(cmp.firstBad, "\(prefix) \(key): \(cmp)")
                        }
                        checked += 1
                    }
                }
            }
        }
        XCTAssertEqual(checked, 132)
        print("CTC fixtures: \(checked) case × reduction × zero_infinity × recursion combinations; worst loss rel error \(worst)")
    }

    /// Each utterance of a padded batch gets the loss and gradient it gets alone.
    func testBatchEqualsUtterancesAlone() throws {
        var rng = SeededGenerator(seed: 3)
        let K = 5
        let lengths = [7, 6, 4], targets = [[1, 2], [3, 3, 1], [4]]
        let utterances = lengths.map { T in Matrix(rows: T, cols: K, data: (0..<(T * K)).map { _ in rng.nextGaussian() }) }
        let batch = SequenceBatch(padding: utterances)
        let together = CTCLoss(reduction: .none).fromActivations(batch, targets: targets)
        for (b, x) in utterances.enumerated() {
            let alone = CTCLoss(reduction: .none).fromActivations(SequenceBatch(single: x), targets: [targets[b]])
            XCTAssertEqual(together.losses[b], alone.losses[0])
            XCTAssertEqual(batch.with(data: together.gradient).sequence(b), alone.gradient)
        }
    }
}

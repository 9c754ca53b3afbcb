import Foundation
@testable import HarkCTC
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

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
                    ctc.forceLogSpace = logSpace
                    let r = ctc(logProbs: lp, steps: T, inputLengths: inputLengths, targets: targets)
                    let fused = ctc.fromActivations(x, steps: T, inputLengths: inputLengths, targets: targets)
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

    func testBatchFirstLayoutGivesTheSameResult() throws {
        var rng = SeededGenerator(seed: 3)
        let T = 7, B = 3, K = 5
        let x = Matrix(rows: T * B, cols: K, data: (0..<(T * B * K)).map { _ in rng.nextGaussian() })
        var bf = Matrix(rows: T * B, cols: K)
        for t in 0..<T { for b in 0..<B { for k in 0..<K { bf[b * T + t, k] = x[t * B + b, k] } } }
        let targets = [[1, 2], [3, 3, 1], [4]], lengths = [7, 6, 4]
        let a = CTCLoss(reduction: .none).fromActivations(x, steps: T, inputLengths: lengths, targets: targets)
        let b = CTCLoss(reduction: .none).fromActivations(bf, steps: T, inputLengths: lengths, targets: targets, batchFirst: true)
        XCTAssertEqual(a.losses, b.losses)
        for t in 0..<T { for bb in 0..<B { for k in 0..<K { XCTAssertEqual(a.gradient[t * B + bb, k], b.gradient[bb * T + t, k]) } } }
    }
}

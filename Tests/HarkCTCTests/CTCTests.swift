import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkCTC

/// Small cases worked by hand or by brute force over every alignment.
final class CTCTests: XCTestCase {
    func randomLogProbs(_ T: Int, _ K: Int, seed: UInt64, scale: Float = 1) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return logSoftmax(Matrix(rows: T, cols: K, data: (0..<(T * K)).map { _ in rng.nextGaussian() * scale }))
    }

    /// collapse(path): merge repeats, drop blanks.
    func collapse(_ path: [Int], blank: Int = 0) -> [Int] {
        var out: [Int] = [], prev = -1
        for k in path { if k != prev && k != blank { out.append(k) }; prev = k }
        return out
    }

    /// P(labels) for every label sequence, by summing over all K^T paths.
    func bruteForce(_ lp: Matrix) -> [[Int]: Double] {
        let T = lp.rows, K = lp.cols
        var table: [[Int]: Double] = [:]
        var path = [Int](repeating: 0, count: T)
        for code in 0..<Int(pow(Double(K), Double(T))) {
            var c = code
            var logP = 0.0
            for t in 0..<T { path[t] = c % K; c /= K; logP += Double(lp[t, path[t]]) }
            table[collapse(path), default: 0] += exp(logP)
        }
        return table
    }

    func testHandWorkedTwoFrames() {
        // K = 2 (blank 0, label 1), target "1": the alignments 11, 01, 10.
        let y: [[Float]] = [[0.4, 0.6], [0.3, 0.7]]
        let lp = Matrix(y.map { $0.map(logf) })
        let p = 0.6 * 0.7 + 0.4 * 0.7 + 0.6 * 0.3
        let r = CTCLoss(reduction: .none)(logProbs: SequenceBatch(single: lp), targets: [[1]])
        XCTAssertEqual(Double(r.losses[0]), -log(p), accuracy: 1e-6)
        // γ₀(1) = (0.6·0.7 + 0.6·0.3)/p: the gradient at frame 0, class 1 is y − γ.
        XCTAssertEqual(Double(r.gradient[0, 1]), 0.6 - (0.6 * 0.7 + 0.6 * 0.3) / p, accuracy: 1e-6)
        XCTAssertEqual(Double(r.gradient[1, 0]), 0.3 - 0.6 * 0.3 / p, accuracy: 1e-6)
        // Target "1 1" needs 3 frames: impossible in 2.
        let impossible = CTCLoss(reduction: .none)(logProbs: SequenceBatch(single: lp), targets: [[1, 1]])
        XCTAssertEqual(impossible.losses[0], .infinity)
        XCTAssertEqual(impossible.gradient.data, [0, 0, 0, 0])
        let zeroed = CTCLoss(reduction: .none, zeroInfinity: true)(logProbs: SequenceBatch(single: lp), targets: [[1, 1]])
        XCTAssertEqual(zeroed.losses[0], 0)
    }

    func testLossEqualsBruteForceSumOverAlignments() {
        for seed: UInt64 in 1...3 {
            let lp = randomLogProbs(5, 3, seed: seed)
            let table = bruteForce(lp)
            for target in [[], [1], [2, 1], [1, 1], [1, 2, 1], [2, 2, 2]] {
                let r = CTCLoss(reduction: .none)(logProbs: SequenceBatch(single: lp), targets: [target])
                let p = table[target] ?? 0
                if p == 0 {
                    XCTAssertEqual(r.losses[0], .infinity, "\(target)")
                } else {
                    XCTAssertEqual(Double(r.losses[0]), -log(p), accuracy: 1e-5, "\(target)")
                }
            }
        }
    }

    /// ∂loss/∂activations against central differences (in float32 with ε = 1e-2:
    /// tolerance 1e-3 + 1e-2·|g|).
    func testFiniteDifferencesThroughLogSoftmax() {
        let T = 6, B = 3, K = 4
        var rng = SeededGenerator(seed: 17)
        var x = Matrix(rows: T * B, cols: K, data: (0..<(T * B * K)).map { _ in rng.nextGaussian() })
        let targets = [[1, 2, 2], [3], [1, 3, 1, 2]], lengths = [6, 4, 6]
        for reduction in [CTCLoss.Reduction.sum, .mean] {
            let ctc = CTCLoss(reduction: reduction)
            let g = ctc.fromActivations(SequenceBatch(data: x, steps: T, lengths: lengths), targets: targets).gradient
            let eps: Float = 1e-2
            for i in 0..<x.data.count {
                let saved = x.data[i]
                x.data[i] = saved + eps
                let up = Double(ctc.fromActivations(SequenceBatch(data: x, steps: T, lengths: lengths), targets: targets).loss)
                x.data[i] = saved - eps
                let down = Double(ctc.fromActivations(SequenceBatch(data: x, steps: T, lengths: lengths), targets: targets).loss)
                x.data[i] = saved
                let numeric = Float((up - down) / Double(2 * eps))
                XCTAssertEqual(g.data[i], numeric, accuracy: 1e-3 + 1e-2 * abs(numeric), "\(reduction) ∂x[\(i)]")
            }
        }
    }

    func testExtremeInputsNeverGiveNaN() {
        let T = 50, K = 6
        for scale: Float in [1e-4, 80] {
            let lp = randomLogProbs(T, K, seed: 5, scale: scale)
            let r = CTCLoss(reduction: .mean).fromActivations(SequenceBatch(single: lp), targets: [[1, 2, 3, 3, 4, 5, 1]])
            XCTAssertTrue(r.loss.isFinite, "scale \(scale)")
            XCTAssertFalse(r.gradient.data.contains { !$0.isFinite }, "scale \(scale)")
        }
    }

    func testGreedyOnHandMadePosteriors() {
        // Arg-max per frame: 1 1 0 2 2 1 0 1  → tokens 1, 2, 1, 1.
        let best = [1, 1, 0, 2, 2, 1, 0, 1]
        let peaks: [Float] = [0.9, 0.7, 0.8, 0.6, 0.8, 0.5, 0.9, 0.6]
        var lp = Matrix(rows: 8, cols: 3)
        for t in 0..<8 {
            for k in 0..<3 { lp[t, k] = logf(k == best[t] ? peaks[t] : (1 - peaks[t]) / 2) }
        }
        let d = GreedyDecoder.decode(lp)
        XCTAssertEqual(d.labels, [1, 2, 1, 1])
        XCTAssertEqual(d.tokens.map(\.firstFrame), [0, 3, 5, 7])
        XCTAssertEqual(d.tokens.map(\.lastFrame), [1, 4, 5, 7])
        XCTAssertEqual(d.tokens[0].confidence, 0.8, accuracy: 1e-6)
        XCTAssertEqual(d.tokens[1].confidence, 0.7, accuracy: 1e-6)
        XCTAssertEqual(d.pathLogProbability, peaks.map(logf).reduce(0, +), accuracy: 1e-5)
        XCTAssertEqual(GreedyDecoder.decode(lp, length: 2).labels, [1])
    }

    func testBeamProbabilitiesEqualBruteForceWhenNothingIsPruned() {
        let T = 4, K = 3
        for seed: UInt64 in 1...3 {
            let lp = randomLogProbs(T, K, seed: seed)
            let table = bruteForce(lp)
            let hyps = PrefixBeamSearch(BeamSearchOptions(width: 100, nBest: 100)).decode(lp)
            XCTAssertEqual(hyps.count, table.count)
            for h in hyps {
                XCTAssertEqual(Double(h.logProbability), log(table[h.labels]!), accuracy: 1e-5, "\(h.labels)")
            }
            let best = table.max { $0.value < $1.value }!.key
            XCTAssertEqual(hyps[0].labels, best)
        }
    }

    func testBeamNeverBelowGreedyPath() {
        for seed: UInt64 in 1...20 {
            let lp = randomLogProbs(30, 6, seed: seed, scale: 2)
            let greedy = GreedyDecoder.decode(lp)
            let beam = PrefixBeamSearch(BeamSearchOptions(width: 8)).decode(lp)[0]
            XCTAssertGreaterThanOrEqual(beam.logProbability, greedy.pathLogProbability - 1e-5)
        }
    }

    /// A stateful scorer: +5 for each 2, and at the end +1 per token counted in its state.
    struct PreferTwo: PrefixScorer {
        var initialState: Int { 0 }
        func advance(_ state: Int, token: Int) -> (state: Int, score: Float) { (state + 1, token == 2 ? 5 : 0) }
        func finish(_ state: Int) -> Float { Float(state) }
    }

    func testScorerHookChangesTheRanking() {
        var lp = Matrix(rows: 3, cols: 3)
        for t in 0..<3 { lp[t, 0] = logf(0.2); lp[t, 1] = logf(0.5); lp[t, 2] = logf(0.3) }
        XCTAssertEqual(PrefixBeamSearch(BeamSearchOptions(width: 10)).decode(lp)[0].labels, [1])
        let biased = PrefixBeamSearch(BeamSearchOptions(width: 10, scorer: PreferTwo())).decode(lp)[0]
        XCTAssertTrue(biased.labels.contains(2), "\(biased.labels)")
        // Scorer score: 5 per 2 while growing, plus the token count at the end.
        let twos = biased.labels.filter { $0 == 2 }.count
        XCTAssertEqual(biased.scorerScore, Float(5 * twos + biased.labels.count))
        XCTAssertEqual(biased.score, biased.logProbability + biased.scorerScore, accuracy: 1e-5)
    }

    /// The beam keeps where each token was heard: on clear posteriors its
    /// tokens, frames and confidences equal greedy decoding's.
    func testBeamTokensCarryFramesAndConfidences() {
        let best = [0, 1, 1, 0, 0, 2, 2, 2, 0, 1, 0, 0]
        var lp = Matrix(rows: best.count, cols: 3)
        for t in best.indices { for k in 0..<3 { lp[t, k] = logf(k == best[t] ? 0.9 : 0.05) } }
        let greedy = GreedyDecoder.decode(lp)
        let beam = PrefixBeamSearch(BeamSearchOptions(width: 8)).decode(lp)[0]
        XCTAssertEqual(beam.labels, [1, 2, 1])
        XCTAssertEqual(beam.tokens.map(\.firstFrame), greedy.tokens.map(\.firstFrame))
        XCTAssertEqual(beam.tokens.map(\.lastFrame), greedy.tokens.map(\.lastFrame))
        for (b, g) in zip(beam.tokens, greedy.tokens) { XCTAssertEqual(b.confidence, g.confidence, accuracy: 1e-6) }
    }

    /// `Decoder` runs what the options say; n-best comes back ordered by score.
    func testDecoderOptionsAndNBestOrder() {
        let lp = randomLogProbs(20, 5, seed: 9, scale: 1)
        XCTAssertEqual(Decoder(.greedy).decode(lp).map(\.labels), [GreedyDecoder.decode(lp).labels])
        let hyps = Decoder(.beam(BeamSearchOptions(width: 16, nBest: 5))).decode(lp)
        XCTAssertEqual(hyps.count, 5)
        XCTAssertEqual(hyps.map(\.score), hyps.map(\.score).sorted(by: >))
        // A threshold of log 1 = 0 prunes every token: only the empty prefix is left.
        let pruned = Decoder(.beam(BeamSearchOptions(width: 16, tokenThreshold: 0))).decode(lp)
        XCTAssertEqual(pruned[0].labels, [])
        let batch = SequenceBatch(padding: [lp, randomLogProbs(7, 5, seed: 10, scale: 1)])
        XCTAssertEqual(
            Decoder(.beam(width: 4)).decode(batch)[1].map(\.labels), Decoder(.beam(width: 4)).decode(batch.sequence(1)).map(\.labels))
    }
}

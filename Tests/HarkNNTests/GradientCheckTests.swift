import Foundation
import HarkCore
@testable import HarkNN
import HarkTestSupport
import XCTest

/// Finite-difference checks of every backward pass: the analytic gradient of
/// a scalar loss against (loss(θ + ε) − loss(θ − ε)) / 2ε.
///
/// float32 central differences with ε = 1e-2 have a truncation error of
/// order ε² ≈ 1e-4 and a rounding error of order 1e-7 · |loss| / ε ≈ 1e-4,
/// hence the tolerance 2e-3 + 2e-2 · |gradient|. (ReLU layers: see below.)
final class GradientCheckTests: XCTestCase {
    var epsilon: Float = 1e-2

    func assertGradient(_ analytic: Float, _ loss: (Float) -> Double, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        let numeric = Float((loss(epsilon) - loss(-epsilon)) / Double(2 * epsilon))
        XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), label, file: file, line: line)
    }

    func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> Matrix {
        Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in rng.nextGaussian() })
    }

    func dot(_ a: Matrix, _ b: Matrix) -> Double {
        zip(a.data, b.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func testRecurrentLayersAllCells() {
        for cell in RecurrentCell.allCases {
            for batchFirst in [false, true] {
                checkRecurrent(cell: cell, batchFirst: batchFirst)
            }
        }
    }

    func checkRecurrent(cell: RecurrentCell, batchFirst: Bool) {
        let T = 5, B = 3, I = 4, H = 3, L = 2, D = 2
        var rng = SeededGenerator(seed: 42)
        let rnn = Recurrent(.init(cell: cell, inputSize: I, hiddenSize: H, numLayers: L, batchFirst: batchFirst,
                                  dropout: 0.3, bidirectional: true), rng: &rng)
        let lengths = [5, 2, 4]
        var x = randomMatrix(T * B, I, &rng)
        // Padded positions carry no gradient; leave them zero so the checks below skip nothing real.
        let rOut = randomMatrix(T * B, D * H, &rng), rH = randomMatrix(L * D * B, H, &rng), rC = randomMatrix(L * D * B, H, &rng)
        var h0 = randomMatrix(L * D * B, H, &rng), c0 = randomMatrix(L * D * B, H, &rng)
        let withC = cell == .lstm
        func loss() -> Double {
            var dropout = SeededGenerator(seed: 7)   // the same mask every evaluation
            let out = withUnsafeMutablePointer(to: &dropout) {
                rnn.forward(x, steps: T, lengths: lengths, h0: h0, c0: withC ? c0 : nil, dropoutRNG: $0)
            }
            return dot(out.output, rOut) + dot(out.hN, rH) + (withC ? dot(out.cN!, rC) : 0)
        }
        // ReLU is not differentiable at 0: a central difference that straddles a
        // kink averages the two slopes. ε must stay below the distance of every
        // pre-activation from 0, so ReLU gets a smaller one.
        epsilon = cell == .rnnRelu ? 3e-4 : 1e-2
        rnn.zeroGrad()
        var dropout = SeededGenerator(seed: 7)
        let out = withUnsafeMutablePointer(to: &dropout) {
            rnn.forward(x, steps: T, lengths: lengths, h0: h0, c0: withC ? c0 : nil, dropoutRNG: $0)
        }
        let grads = rnn.backward(rOut, dhN: rH, dcN: withC ? rC : nil, cache: out.cache)
        var pick = SeededGenerator(seed: 3)
        let label = "\(cell) batchFirst=\(batchFirst)"
        for p in rnn.parameters {
            for _ in 0..<4 {
                let i = Int(pick.next() % UInt64(p.count))
                let saved = p.value[i]
                assertGradient(p.grad[i], { e in p.value[i] = saved + e; defer { p.value[i] = saved }; return loss() },
                               "\(label) ∂\(p.name)[\(i)]")
            }
        }
        for _ in 0..<8 {
            let i = Int(pick.next() % UInt64(x.data.count))
            let saved = x.data[i]
            assertGradient(grads.input.data[i], { e in x.data[i] = saved + e; defer { x.data[i] = saved }; return loss() },
                           "\(label) ∂x[\(i)]")
        }
        for _ in 0..<4 {
            let i = Int(pick.next() % UInt64(h0.data.count))
            let saved = h0.data[i]
            assertGradient(grads.h0.data[i], { e in h0.data[i] = saved + e; defer { h0.data[i] = saved }; return loss() },
                           "\(label) ∂h0[\(i)]")
            if withC {
                let savedC = c0.data[i]
                assertGradient(grads.c0!.data[i], { e in c0.data[i] = savedC + e; defer { c0.data[i] = savedC }; return loss() },
                               "\(label) ∂c0[\(i)]")
            }
        }
    }

    func testRecurrentWithoutBiases() {
        var rng = SeededGenerator(seed: 8)
        let rnn = Recurrent(.init(cell: .gru, inputSize: 3, hiddenSize: 4, numLayers: 2, bias: false, bidirectional: true), rng: &rng)
        XCTAssertEqual(rnn.parameters.map(\.name), ["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                                                    "weight_ih_l1", "weight_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse"])
        let x = randomMatrix(4 * 2, 3, &rng), r = randomMatrix(4 * 2, 8, &rng)
        func loss() -> Double { dot(rnn.forward(x, steps: 4, lengths: [4, 3]).output, r) }
        rnn.zeroGrad()
        _ = rnn.backward(r, cache: rnn.forward(x, steps: 4, lengths: [4, 3]).cache)
        for p in rnn.parameters {
            for i in stride(from: 0, to: p.count, by: 5) {
                let saved = p.value[i]
                assertGradient(p.grad[i], { e in p.value[i] = saved + e; defer { p.value[i] = saved }; return loss() }, "no-bias ∂\(p.name)[\(i)]")
            }
        }
    }

    func testLinear() {
        var rng = SeededGenerator(seed: 5)
        let layer = Linear(inputSize: 4, outputSize: 3, rng: &rng)
        var x = randomMatrix(6, 4, &rng)
        let r = randomMatrix(6, 3, &rng)
        func loss() -> Double { dot(layer.forward(x), r) }
        layer.zeroGrad()
        let dx = layer.backward(r, input: x)
        for p in layer.parameters {
            for i in 0..<p.count {
                let saved = p.value[i]
                assertGradient(p.grad[i], { e in p.value[i] = saved + e; defer { p.value[i] = saved }; return loss() }, "Linear ∂\(p.name)[\(i)]")
            }
        }
        for i in 0..<x.data.count {
            let saved = x.data[i]
            assertGradient(dx.data[i], { e in x.data[i] = saved + e; defer { x.data[i] = saved }; return loss() }, "Linear ∂x[\(i)]")
        }
    }

    func testCrossEntropyAndLastStep() {
        var rng = SeededGenerator(seed: 9)
        var z = randomMatrix(4 * 3, 5, &rng)   // B = 4, T = 3, batch-first
        let targets = [0, 3, 4, 1]
        func loss() -> Double { Double(crossEntropy(lastStep(z, steps: 3, batchFirst: true), targets: targets).loss) }
        let g = lastStepBackward(crossEntropy(lastStep(z, steps: 3, batchFirst: true), targets: targets).gradient,
                                 steps: 3, batchFirst: true)
        for i in 0..<z.data.count {
            let saved = z.data[i]
            assertGradient(g.data[i], { e in z.data[i] = saved + e; defer { z.data[i] = saved }; return loss() }, "CE ∂z[\(i)]")
        }
    }
}

final class RecurrentBehaviourTests: XCTestCase {
    func testDropoutOnlyWhenTrainingAndSeeded() {
        var rng = SeededGenerator(seed: 1)
        let rnn = Recurrent(.init(cell: .gru, inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5), rng: &rng)
        let x = Matrix(rows: 10, cols: 3, data: (0..<30).map { Float($0) / 30 })
        let eval1 = rnn.forward(x, steps: 5).output, eval2 = rnn.forward(x, steps: 5).output
        XCTAssertEqual(eval1, eval2)
        var a = SeededGenerator(seed: 11), b = SeededGenerator(seed: 11), c = SeededGenerator(seed: 12)
        let trainA = rnn.forward(x, steps: 5, dropoutRNG: &a).output
        XCTAssertEqual(trainA, rnn.forward(x, steps: 5, dropoutRNG: &b).output)
        XCTAssertNotEqual(trainA, rnn.forward(x, steps: 5, dropoutRNG: &c).output)
        XCTAssertNotEqual(trainA, eval1)
    }

    func testParallelAndSequentialDirectionsAgreeExactly() {
        var rng = SeededGenerator(seed: 2)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 8, hiddenSize: 16, numLayers: 2, bidirectional: true), rng: &rng)
        let x = Matrix(rows: 40, cols: 8, data: (0..<320).map { sinf(Float($0)) })
        rnn.parallelDirections = true
        let a = rnn.forward(x, steps: 10, lengths: [10, 7, 3, 9])
        rnn.parallelDirections = false
        let b = rnn.forward(x, steps: 10, lengths: [10, 7, 3, 9])
        XCTAssertEqual(a.output, b.output)
        XCTAssertEqual(a.hN, b.hN)
    }

    /// The AVX2 LSTM step (H a multiple of 8) against the Swift reference step.
    func testVectorLSTMStepEqualsTheReference() {
        var rng = SeededGenerator(seed: 4)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 5, hiddenSize: 16, numLayers: 2, bidirectional: true), rng: &rng)
        let x = Matrix(rows: 7 * 3, cols: 5, data: (0..<105).map { _ in rng.nextGaussian() * 3 })
        let fast = rnn.forward(x, steps: 7, lengths: [7, 4, 6])
        RecurrentDirection.vectorKernels = false
        defer { RecurrentDirection.vectorKernels = true }
        let reference = rnn.forward(x, steps: 7, lengths: [7, 4, 6])
        assertClose(fast.output, reference.output, absolute: 1e-6, "output")
        assertClose(fast.hN, reference.hN, absolute: 1e-6, "h_n")
        assertClose(fast.cN!, reference.cN!, absolute: 1e-6, "c_n")
    }

    func testInitialisationIsPyTorchsUniformBound() {
        var rng = SeededGenerator(seed: 3)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 10, hiddenSize: 25, numLayers: 2, bidirectional: true), rng: &rng)
        XCTAssertEqual(rnn.parameters.map(\.name), [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"])
        XCTAssertEqual(rnn.parameters[8].shape, [100, 50])
        let all = rnn.parameters.flatMap(\.value)
        XCTAssertLessThanOrEqual(all.map(abs).max()!, 0.2)
        XCTAssertGreaterThan(all.map(abs).max()!, 0.19)
        XCTAssertEqual(all.reduce(0, +) / Float(all.count), 0, accuracy: 0.01)
    }
}

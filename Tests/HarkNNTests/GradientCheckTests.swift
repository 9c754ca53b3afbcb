import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkNN

/// Finite-difference checks of every backward pass: the analytic gradient of
/// a scalar loss against (loss(θ + ε) − loss(θ − ε)) / 2ε.
///
/// float32 central differences with ε = 1e-2 have a truncation error of
/// order ε² ≈ 1e-4 and a rounding error of order 1e-7 · |loss| / ε ≈ 1e-4,
/// hence the tolerance 2e-3 + 2e-2 · |gradient|. (ReLU layers: see below.)
final class GradientCheckTests: XCTestCase {
    var epsilon: Float = 1e-2

    func assertGradient(
        _ analytic: Float, _ loss: (Float) -> Double, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let numeric = Float((loss(epsilon) - loss(-epsilon)) / Double(2 * epsilon))
        XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), label, file: file, line: line)
    }

    func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> Matrix {
        Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in rng.nextGaussian() })
    }

    func dot(_ a: Matrix, _ b: Matrix) -> Double {
        zip(a.data, b.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Every cell with the reference kernels at H = 3, and with the fast
    /// kernels at H = 16 (the AVX2 LSTM step and the packed GEMM, forward and
    /// backward). ReLU is left out at H = 16: with 16 units per direction some
    /// pre-activation always lies within any usable ε of its kink; its fast
    /// path is checked against PyTorch in FastPathFixtureTests instead.
    func testRecurrentLayersAllCells() {
        for cell in RecurrentCell.allCases {
            checkRecurrent(cell: cell, kernels: .reference, hidden: 3)
            if cell != .rnnRelu { checkRecurrent(cell: cell, kernels: .fast, hidden: 16) }
        }
    }

    /// LSTMs with projections (h = W_hr (o ⊙ tanh c)): the reference path
    /// at H = 3, P = 2, and the fast one at H = 32, P = 16 (the packed kernel
    /// for the recurrent product, the projection and both backward products).
    func testLSTMWithProjections() {
        checkRecurrent(cell: .lstm, kernels: .reference, hidden: 3, projection: 2)
        checkRecurrent(cell: .lstm, kernels: .fast, hidden: 32, projection: 16)
    }

    func checkRecurrent(cell: RecurrentCell, kernels: KernelChoice, hidden H: Int, projection P: Int = 0) {
        let T = 5, B = 3, I = 4, L = 2, D = 2, S = P > 0 ? P : H
        var rng = SeededGenerator(seed: 42)
        let rnn = Recurrent(
            .init(
                cell: cell, inputSize: I, hiddenSize: H, numLayers: L,
                dropout: 0.3, bidirectional: true, projectionSize: P), rng: &rng)
        rnn.kernels = kernels
        let lengths = [5, 2, 4]
        var x = randomMatrix(T * B, I, &rng)
        // Padded positions carry no gradient; leave them zero so the checks below skip nothing real.
        let rOut = randomMatrix(T * B, D * S, &rng), rH = randomMatrix(L * D * B, S, &rng), rC = randomMatrix(L * D * B, H, &rng)
        var h0 = randomMatrix(L * D * B, S, &rng), c0 = randomMatrix(L * D * B, H, &rng)
        let withC = cell == .lstm
        func run() -> Recurrent.Output {
            // The same dropout mask every evaluation.
            rnn.forward(
                SequenceBatch(data: x, steps: T, lengths: lengths),
                initialState: RecurrentState(h: h0, c: withC ? c0 : nil), dropout: SeededGenerator(seed: 7))
        }
        func loss() -> Double {
            let out = run()
            return dot(out.output.data, rOut) + dot(out.finalState.h, rH) + (withC ? dot(out.finalState.c!, rC) : 0)
        }
        // ReLU is not differentiable at 0: a central difference that straddles a
        // kink averages the two slopes. ε must stay below the distance of every
        // pre-activation from 0, so ReLU gets a smaller one.
        epsilon = cell == .rnnRelu ? 3e-4 : 1e-2
        rnn.zeroGrad()
        let out = run()
        let grads = rnn.backward(rOut, dFinalState: RecurrentState(h: rH, c: withC ? rC : nil), cache: out.cache)
        var pick = SeededGenerator(seed: 3)
        let label = "\(cell) \(kernels) H=\(H)" + (P > 0 ? " P=\(P)" : "")
        for p in rnn.parameters {
            for _ in 0..<4 {
                let i = Int(pick.next() % UInt64(p.count))
                let saved = p.value[i]
                assertGradient(
                    p.grad[i],
                    { e in
                        p.value[i] = saved + e; defer { p.value[i] = saved }; return loss()
                    },
                    "\(label) ∂\(p.name)[\(i)]")
            }
        }
        for _ in 0..<8 {
            let i = Int(pick.next() % UInt64(x.data.count))
            let saved = x.data[i]
            assertGradient(
                grads.input.data[i],
                { e in
                    x.data[i] = saved + e; defer { x.data[i] = saved }; return loss()
                },
                "\(label) ∂x[\(i)]")
        }
        for _ in 0..<4 {
            let i = Int(pick.next() % UInt64(h0.data.count))
            let saved = h0.data[i]
            assertGradient(
                grads.initialState.h.data[i],
                { e in
                    h0.data[i] = saved + e; defer { h0.data[i] = saved }; return loss()
                },
                "\(label) ∂h0[\(i)]")
            if withC {
                let j = Int(pick.next() % UInt64(c0.data.count))
                let savedC = c0.data[j]
                assertGradient(
                    grads.initialState.c!.data[j],
                    { e in
                        c0.data[j] = savedC + e; defer { c0.data[j] = savedC }; return loss()
                    },
                    "\(label) ∂c0[\(j)]")
            }
        }
    }

    /// The convolutional front end: two layers, strides and padding in both
    /// axes, three utterances of different lengths; no activation (where the
    /// difference quotient is exact) and ReLU (a small ε, as for the Elman cell).
    func testConvFrontEnd() {
        for activation in [Conv2d.Activation.none, .relu, .hardtanh] {
            var rng = SeededGenerator(seed: 11)
            let options = ConvFrontEnd.Options(
                layers: [
                    .init(channels: 3, kernel: [3, 3], stride: [2, 1], padding: [1, 1]),
                    .init(channels: 2, kernel: [2, 3], stride: [1, 2], padding: [0, 1])
                ],
                activation: activation)
            let front = ConvFrontEnd(options, inputBins: 6, rng: &rng)
            let T = 9, B = 3, lengths = [9, 6, 4]
            var xData = randomMatrix(T * B, 6, &rng)
            for b in 0..<B { for t in lengths[b]..<T { for f in 0..<6 { xData[t * B + b, f] = 0 } } }
            let x = SequenceBatch(data: xData, steps: T, lengths: lengths)
            let (probe, _) = front.forward(x)
            let r = randomMatrix(probe.data.rows, probe.width, &rng)
            func loss() -> Double {
                let (out, _) = front.forward(x, keepCache: false)
                // Only each utterance's own frames count.
                var sum = 0.0
                for b in 0..<B {
                    for t in 0..<out.lengths[b] {
                        for j in 0..<out.width { sum += Double(out.data[t * B + b, j]) * Double(r[t * B + b, j]) }
                    }
                }
                return sum
            }
            var masked = r
            for b in 0..<B { for t in probe.lengths[b]..<probe.steps { for j in 0..<probe.width { masked[t * B + b, j] = 0 } } }
            epsilon = activation == .none ? 1e-2 : 3e-4
            front.zeroGrad()
            let (_, cache) = front.forward(x)
            front.backward(masked, cache: cache)
            var pick = SeededGenerator(seed: 5)
            for p in front.parameters {
                for _ in 0..<6 {
                    let i = Int(pick.next() % UInt64(p.count))
                    let saved = p.value[i]
                    assertGradient(
                        p.grad[i],
                        { e in
                            p.value[i] = saved + e; defer { p.value[i] = saved }; return loss()
                        },
                        "conv \(activation) ∂\(p.name)[\(i)]")
                }
            }
        }
    }

    func testRecurrentWithoutBiases() {
        var rng = SeededGenerator(seed: 8)
        let rnn = Recurrent(.init(cell: .gru, inputSize: 3, hiddenSize: 4, numLayers: 2, bias: false, bidirectional: true), rng: &rng)
        XCTAssertEqual(
            rnn.parameters.map(\.name),
            [
                "weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse"
            ])
        let x = randomMatrix(4 * 2, 3, &rng), r = randomMatrix(4 * 2, 8, &rng)
        let batch = { SequenceBatch(data: x, steps: 4, lengths: [4, 3]) }
        func loss() -> Double { dot(rnn.forward(batch()).output.data, r) }
        rnn.zeroGrad()
        _ = rnn.backward(r, cache: rnn.forward(batch()).cache)
        for p in rnn.parameters {
            for i in stride(from: 0, to: p.count, by: 5) {
                let saved = p.value[i]
                assertGradient(
                    p.grad[i],
                    { e in
                        p.value[i] = saved + e; defer { p.value[i] = saved }; return loss()
                    }, "no-bias ∂\(p.name)[\(i)]")
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
                assertGradient(
                    p.grad[i],
                    { e in
                        p.value[i] = saved + e; defer { p.value[i] = saved }; return loss()
                    }, "Linear ∂\(p.name)[\(i)]")
            }
        }
        for i in 0..<x.data.count {
            let saved = x.data[i]
            assertGradient(
                dx.data[i],
                { e in
                    x.data[i] = saved + e; defer { x.data[i] = saved }; return loss()
                }, "Linear ∂x[\(i)]")
        }
    }

    func testCrossEntropyAndLastStep() {
        var rng = SeededGenerator(seed: 9)
        var z = randomMatrix(3 * 4, 5, &rng)  // T = 3, B = 4, time-major; sequence 2 is 2 steps long
        let targets = [0, 3, 4, 1]
        let layout = SequenceLayout(steps: 3, batch: 4, lengths: [3, 3, 2, 3])
        func loss() -> Double { Double(crossEntropy(lastStep(SequenceBatch(data: z, layout: layout)), targets: targets).loss) }
        let g = lastStepBackward(
            crossEntropy(lastStep(SequenceBatch(data: z, layout: layout)), targets: targets).gradient,
            layout: layout)
        for i in 0..<z.data.count {
            let saved = z.data[i]
            assertGradient(
                g.data[i],
                { e in
                    z.data[i] = saved + e; defer { z.data[i] = saved }; return loss()
                }, "CE ∂z[\(i)]")
        }
    }
}

final class RecurrentBehaviourTests: XCTestCase {
    func testDropoutOnlyWhenTrainingAndSeeded() {
        var rng = SeededGenerator(seed: 1)
        let rnn = Recurrent(.init(cell: .gru, inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5), rng: &rng)
        let x = SequenceBatch(data: Matrix(rows: 10, cols: 3, data: (0..<30).map { Float($0) / 30 }), steps: 5, lengths: [5, 5])
        let eval1 = rnn.forward(x).output, eval2 = rnn.forward(x).output
        XCTAssertEqual(eval1, eval2)
        let trainA = rnn.forward(x, dropout: SeededGenerator(seed: 11)).output
        XCTAssertEqual(trainA, rnn.forward(x, dropout: SeededGenerator(seed: 11)).output)
        XCTAssertNotEqual(trainA, rnn.forward(x, dropout: SeededGenerator(seed: 12)).output)
        XCTAssertNotEqual(trainA, eval1)
    }

    func testParallelAndSequentialDirectionsAgreeExactly() {
        var rng = SeededGenerator(seed: 2)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 8, hiddenSize: 16, numLayers: 2, bidirectional: true), rng: &rng)
        let x = SequenceBatch(data: Matrix(rows: 40, cols: 8, data: (0..<320).map { sinf(Float($0)) }), steps: 10, lengths: [10, 7, 3, 9])
        rnn.parallelDirections = true
        let a = rnn.forward(x)
        rnn.parallelDirections = false
        let b = rnn.forward(x)
        XCTAssertEqual(a.output, b.output)
        XCTAssertEqual(a.finalState, b.finalState)
    }

    /// The AVX2 LSTM step (H a multiple of 8) against the Swift reference step.
    func testVectorLSTMStepEqualsTheReference() {
        var rng = SeededGenerator(seed: 4)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 5, hiddenSize: 16, numLayers: 2, bidirectional: true), rng: &rng)
        let x = SequenceBatch(
            data: Matrix(rows: 7 * 3, cols: 5, data: (0..<105).map { _ in rng.nextGaussian() * 3 }),
            steps: 7, lengths: [7, 4, 6])
        let fast = rnn.forward(x)
        rnn.kernels = .reference
        let reference = rnn.forward(x)
        assertClose(fast.output.data, reference.output.data, absolute: 1e-6, "output")
        assertClose(fast.finalState.h, reference.finalState.h, absolute: 1e-6, "h_n")
        assertClose(fast.finalState.c!, reference.finalState.c!, absolute: 1e-6, "c_n")
    }

    /// A unidirectional stream fed in chunks, each starting from the previous
    /// chunk's final state, gives the same outputs as the whole sequence at once.
    func testStateCarriedAcrossChunksEqualsOneRun() {
        for cell in RecurrentCell.allCases {
            var rng = SeededGenerator(seed: 6)
            let rnn = Recurrent(.init(cell: cell, inputSize: 6, hiddenSize: 16, numLayers: 2), rng: &rng)
            let T = 12, B = 2, I = 6
            let x = Matrix(rows: T * B, cols: I, data: (0..<(T * B * I)).map { _ in rng.nextGaussian() })
            let whole = rnn.forward(SequenceBatch(data: x, steps: T, lengths: [T, T]), keepCache: false)
            var state: RecurrentState?
            var pieces: [Float] = []
            for (start, end) in [(0, 5), (5, 6), (6, 12)] {
                let chunk = Matrix(rows: (end - start) * B, cols: I, data: Array(x.data[(start * B * I)..<(end * B * I)]))
                let out = rnn.forward(
                    SequenceBatch(data: chunk, steps: end - start, lengths: [end - start, end - start]),
                    initialState: state, keepCache: false)
                pieces += out.output.data.data
                state = out.finalState
            }
            assertClose(Matrix(rows: T * B, cols: 16, data: pieces), whole.output.data, absolute: 1e-6, "\(cell) chunked output")
            assertClose(state!.h, whole.finalState.h, absolute: 1e-6, "\(cell) chunked h_n")
        }
    }

    func testInitialisationIsPyTorchsUniformBound() {
        var rng = SeededGenerator(seed: 3)
        let rnn = Recurrent(.init(cell: .lstm, inputSize: 10, hiddenSize: 25, numLayers: 2, bidirectional: true), rng: &rng)
        XCTAssertEqual(
            rnn.parameters.map(\.name),
            [
                "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"
            ])
        XCTAssertEqual(rnn.parameters[8].shape, [100, 50])
        let all = rnn.parameters.flatMap(\.value)
        XCTAssertLessThanOrEqual(all.map(abs).max()!, 0.2)
        XCTAssertGreaterThan(all.map(abs).max()!, 0.19)
        XCTAssertEqual(all.reduce(0, +) / Float(all.count), 0, accuracy: 0.01)
    }
}

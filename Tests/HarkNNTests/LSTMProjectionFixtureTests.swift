import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// LSTMs with projections against PyTorch's `nn.LSTM(proj_size=P)`
/// (`scripts/make_nn_fixtures.py lstm_proj`, versions in `Fixtures/lstm_proj.json`):
/// P from 8 to 64 with H from 16 to 128, one and two layers, uni- and
/// bidirectional, mixed lengths, zero and given initial states. Values as in
/// `FastPathFixtureTests` (generated from a hash on both sides, PyTorch in
/// float64); outputs, final states and every gradient within 1e-5, with both
/// kernel choices and both ways of running the directions.
final class LSTMProjectionFixtureTests: XCTestCase {
    func testEveryCaseMatchesPyTorch() throws {
        let fx = try TorchFixture("lstm_proj")
        XCTAssertEqual(fx.cases.count, 5)
        var worst: Float = 0
        for c in fx.cases {
            let name = c["name"] as! String, seed = c["seed"] as! Int
            let H = c["hidden"] as! Int, P = c["projection"] as! Int, B = c["batch"] as! Int, T = c["steps"] as! Int
            let I = c["input_size"] as! Int, L = c["layers"] as! Int, bidirectional = c["bidirectional"] as! Bool
            let lengths = c["lengths"] as! [Int], D = bidirectional ? 2 : 1
            var values: [String: [Float]] = [:]
            for (n, g) in (c["generated"] as! [[String: Any]]).enumerated() {
                let shape = g["shape"] as! [Int], bound = (g["bound"] as! NSNumber).doubleValue
                let v = FixtureValues.values(seed: seed, tensor: n, count: shape.reduce(1, *), bound: bound)
                XCTAssertEqual(
                    v.reduce(0.0) { $0 + Double($1) }, (g["sum"] as! NSNumber).doubleValue,
                    accuracy: 1e-10 * max(1, abs((g["sum"] as! NSNumber).doubleValue)))
                values[g["name"] as! String] = v
            }
            var rng = SeededGenerator(seed: 1)
            let rnn = Recurrent(
                .init(
                    cell: .lstm, inputSize: I, hiddenSize: H, numLayers: L, bidirectional: bidirectional,
                    projectionSize: P), rng: &rng)
            XCTAssertEqual(
                rnn.parameters.map(\.name), (c["generated"] as! [[String: Any]]).map { $0["name"] as! String }.filter { $0.contains("_l") },
                "\(name): PyTorch's state_dict order")
            for p in rnn.parameters { p.value = try XCTUnwrap(values[p.name], p.name) }
            let rows = L * D * B
            let input = SequenceBatch(data: Matrix(rows: T * B, cols: I, data: values["input"]!), steps: T, lengths: lengths)
            let state = values["h0"].map {
                RecurrentState(h: Matrix(rows: rows, cols: P, data: $0), c: Matrix(rows: rows, cols: H, data: values["c0"]!))
            }
            let rOut = Matrix(rows: T * B, cols: D * P, data: values["r_out"]!)
            let rState = RecurrentState(
                h: Matrix(rows: rows, cols: P, data: values["r_h"]!), c: Matrix(rows: rows, cols: H, data: values["r_c"]!))
            for kernels in KernelChoice.allCases {
                for parallel in [true, false] {
                    rnn.kernels = kernels
                    rnn.parallelDirections = parallel
                    rnn.zeroGrad()
                    let out = rnn.forward(input, initialState: state)
                    let grads = rnn.backward(rOut, dFinalState: rState, cache: out.cache)
                    var got: [(String, [Float])] = [
                        ("output", out.output.data.data), ("h_n", out.finalState.h.data),
                        ("c_n", out.finalState.c!.data), ("grad.input", grads.input.data),
                        ("grad.h0", grads.initialState.h.data), ("grad.c0", grads.initialState.c!.data)
                    ]
                    got += rnn.parameters.map { ("grad." + $0.name, $0.grad) }
                    for (key, actual) in got {
                        let r = compare(actual, fx.floats(name + "/" + key), absolute: 1e-5)
                        XCTAssertNil(r.firstBad, "\(name) [\(kernels), parallel \(parallel)] \(key): \(r)")
                        worst = max(worst, r.maxAbsolute)
                    }
                }
            }
        }
        print("lstm_proj fixtures: worst max abs error \(worst)")
    }
}

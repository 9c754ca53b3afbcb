import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// Every cell × {1, 2, 3} layers × {uni, bi} × {equal, mixed lengths} ×
/// {zero, given initial state} against PyTorch (`scripts/make_nn_fixtures.py`,
/// versions in `Fixtures/recurrent.json`): outputs, final states and the
/// gradients of loss = Σ out ⊙ R_out + Σ h_n ⊙ R_h (+ Σ c_n ⊙ R_c) with
/// respect to the input, every parameter and the initial states.
///
/// Tolerance 1e-5 absolute: both sides are float32 with values of order 1.
final class RecurrentFixtureTests: XCTestCase {
    static let tolerance: Float = 1e-5

    func testAllCasesMatchPyTorch() throws {
        let fx = try TorchFixture("recurrent")
        let shape = fx.index["shape"] as! [String: Int]
        let (T, B, I, H) = (shape["T"]!, shape["B"]!, shape["I"]!, shape["H"]!)
        var worst: Float = 0
        XCTAssertEqual(fx.cases.count, 96)
        for c in fx.cases {
            let name = c["name"] as! String
            let cell = RecurrentCell(rawValue: c["cell"] as! String)!
            let layers = c["layers"] as! Int
            let bi = c["bidirectional"] as! Bool
            let lengths = c["lengths"] as! [Int]
            var rng = SeededGenerator(seed: 1)
            let rnn = Recurrent(.init(cell: cell, inputSize: I, hiddenSize: H, numLayers: layers, bidirectional: bi), rng: &rng)
            try StateDict.load(fx.stateDict(prefix: name + "/").filteringWeights(), into: rnn.namedParameters())
            let p = name + "/"
            let x = fx.matrix(p + "input")
            XCTAssertEqual(x.shape, [T * B, I])
            let h0 = fx.has(p + "h0") ? fx.matrix(p + "h0") : nil
            let c0 = fx.has(p + "c0") ? fx.matrix(p + "c0") : nil
            for parallel in [true, false] {
                rnn.parallelDirections = parallel
                rnn.zeroGrad()
                let out = rnn.forward(
                    SequenceBatch(data: x, steps: T, lengths: lengths),
                    initialState: h0.map { RecurrentState(h: $0, c: c0) })
                var errs: [Float] = []
                errs.append(assertClose(out.output.data, fx.matrix(p + "output"), absolute: Self.tolerance, "\(name) output").maxAbsolute)
                errs.append(assertClose(out.finalState.h, fx.matrix(p + "h_n"), absolute: Self.tolerance, "\(name) h_n").maxAbsolute)
                if cell == .lstm {
                    errs.append(assertClose(out.finalState.c!, fx.matrix(p + "c_n"), absolute: Self.tolerance, "\(name) c_n").maxAbsolute)
                }
                let grads = rnn.backward(
                    fx.matrix(p + "r_out"),
                    dFinalState: RecurrentState(h: fx.matrix(p + "r_h"), c: cell == .lstm ? fx.matrix(p + "r_c") : nil),
                    cache: out.cache)
                errs.append(assertClose(grads.input, fx.matrix(p + "grad.input"), absolute: Self.tolerance, "\(name) ∂input").maxAbsolute)
                for (pname, param) in rnn.namedParameters() {
                    let expected = fx.floats(p + "grad." + pname)
                    let r = compare(param.grad, expected, absolute: Self.tolerance)
                    XCTAssertNil(r.firstBad, "\(name) ∂\(pname): \(r)")
                    errs.append(r.maxAbsolute)
                }
                if h0 != nil {
                    errs.append(
                        assertClose(grads.initialState.h, fx.matrix(p + "grad.h0"), absolute: Self.tolerance, "\(name) ∂h0").maxAbsolute)
                }
                if c0 != nil {
                    errs.append(
                        assertClose(grads.initialState.c!, fx.matrix(p + "grad.c0"), absolute: Self.tolerance, "\(name) ∂c0").maxAbsolute)
                }
                worst = max(worst, errs.max()!)
            }
        }
        print("recurrent fixtures: 96 cases, worst max abs error \(worst)")
    }
}

extension SafeTensorsFile {
    /// Only the module's own parameters (the fixture also stores inputs and gradients).
    func filteringWeights() -> SafeTensorsFile {
        let names = order.filter { $0.hasPrefix("weight_") || $0.hasPrefix("bias_") }
        return SafeTensorsFile(tensors: names.map { ($0, tensors[$0]!) })
    }
}

extension ParameterContainer {
    func namedParameters() -> NamedParameters {
        parameters.map { (name: $0.name, parameter: $0) }
    }
}

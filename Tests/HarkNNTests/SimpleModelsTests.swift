import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// The classic PyTorch tutorial models written with Hark: an `nn.RNN` /
/// `nn.LSTM` over [batch, time, features] (batch_first, zero initial state)
/// and `nn.Linear` on the last step; input [64, 15, 10] → [64, 5].
final class SimpleModel: ParameterContainer {
    let rnn: Recurrent
    let fc: Linear
    let prefix: String  // "rnn." or "lstm.", as the PyTorch attribute

    init(cell: RecurrentCell, inputSize: Int = 10, hiddenSize: Int = 20, outputSize: Int = 5) {
        var rng = SeededGenerator(seed: 0)
        rnn = Recurrent(.init(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize), rng: &rng)
        fc = Linear(inputSize: hiddenSize, outputSize: outputSize, rng: &rng)
        prefix = cell == .lstm ? "lstm." : "rnn."
    }

    var parameters: [Parameter] { rnn.parameters + fc.parameters }
    var named: NamedParameters {
        rnn.parameters.map { (prefix + $0.name, $0) } + fc.parameters.map { ("fc." + $0.name, $0) }
    }

    /// x [B·T, F] batch-first → logits [B, 5], and a closure that backpropagates ∂logits.
    func forward(_ x: Matrix, steps: Int) -> (Matrix, (Matrix) -> Void) {
        let out = rnn.forward(SequenceBatch(batchFirst: x, steps: steps))
        let last = lastStep(out.output)
        let logits = fc.forward(last)
        return (
            logits,
            { dLogits in
                let dLast = self.fc.backward(dLogits, input: last)
                _ = self.rnn.backward(lastStepBackward(dLast, layout: out.output.layout), cache: out.cache)
            }
        )
    }
}

final class SimpleModelsTests: XCTestCase {
    func testTutorialModelsMatchPyTorchOutputsAndFiveTrainingSteps() throws {
        let fx = try TorchFixture("simple")
        let x = fx.matrix("data/x")  // [64·15, 10], batch-first rows
        let y = try fx.file.tensors["data/y"]!.integers()
        XCTAssertEqual(x.shape, [64 * 15, 10])
        for c in fx.cases {
            let name = c["name"] as! String
            let model = SimpleModel(cell: (c["model"] as! String) == "simple_lstm" ? .lstm : .rnnTanh)
            try StateDict.load(fx.stateDict(prefix: name + "/initial."), into: model.named)
            let (logits, _) = model.forward(x, steps: 15)
            XCTAssertEqual(logits.shape, [64, 5])
            assertClose(logits, fx.matrix(name + "/output"), absolute: 1e-5, "\(name) output")

            let hyper = c["hyper"] as! [String: Double]
            let optimizer: Optimizer =
                (c["optimizer"] as! String) == "sgd"
                ? SGD(learningRate: Float(hyper["lr"]!), momentum: Float(hyper["momentum"]!), weightDecay: Float(hyper["weight_decay"]!))
                : Adam(
                    learningRate: Float(hyper["lr"]!), beta1: Float(hyper["beta1"]!), beta2: Float(hyper["beta2"]!),
                    epsilon: Float(hyper["eps"]!))
            var losses: [Float] = []
            for _ in 0..<5 {
                model.zeroGrad()
                let (logits, backward) = model.forward(x, steps: 15)
                let (loss, dLogits) = crossEntropy(logits, targets: y)
                backward(dLogits)
                optimizer.step(model.parameters)
                losses.append(loss)
            }
            let expected = (c["losses"] as! [Double]).map { Float($0) }
            XCTAssertEqual(compare(losses, expected, absolute: 1e-5).firstBad, nil, "\(name) losses \(losses) vs \(expected)")
            // Final weights: 1e-5 after SGD. Adam divides each gradient by its own
            // running magnitude, so for a weight whose gradient is ~1e-7 the
            // float32 rounding of that gradient moves the update by a visible
            // fraction of lr (0.01): 1e-4 there.
            let tolerance: Float = (c["optimizer"] as! String) == "adam" ? 1e-4 : 1e-5
            for (pname, p) in model.named {
                let r = compare(p.value, fx.floats(name + "/final." + pname), absolute: tolerance)
                XCTAssertNil(r.firstBad, "\(name) final \(pname): \(r)")
            }
            print("\(name): losses \(losses)")
        }
    }
}

import Foundation
import HarkCore
import HarkFeatures
import HarkNN
import HarkTestSupport
import XCTest

@testable import HarkASR

/// Finite differences through a whole model with every part — a
/// convolutional front end, LSTM projections, the output layer — on a padded
/// batch of three utterances: the chain of backward passes is right, the
/// front end's included (its parameters get the gradient that comes back
/// through the recurrent layers' input).
final class ModelGradientTests: XCTestCase {
    func testFrontEndProjectionsAndOutputLayer() throws {
        var features = FeatureOptions(type: .fbank)
        if case .fbank(var f) = features.kind { f.mel.numBins = 8; features.kind = .fbank(f) }
        let front = ConvFrontEnd.Options(layers: [.init(channels: 3, kernel: [3, 3], stride: [2, 2], padding: [1, 1])], activation: .none)
        var config = ModelConfig(
            sampleRate: 16_000, features: features, stackFrames: 1,
            network: .init(
                cell: .lstm, inputSize: 12, hiddenSize: 6, numLayers: 2, bidirectional: true,
                dropout: 0, projSize: 4),
            tokens: ["<blank>", " ", "A", "B"], blank: 0, text: TextNormalizer(case: .upper, keep: " AB"))
        config.frontend = front
        let model = try AcousticModel(config: config, seed: 3)
        var rng = SeededGenerator(seed: 9)
        let lengths = [11, 7, 4], B = 3, T = 11
        var x = Matrix(rows: T * B, cols: 8)
        for b in 0..<B { for t in 0..<lengths[b] { for f in 0..<8 { x[t * B + b, f] = rng.nextGaussian() } } }
        let batch = SequenceBatch(data: x, steps: T, lengths: lengths)
        let probe = model.forward(batch).logits
        XCTAssertEqual(probe.lengths, lengths.map { ($0 + 1) / 2 })
        var r = Matrix(rows: probe.data.rows, cols: 4)
        for b in 0..<B { for t in 0..<probe.lengths[b] { for k in 0..<4 { r[t * B + b, k] = rng.nextGaussian() } } }
        func loss() -> Double {
            let out = model.forward(batch, keepCache: false).logits.data
            return zip(out.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        for p in model.parameters { p.zeroGrad() }
        let pass = model.forward(batch)
        model.backward(r, pass: pass)
        var pick = SeededGenerator(seed: 2)
        let epsilon: Float = 1e-2
        for (name, p) in model.namedParameters {
            for _ in 0..<3 {
                let i = Int(pick.next() % UInt64(p.count))
                let saved = p.value[i]
                p.value[i] = saved + epsilon
                let plus = loss()
                p.value[i] = saved - epsilon
                let minus = loss()
                p.value[i] = saved
                let numeric = Float((plus - minus) / Double(2 * epsilon))
                XCTAssertEqual(p.grad[i], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "∂\(name)[\(i)]")
            }
        }
    }
}

import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// The convolutional front end against PyTorch (`scripts/make_nn_fixtures.py
/// conv`, versions in `Fixtures/conv.json`): `nn.Conv2d` layers over (time,
/// frequency) with ReLU or Hardtanh(0, 20), strides in both axes, with and
/// without padding, one and two layers, 1 to 32 channels, utterances of
/// several lengths in one batch. Values from the hash of `FastPathFixtureTests`
/// on both sides, PyTorch in float64; loss = Σ out ⊙ R per utterance. The
/// outputs and the gradients of the input and of every parameter within 1e-5.
final class ConvFixtureTests: XCTestCase {
    func testEveryCaseMatchesPyTorch() throws {
        let fx = try TorchFixture("conv")
        XCTAssertEqual(fx.cases.count, 4)
        var worst: Float = 0
        for c in fx.cases {
            let name = c["name"] as! String, seed = c["seed"] as! Int
            let T = c["frames"] as! Int, F = c["bins"] as! Int, lengths = c["lengths"] as! [Int]
            let layers = (c["layers"] as! [[String: Any]]).map {
                ConvFrontEnd.Layer(
                    channels: $0["channels"] as! Int, kernel: $0["kernel"] as! [Int], stride: $0["stride"] as! [Int],
                    padding: $0["padding"] as! [Int])
            }
            let options = ConvFrontEnd.Options(layers: layers, activation: Conv2d.Activation(rawValue: c["activation"] as! String)!)
            var rng = SeededGenerator(seed: 1)
            let front = ConvFrontEnd(options, inputBins: F, rng: &rng)
            var values: [String: [Float]] = [:]
            for (n, g) in (c["generated"] as! [[String: Any]]).enumerated() {
                let shape = g["shape"] as! [Int], bound = (g["bound"] as! NSNumber).doubleValue
                values[g["name"] as! String] = FixtureValues.values(seed: seed, tensor: n, count: shape.reduce(1, *), bound: bound)
            }
            XCTAssertEqual(front.parameters.map(\.name), (c["generated"] as! [[String: Any]]).map { $0["name"] as! String }.dropLast())
            for p in front.parameters { p.value = try XCTUnwrap(values[p.name], p.name) }
            // The batch, time-major [T·B, F]: utterance b's frames t < its length (PyTorch's input [B, T, F]).
            let B = lengths.count
            var x = Matrix(rows: T * B, cols: F)
            let input = values["input"]!
            for b in 0..<B { for t in 0..<lengths[b] { for f in 0..<F { x[t * B + b, f] = input[(b * T + t) * F + f] } } }
            let batch = SequenceBatch(data: x, steps: T, lengths: lengths)
            front.zeroGrad()
            let (out, cache) = front.forward(batch)
            let shapes = c["output_shapes"] as! [[Int]]
            XCTAssertEqual(out.lengths, shapes.map { $0[0] }, name)
            XCTAssertEqual(out.width, shapes[0][1], name)
            var dOut = Matrix(rows: out.data.rows, cols: out.width)
            for b in 0..<B {
                let (t2, w) = (shapes[b][0], shapes[b][1])
                let r = FixtureValues.values(seed: seed, tensor: 1000 + b, count: t2 * w, bound: 1)
                var got = [Float]()
                for t in 0..<t2 {
                    for j in 0..<w {
                        got.append(out.data[t * B + b, j])
                        dOut[t * B + b, j] = r[t * w + j]
                    }
                }
                let cmp = compare(got, fx.floats("\(name)/output.\(b)"), absolute: 1e-5)
                XCTAssertNil(cmp.firstBad, "\(name) output of utterance \(b): \(cmp)")
                worst = max(worst, cmp.maxAbsolute)
            }
            front.backward(dOut, cache: cache)
            for p in front.parameters {
                let cmp = compare(p.grad, fx.floats("\(name)/grad.\(p.name)"), absolute: 1e-5)
                XCTAssertNil(cmp.firstBad, "\(name) grad.\(p.name): \(cmp)")
                worst = max(worst, cmp.maxAbsolute)
            }
        }
        print("conv fixtures: worst max abs error \(worst)")
    }

    /// The input gradient of the first layer (which the front end does not
    /// need) against PyTorch's, through `Conv2d.backward` directly.
    func testInputGradientMatchesPyTorch() throws {
        let fx = try TorchFixture("conv")
        for c in fx.cases where (c["layers"] as! [Any]).count == 1 {
            let name = c["name"] as! String, seed = c["seed"] as! Int
            let T = c["frames"] as! Int, F = c["bins"] as! Int, lengths = c["lengths"] as! [Int]
            let l = (c["layers"] as! [[String: Any]])[0]
            let k = l["kernel"] as! [Int], s = l["stride"] as! [Int], p = l["padding"] as! [Int]
            let conv = Conv2d(
                inputChannels: 1, outputChannels: l["channels"] as! Int, kernel: (k[0], k[1]), stride: (s[0], s[1]),
                padding: (p[0], p[1]), activation: Conv2d.Activation(rawValue: c["activation"] as! String)!)
            var values: [[Float]] = []
            for (n, g) in (c["generated"] as! [[String: Any]]).enumerated() {
                let shape = g["shape"] as! [Int], bound = (g["bound"] as! NSNumber).doubleValue
                values.append(FixtureValues.values(seed: seed, tensor: n, count: shape.reduce(1, *), bound: bound))
            }
            conv.weight.value = values[0]
            conv.bias.value = values[1]
            for (b, len) in lengths.enumerated() {
                let x = Array(values[2][(b * T * F)..<(b * T * F + len * F)])
                let (y, cache) = x.withUnsafeBufferPointer { conv.forward($0, frames: len, bins: F) }
                let (t2, f2, O) = (conv.outputFrames(len), conv.outputBins(F), conv.outputChannels)
                // R is stored flattened (c, f) per frame; y is [T′, F′, O].
                let r = FixtureValues.values(seed: seed, tensor: 1000 + b, count: t2 * O * f2, bound: 1)
                var dy = [Float](repeating: 0, count: y.count)
                for t in 0..<t2 { for o in 0..<O { for f in 0..<f2 { dy[(t * f2 + f) * O + o] = r[t * O * f2 + o * f2 + f] } } }
                let dx = try XCTUnwrap(conv.backward(dy, cache: cache, inputGradient: true))
                let cmp = compare(dx, fx.floats("\(name)/grad.input.\(b)"), absolute: 1e-5)
                XCTAssertNil(cmp.firstBad, "\(name) grad.input.\(b): \(cmp)")
            }
        }
    }
}

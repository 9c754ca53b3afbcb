import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

final class StateDictTests: XCTestCase {
    func model() -> NamedParameters {
        var rng = SeededGenerator(seed: 4)
        let rnn = Recurrent(.init(cell: .gru, inputSize: 3, hiddenSize: 2), rng: &rng)
        let fc = Linear(inputSize: 2, outputSize: 4, rng: &rng)
        return rnn.parameters.map { ("rnn." + $0.name, $0) } + fc.parameters.map { ("output." + $0.name, $0) }
    }

    func testRoundTripThroughAFile() throws {
        let a = model()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try StateDict.file(a).write(to: url)
        var rng = SeededGenerator(seed: 99)
        let b = model()
        for (_, p) in b { p.fillUniform(bound: 1, using: &rng) }
        try StateDict.load(SafeTensorsFile.read(url), into: b)
        XCTAssertEqual(a.map { $0.parameter.value }, b.map { $0.parameter.value })
        XCTAssertEqual(try SafeTensorsFile.read(url).order, a.map { $0.name })
    }

    func testMismatchesAreNamedAndNothingIsChanged() throws {
        let target = model()
        let before = target.map { $0.parameter.value }
        var tensors = StateDict.file(model()).tensors
        tensors["rnn.weight_hh_l0"] = SafeTensor(shape: [2, 6], floats: [Float](repeating: 0, count: 12))
        tensors["rnn.bias_ih_l0"] = SafeTensor(dtype: "F16", shape: [6], bytes: [UInt8](repeating: 0, count: 12))
        tensors["rnn.bias_hh_l0"] = nil
        tensors["rnn.weight_ih_l1"] = SafeTensor(shape: [1], floats: [0])
        let order = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.weight_ih_l1", "output.weight", "output.bias"]
        let file = SafeTensorsFile(tensors: order.map { ($0, tensors[$0]!) })
        XCTAssertThrowsError(try StateDict.load(file, into: target)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("tensor \"rnn.weight_hh_l0\" has shape [2, 6], the model expects [6, 2]"), text)
            XCTAssertTrue(text.contains("dtype F16"), text)
            XCTAssertTrue(text.contains("missing tensor \"rnn.bias_hh_l0\""), text)
            XCTAssertTrue(text.contains("unexpected tensor \"rnn.weight_ih_l1\""), text)
        }
        XCTAssertEqual(target.map { $0.parameter.value }, before)
        // Non-strict loading ignores the extra tensor but not the others.
        XCTAssertThrowsError(try StateDict.load(file, into: target, strict: false)) { error in
            XCTAssertFalse("\(error)".contains("unexpected"))
        }
    }
}

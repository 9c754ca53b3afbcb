import HarkIO
import HarkNN
import XCTest

/// Loading weights refuses values that would silently spoil every output.
final class StateDictTests: XCTestCase {
    func parameters() -> NamedParameters {
        [("output.weight", Parameter(name: "weight", shape: [2, 3])), ("output.bias", Parameter(name: "bias", shape: [2]))]
    }

    func file(weight: [Float], bias: [Float]) -> SafeTensorsFile {
        SafeTensorsFile(tensors: [
            ("output.weight", SafeTensor(shape: [2, 3], floats: weight)),
            ("output.bias", SafeTensor(shape: [2], floats: bias))
        ])
    }

    func testLoadsFiniteWeights() throws {
        let p = parameters()
        try StateDict.load(file(weight: [1, 2, 3, 4, 5, 6], bias: [-1, 1]), into: p)
        XCTAssertEqual(p[0].parameter.value, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(p[1].parameter.value, [-1, 1])
    }

    /// The release binary transcribed everything as "" with status 0 when
    /// output.bias[0] was NaN.
    func testNaNOrInfinityIsNamedWithTensorAndIndex() {
        let p = parameters()
        XCTAssertThrowsError(try StateDict.load(file(weight: [1, 2, 3, 4, 5, 6], bias: [.nan, 1]), into: p)) { error in
            XCTAssertEqual("\(error)", "tensor \"output.bias\" has a non-finite value (nan) at index 0")
        }
        XCTAssertThrowsError(try StateDict.load(file(weight: [1, 2, 3, 4, -.infinity, .infinity], bias: [0, 1]), into: p)) { error in
            XCTAssertEqual("\(error)", "tensor \"output.weight\" has a non-finite value (-inf) at index 4 ([1, 1]) and 1 more")
        }
        XCTAssertEqual(p[0].parameter.value, [0, 0, 0, 0, 0, 0], "nothing is loaded when a tensor is refused")
        XCTAssertEqual(p[1].parameter.value, [0, 0])
    }
}

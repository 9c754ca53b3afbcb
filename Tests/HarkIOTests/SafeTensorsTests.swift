import Foundation
import HarkTestSupport
import XCTest

@testable import HarkIO

/// The safetensors reader trusts nothing: each malformed file gets a clear
/// error naming the tensor and the problem, never a crash or a huge allocation.
final class SafeTensorsTests: XCTestCase {
    /// A file with this header JSON and `dataBytes` bytes of data.
    func file(_ header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        let n = declaredLength ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + [UInt8](repeating: 0, count: dataBytes)
    }

    func expect(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile.decode(bytes, name: "m.safetensors"), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("m.safetensors: "), text, file: file, line: line)
            XCTAssertTrue(text.contains(fragment), "\(text) lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    func testRoundTrip() throws {
        let a = SafeTensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = SafeTensor(shape: [3], floats: [-1, 0.5, 1e-7])
        let f = SafeTensorsFile(tensors: [("rnn.weight_ih_l0", a), ("rnn.bias_ih_l0", b)], metadata: ["format": "pt"])
        let bytes = f.encode()
        XCTAssertEqual((bytes.count - 8 - 24 - 12) % 8, 0, "header padded to 8 bytes")
        let back = try SafeTensorsFile.decode(bytes, name: "x")
        XCTAssertEqual(back.tensors, f.tensors)
        XCTAssertEqual(back.metadata, ["format": "pt"])
        XCTAssertEqual(back.order, ["rnn.weight_ih_l0", "rnn.bias_ih_l0"])
        XCTAssertEqual(try back.tensors["rnn.bias_ih_l0"]!.floats(), [-1, 0.5, 1e-7])
    }

    func testMalformedFiles() {
        let good = #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        expect([1, 2, 3], "truncated: 3 bytes")
        expect(file(good, dataBytes: 4), "data_offsets [0, 8] lie outside the 4 data bytes")
        expect(file(good, dataBytes: 8, declaredLength: 1 << 60), "truncated: the header length is 1152921504606846976 bytes")
        expect(file("this is { not json", dataBytes: 8), "the header is not a JSON object")
        expect(
            file(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataBytes: 8),
            "tensor \"w\": shape [3] of F32 needs 12 bytes but data_offsets give 8")
        expect(file(#"{"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}"#, dataBytes: 8), "tensor \"w\": unknown dtype")
        expect(
            file(#"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, dataBytes: 8),
            "shape is not a list of non-negative integers")
        expect(file(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, dataBytes: 8), "lie outside")
        expect(file(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}"#, dataBytes: 8), "data_offsets is not a pair")
        expect(
            file(
                #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
                dataBytes: 12), "tensors \"a\" and \"b\" overlap")
        expect(
            file(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}}"#, dataBytes: 8),
            "overflows")
        expect(file(#"{"__metadata__": {"k": 3}}"#), "__metadata__ value \"k\" is not a string")
    }

    /// The spec: sorted by offset, the tensors cover the data section with no
    /// gap, no overlap and nothing after the last one.
    func testTensorsMustTileTheData() throws {
        let two =
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#
        XCTAssertNoThrow(try SafeTensorsFile.decode(file(two, dataBytes: 8), name: "m.safetensors"))
        expect(
            file(two, dataBytes: 9), "1 bytes after the last tensor belong to no tensor (the data section is 9 bytes, the tensors cover 8")
        expect(
            file(
                #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [6, 10]}}"#,
                dataBytes: 10), "2 bytes between tensors \"a\" and \"b\" belong to no tensor")
        expect(
            file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, dataBytes: 8),
            "the first 4 data bytes, before tensor \"a\", belong to no tensor")
        expect(file(#"{}"#, dataBytes: 3), "3 bytes after the last tensor")
        // Empty tensors take no room and break no tiling.
        XCTAssertNoThrow(try SafeTensorsFile.decode(file(#"{"e": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#), name: "m"))
    }

    /// The release binary gave every tensor shifted by one byte, and an empty
    /// transcript with status 0, for a file whose header length was one short.
    func testHeaderLengthOffByOneIsAnError() throws {
        let good = SafeTensorsFile(tensors: [
            ("output.weight", SafeTensor(shape: [2, 2], floats: [1, 2, 3, 4])),
            ("output.bias", SafeTensor(shape: [2], floats: [5, 6]))
        ]).encode()
        XCTAssertNoThrow(try SafeTensorsFile.decode(good, name: "model.safetensors"))
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(good[i]) << (8 * UInt64(i)) }
        for delta in [-1, 1] {
            var bad = good
            let m = UInt64(Int(n) + delta)
            for i in 0..<8 { bad[i] = UInt8(truncatingIfNeeded: m >> (8 * UInt64(i))) }
            XCTAssertThrowsError(try SafeTensorsFile.decode(bad, name: "model.safetensors"), "header length \(m)") { error in
                XCTAssertTrue("\(error)".hasPrefix("model.safetensors: "), "\(error)")
            }
        }
        // Header length right, one stray byte appended.
        expect(good + [0], "1 bytes after the last tensor belong to no tensor")
    }

    func testValuesOfAMismatchedTensorAreAnErrorNotACrash() {
        let t = SafeTensor(dtype: "F32", shape: [3], bytes: [0, 0, 0, 0])
        XCTAssertThrowsError(try t.floats(name: "w")) {
            XCTAssertTrue("\($0)".contains("shape [3] needs 12 bytes but the tensor has 4"), "\($0)")
        }
        let i = SafeTensor(dtype: "I64", shape: [2], bytes: [1, 0, 0, 0])
        XCTAssertThrowsError(try i.integers(name: "n")) { XCTAssertTrue("\($0)".contains("needs 16 bytes"), "\($0)") }
    }

    func testDtypeIsCheckedWhenValuesAreRead() throws {
        let f = try SafeTensorsFile.decode(file(#"{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}"#, dataBytes: 4), name: "x")
        XCTAssertThrowsError(try f.tensors["w"]!.floats(name: "tensor \"w\"")) { error in
            XCTAssertTrue("\(error)".contains("dtype F16, but Hark needs F32"), "\(error)")
        }
    }

    func testReadsFilesWrittenByPyTorch() throws {
        // Written by safetensors.torch.save_file (scripts/make_nn_fixtures.py).
        let url = repositoryRoot.appendingPathComponent("Tests/HarkNNTests/Fixtures/simple.safetensors")
        let f = try SafeTensorsFile.read(url)
        XCTAssertEqual(f.tensors["data/x"]?.shape, [64, 15, 10])
        XCTAssertEqual(f.tensors["data/y"]?.dtype, "I64")
        XCTAssertEqual(try f.tensors["data/y"]!.integers().count, 64)
    }
}

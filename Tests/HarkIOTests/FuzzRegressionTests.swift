import Foundation
import HarkCore
import XCTest

@testable import HarkIO

/// Inputs that once crashed a parser or were read wrongly, each kept as a
/// test. The fuzz targets in Fuzz/ look for more (docs/correctness.md, "Fuzzing").
final class FuzzRegressionTests: XCTestCase {
    func npy(header: String, data: [UInt8]) -> Data {
        var h = Array(header.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data)
    }

    func expectNpy(_ data: Data, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NPY.decode(data, name: "x.npy"), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    /// Shape (-1, -1) needs 4 bytes by the old arithmetic and then trapped in
    /// `Matrix.init`; shape (2, x) was read as the 1-D shape (2,).
    func testNpyHeaderIsParsedNotSearched() throws {
        expectNpy(
            npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, -1), }", data: [0, 0, 0, 0]),
            "malformed .npy header (expected a non-negative integer")
        expectNpy(
            npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data: [0, 0, 0, 0, 0, 0, 0, 0]),
            "malformed .npy header")
        expectNpy(
            npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data: []),
            "needs more than")
        expectNpy(
            npy(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
            "only little-endian float32")
        expectNpy(npy(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", data: [0, 0, 0, 0]), "Fortran-order")
        expectNpy(
            npy(header: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
            "'descr' given twice")
        var v9 = [UInt8](npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]))
        v9[6] = 9
        expectNpy(Data(v9), "version 9.0 is not supported")
        // Keys in another order, double quotes, no trailing comma: still numpy's dict.
        let m = try NPY.decode(
            npy(header: #"{"shape": (1, 2), "fortran_order": False, "descr": "<f4"}"#, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]),
            name: "x.npy")
        XCTAssertEqual(m, Matrix([[1, 2]]))
    }

    /// Each True/False used to be matched against the header's remaining
    /// text (a copy from the start each time): quadratic in the header's length.
    func testLongHeaderWithManyBooleansParsesInOnePass() throws {
        let extra = (0..<4000).map { "'k\($0)': True" }.joined(separator: ", ")
        let m = try NPY.decode(
            npy(header: "{\(extra), 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0x80, 0x3F]),
            name: "x.npy")
        XCTAssertEqual(m, Matrix([[1]]))
    }

    func kaldi(_ key: String, rows: Int32, cols: Int32, data: [UInt8] = []) -> [UInt8] {
        func le(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return Array((key + " ").utf8) + [0, 0x42] + Array("FM ".utf8) + [4] + le(rows) + [4] + le(cols) + data
    }

    /// rows·cols·4 with both near 2³¹ overflowed Int and trapped.
    func testKaldiSizesAreCheckedWithoutOverflow() {
        for (rows, cols) in [(Int32.max, Int32.max), (Int32.max, 1), (-1, -4)] as [(Int32, Int32)] {
            XCTAssertThrowsError(try KaldiArchiveReader.decode(kaldi("u", rows: rows, cols: cols), name: "f.ark")) { error in
                XCTAssertTrue("\(error)".hasPrefix("f.ark: entry \"u\""), "\(error)")
            }
        }
        XCTAssertThrowsError(try KaldiArchiveReader.decode(kaldi("u", rows: 0, cols: 0) + kaldi("u", rows: 0, cols: 0), name: "f.ark")) {
            XCTAssertTrue("\($0)".contains("key \"u\" appears twice"), "\($0)")
        }
        XCTAssertThrowsError(try KaldiArchiveReader.decode(Array(" ".utf8), name: "f.ark")) {
            XCTAssertTrue("\($0)".contains("empty key"), "\($0)")
        }
    }
}

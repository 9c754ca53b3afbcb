import Foundation
import HarkIO

/// Any bytes: `NPY.decode` throws or returns a matrix that encodes and
/// decodes to itself (bit for bit, NaNs included).
func fuzzNPY(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Data(data)
    guard let m = try? NPY.decode(bytes, name: "fuzz.npy") else { return }
    let again = try! NPY.decode(NPY.encode(m), name: "re-encoded")
    precondition(
        again.rows == m.rows && again.cols == m.cols
            && again.data.map(\.bitPattern) == m.data.map(\.bitPattern), "encode/decode round trip changed the matrix")
}

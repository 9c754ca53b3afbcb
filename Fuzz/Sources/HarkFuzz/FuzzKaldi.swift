import Foundation
import HarkIO

/// Any bytes: `KaldiArchiveReader.decode` throws or returns matrices.
func fuzzKaldi(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(data)
    _ = try? KaldiArchiveReader.decode(bytes, name: "fuzz.ark")
}

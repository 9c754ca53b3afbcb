import Foundation
import HarkAudio

/// Any bytes as an audio file in memory: `AudioLoader.load(bytes:)` throws
/// or returns samples, never crashes, hangs or allocates without bound.
func fuzzAudio(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(data)
    _ = try? AudioLoader.load(bytes: bytes, displayName: "fuzz")
}

import Foundation
import HarkIO

/// Any bytes: `SafeTensorsFile.decode` throws or returns a file whose
/// tensors read back, and which encodes and decodes to itself.
func fuzzSafeTensors(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Array(data)
    guard let file = try? SafeTensorsFile.decode(bytes, name: "fuzz.safetensors") else { return }
    for (name, tensor) in file.tensors {
        switch tensor.dtype {
        case "F32": _ = try! tensor.floats(name: name)
        case "I64", "I32": _ = try! tensor.integers(name: name)
        default: break
        }
    }
    let again = try! SafeTensorsFile.decode(file.encode(), name: "re-encoded")
    precondition(again.tensors == file.tensors && again.metadata == file.metadata, "encode/decode round trip changed the file")
}

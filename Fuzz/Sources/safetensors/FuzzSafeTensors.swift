import Foundation
import CLibFuzzer
import HarkIO

/// Any bytes: `SafeTensorsFile.decode` throws or returns a file whose
/// tensors read back, and which encodes and decodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile.decode(bytes, name: "fuzz.safetensors") else { return 0 }
    for (name, tensor) in file.tensors {
        switch tensor.dtype {
        case "F32": _ = try! tensor.floats(name: name)
        case "I64", "I32": _ = try! tensor.integers(name: name)
        default: break
        }
    }
    let again = try! SafeTensorsFile.decode(file.encode(), name: "re-encoded")
    precondition(again.tensors == file.tensors && again.metadata == file.metadata, "encode/decode round trip changed the file")
    return 0
}

/// SwiftPM links an executable's `main` to its module's entry point, so the
/// entry point hands over to libFuzzer's driver.
@main enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzz))
    }
}

import CLibFuzzer
import Foundation
import HarkASR

/// Any bytes as a model's `config.json`: decoding and `validate()` throw or
/// succeed, never crash, hang or allocate without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    guard let config = try? JSONDecoder().decode(ModelConfig.self, from: bytes) else { return 0 }
    try? config.validate()
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

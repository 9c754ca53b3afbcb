import Foundation
import CLibFuzzer
import HarkAudio

/// Any bytes as an audio file in memory: `AudioLoader.load(bytes:)` throws
/// or returns samples, never crashes, hangs or allocates without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? AudioLoader.load(bytes: bytes, displayName: "fuzz")
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

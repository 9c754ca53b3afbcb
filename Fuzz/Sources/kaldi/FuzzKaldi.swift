import Foundation
import CLibFuzzer
import HarkIO

/// Any bytes: `KaldiArchiveReader.decode` throws or returns matrices.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? KaldiArchiveReader.decode(bytes, name: "fuzz.ark")
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

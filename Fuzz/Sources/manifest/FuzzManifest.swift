import CLibFuzzer
import Foundation
import HarkIO

/// Any bytes, read as a JSON-lines manifest and as a TSV one: `Manifest.parse`
/// throws or returns entries with a non-empty path free of NUL.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    for json in [true, false] {
        guard let entries = try? Manifest.parse(bytes, path: "/fuzz/manifest", json: json) else { continue }
        for e in entries {
            precondition(!e.writtenPath.isEmpty && !e.audioPath.utf8.contains(0), "bad path in \(e)")
        }
    }
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

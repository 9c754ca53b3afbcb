import CLibFuzzer
import Foundation
import HarkIO

/// Any bytes: `NPY.decode` throws or returns a matrix that encodes and
/// decodes to itself (bit for bit, NaNs included).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    guard let m = try? NPY.decode(bytes, name: "fuzz.npy") else { return 0 }
    let again = try! NPY.decode(NPY.encode(m), name: "re-encoded")
    precondition(again.rows == m.rows && again.cols == m.cols
                 && again.data.map(\.bitPattern) == m.data.map(\.bitPattern), "encode/decode round trip changed the matrix")
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

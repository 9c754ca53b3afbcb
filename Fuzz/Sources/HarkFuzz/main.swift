import CLibFuzzer
import Foundation

/// Hark's fuzz targets, one executable: `hark-fuzz TARGET [libFuzzer
/// arguments]` (`Fuzz/run.sh` builds and runs it). Each target takes any
/// bytes and must throw or succeed: never crash, hang, or allocate without
/// bound.
let targets: [String: (UnsafeBufferPointer<UInt8>) -> Void] = [
    "safetensors": fuzzSafeTensors, "npy": fuzzNPY, "kaldi": fuzzKaldi, "manifest": fuzzManifest,
    "config": fuzzConfig, "audio": fuzzAudio,
    "arpa": fuzzARPA, "multipart": fuzzMultipart, "stream": fuzzStream, "trainlog": fuzzTrainingLog
]

/// The target chosen on the command line (the callback libFuzzer calls cannot capture it).
var selected: (UnsafeBufferPointer<UInt8>) -> Void = { _ in }

var arguments = CommandLine.arguments
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    FileHandle.standardError.write(
        Data("usage: hark-fuzz TARGET [libFuzzer arguments]; TARGET is one of \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(64)
}
selected = target
arguments.remove(at: 1)
// libFuzzer reads its own arguments, without the target's name.
var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var argc = Int32(arguments.count)
let status = argv.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &pointer) { data, size in
        selected(UnsafeBufferPointer(start: data, count: size))
        return 0
    }
}
exit(status)

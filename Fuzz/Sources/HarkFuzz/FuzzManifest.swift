import Foundation
import HarkIO

/// Any bytes, read as a JSON-lines manifest and as a TSV one: `Manifest.parse`
/// throws or returns entries with a non-empty path free of NUL.
func fuzzManifest(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Data(data)
    for json in [true, false] {
        guard let entries = try? Manifest.parse(bytes, path: "/fuzz/manifest", json: json) else { continue }
        for e in entries {
            precondition(!e.writtenPath.isEmpty && !e.audioPath.utf8.contains(0), "bad path in \(e)")
        }
    }
}

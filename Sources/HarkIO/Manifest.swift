import Foundation

/// One utterance of a manifest.
public struct ManifestEntry: Equatable, Sendable {
    /// The audio path, resolved against the manifest's folder when relative.
    public var audioPath: String
    /// The path as written in the manifest.
    public var writtenPath: String
    public var text: String?
    public var duration: Double?
    /// 1-based line number in the manifest.
    public var line: Int
}

/// Manifests: JSON lines in NeMo's format (`{"audio_filepath": …, "text": …,
/// "duration": …}` per line), or TSV whose first column is the audio path and
/// second, if present, the transcript. A relative path is relative to the
/// manifest's folder. Blank lines are ignored.
public enum Manifest {
    public static let jsonExtensions: Set<String> = ["json", "jsonl"]
    public static let tsvExtensions: Set<String> = ["tsv"]

    /// Whether `path` names a manifest (by its extension).
    public static func isManifest(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return jsonExtensions.contains(ext) || tsvExtensions.contains(ext)
    }

    public static func read(_ path: String) throws -> [ManifestEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IOError(path, FileManager.default.fileExists(atPath: path) ? "cannot read the manifest" : "no such manifest")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw IOError(path, "the manifest is not UTF-8 text") }
        let folder = (path as NSString).deletingLastPathComponent
        let json = jsonExtensions.contains((path as NSString).pathExtension.lowercased())
        var entries: [ManifestEntry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let number = index + 1
            var written: String
            var transcript: String?
            var duration: Double?
            if json {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw IOError(path, "line \(number) is not a JSON object")
                }
                guard let p = object["audio_filepath"] as? String, !p.isEmpty else {
                    throw IOError(path, "line \(number) has no \"audio_filepath\" string")
                }
                written = p
                transcript = object["text"] as? String
                duration = (object["duration"] as? NSNumber)?.doubleValue
            } else {
                let columns = rawLine.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                written = columns[0].trimmingCharacters(in: .whitespaces)
                if written.isEmpty { throw IOError(path, "line \(number) has an empty path") }
                if columns.count > 1 { transcript = columns[1].trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            let resolved = written.hasPrefix("/") || folder.isEmpty ? written : (folder as NSString).appendingPathComponent(written)
            entries.append(ManifestEntry(audioPath: resolved, writtenPath: written, text: transcript,
                                         duration: duration, line: number))
        }
        return entries
    }
}

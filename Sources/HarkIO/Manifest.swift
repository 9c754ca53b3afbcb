import Foundation

/// One utterance of a manifest.
public struct ManifestEntry: Equatable, Sendable {
    /// The audio path, resolved against the manifest's folder when relative.
    public var audioPath: String
    /// The path as written in the manifest.
    public var writtenPath: String
    /// The transcript; nil when the line has none.
    public var text: String?
    /// The audio's length in seconds, as the manifest gives it; nil when it does not.
    public var duration: Double?
    /// 1-based line number in the manifest.
    public var line: Int
}

/// Manifests: JSON lines in NeMo's format (`{"audio_filepath": …, "text": …,
/// "duration": …}` per line), or TSV whose first column is the audio path and
/// second, if present, the transcript. A relative path is relative to the
/// manifest's folder. Blank lines are ignored; lines end in LF or CR LF.
///
/// Nothing is guessed: a line whose path is empty or holds a NUL byte, whose
/// `"text"` is not a string or whose `"duration"` is not a non-negative
/// number is an error naming the manifest and the line.
public enum Manifest {
    /// Extensions of JSON-lines manifests.
    public static let jsonExtensions: Set<String> = ["json", "jsonl"]
    /// Extensions of TSV manifests.
    public static let tsvExtensions: Set<String> = ["tsv"]

    /// Whether `path` names a manifest (by its extension).
    public static func isManifest(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return jsonExtensions.contains(ext) || tsvExtensions.contains(ext)
    }

    /// The largest manifest read: 256 MiB, about 1.7 million entries of 150
    /// bytes. Its text and entries are held in memory, so a bigger file (or
    /// an endless stream such as /dev/zero) is refused, not read.
    public static let maxBytes = 256 << 20

    /// Reads a manifest file: JSON lines when its extension is in `jsonExtensions`, else TSV.
    public static func read(_ path: String) throws -> [ManifestEntry] {
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw IOError(path, "is a directory, not a manifest") }
            if info.st_mode & S_IFMT == S_IFREG && Int(info.st_size) > maxBytes { throw tooLarge(path) }
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw IOError(path, FileManager.default.fileExists(atPath: path) ? "cannot read the manifest" : "no such manifest")
        }
        defer { try? handle.close() }
        var data = Data()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { throw IOError(path, "cannot read the manifest") }
            if chunk.isEmpty { break }
            data.append(chunk)
            if data.count > maxBytes { throw tooLarge(path) }
        }
        return try parse(data, path: path, json: jsonExtensions.contains((path as NSString).pathExtension.lowercased()))
    }

    private static func tooLarge(_ path: String) -> IOError {
        IOError(path, "the manifest is larger than \(maxBytes >> 20) MiB")
    }

    /// The entries of a manifest's bytes; `path` names it in errors and
    /// gives the folder relative paths are resolved against.
    public static func parse(_ data: Data, path: String, json: Bool) throws -> [ManifestEntry] {
        guard let text = String(data: data, encoding: .utf8) else { throw IOError(path, "the manifest is not UTF-8 text") }
        let folder = (path as NSString).deletingLastPathComponent
        var entries: [ManifestEntry] = []
        // "\r\n" is one Character in Swift, so splitting on "\n" alone would
        // leave a CR LF manifest in one piece.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let number = index + 1
            func fail(_ problem: String) -> IOError { IOError(path, "line \(number): \(problem)") }
            var written: String
            var transcript: String?
            var duration: Double?
            if json {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw fail("not a JSON object")
                }
                guard let p = object["audio_filepath"] as? String, !p.isEmpty else {
                    throw fail("no \"audio_filepath\" string")
                }
                written = p
                if let t = object["text"] {
                    guard let s = t as? String else {
                        throw fail("\"text\" is \(describe(t)), not a string (write the transcript in quotes, or leave \"text\" out)")
                    }
                    transcript = s
                }
                if let d = object["duration"] {
                    guard let n = d as? NSNumber, !isBoolean(d), n.doubleValue.isFinite, n.doubleValue >= 0 else {
                        throw fail("\"duration\" is \(describe(d)), not a non-negative number of seconds")
                    }
                    duration = n.doubleValue
                }
            } else {
                let columns = rawLine.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                written = columns[0].trimmingCharacters(in: .whitespaces)
                if written.isEmpty { throw fail("empty path") }
                if columns.count > 1 { transcript = columns[1].trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            // A C path ends at its first NUL: "a.wav\u0000evil" would open a.wav.
            if written.utf8.contains(0) {
                throw fail("the audio path \(quoted(written)) contains a NUL character")
            }
            let resolved = written.hasPrefix("/") || folder.isEmpty ? written : (folder as NSString).appendingPathComponent(written)
            entries.append(
                ManifestEntry(
                    audioPath: resolved, writtenPath: written, text: transcript,
                    duration: duration, line: number))
        }
        return entries
    }

    /// A JSON value as it was written, for error messages.
    private static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if isBoolean(value), let n = value as? NSNumber { return n.boolValue ? "true" : "false" }
        if let n = value as? NSNumber { return "the number \(n)" }
        if let s = value as? String { return "the string \(quoted(s))" }
        if value is [Any] { return "a list" }
        return "an object"
    }

    /// Whether JSONSerialization read `true` or `false` (an NSNumber too).
    private static func isBoolean(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    /// `s` in quotes with control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

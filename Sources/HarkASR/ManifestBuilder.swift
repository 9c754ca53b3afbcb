import Foundation
import HarkAudio
import HarkCore
import HarkIO

/// Builds manifests from the layouts labeled speech comes in: AN4,
/// LibriSpeech, Kaldi data directories (`wav.scp` + `text`), a CSV or TSV
/// table with path and text columns (Common Voice's `path`/`sentence`), and a
/// folder of clips whose label is in the file name or folder (a pattern).
public enum ManifestBuilder {
    /// What `hark manifest` can read, for errors that say so.
    public static let layouts =
        "AN4 (etc/*.transcription + wav/), LibriSpeech (*.trans.txt + .flac), a Kaldi data directory (wav.scp + text), "
        + "a CSV or TSV file with path and text columns (Common Voice's path and sentence), or a folder of clips with --label-pattern "
        + "(the label in the file name, e.g. FSDD's 7_jackson_0.wav: '(?<text>[^_]+)_(?<speaker>[^_]+)_.*')"

    /// Audio files below `root` whose names are not UTF-8 (each undecodable
    /// byte as `\\xNN`): the builders leave them out, and say so through this.
    public static func undecodableNames(under root: URL) -> [String] {
        InputCollection.scan(root.path).undecodable
    }

    /// One utterance found: a line of the manifest written.
    public struct Entry: Sendable {
        /// The audio file's path.
        public var audioPath: String
        /// The transcript, as the layout gives it (not normalised).
        public var text: String
        /// The speaker, as the layout names it; empty when it does not.
        public var speaker: String
        /// The audio's length in seconds, written as `duration` when known; nil: left out.
        public var duration: Double?
    }

    /// AN4: `etc/*.transcription` lines `<s> TEXT </s> (utterance-id)` and
    /// audio `wav/**/utterance-id.wav`; the speaker is the audio's folder.
    public static func an4(_ root: URL) throws -> [Entry] {
        let etc = root.appendingPathComponent("etc")
        let files =
            (try? FileManager.default.contentsOfDirectory(atPath: etc.path))?.filter { $0.hasSuffix(".transcription") }.sorted() ?? []
        guard !files.isEmpty else { throw IOError(etc.path, "no *.transcription files (is this an AN4 directory?)") }
        var audio: [String: String] = [:]
        let wav = root.appendingPathComponent("wav")
        for relative in InputCollection.audioFiles(under: wav.path) {
            audio[((relative as NSString).lastPathComponent as NSString).deletingPathExtension] = wav.appendingPathComponent(relative).path
        }
        var entries: [Entry] = []
        for f in files {
            let text = try String(contentsOf: etc.appendingPathComponent(f), encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else { continue }
                let id = String(line[line.index(after: open)..<close])
                let words = line[..<open].split(separator: " ").filter { $0 != "<s>" && $0 != "</s>" }
                guard let path = audio[id] else { continue }
                let speaker = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
                entries.append(Entry(audioPath: path, text: words.joined(separator: " "), speaker: speaker))
            }
        }
        return entries
    }

    /// LibriSpeech: `*.trans.txt` files with lines `ID TEXT`, audio `ID.flac`
    /// beside them; the speaker is the first part of the ID.
    public static func libriSpeech(_ root: URL) throws -> [Entry] {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { throw IOError(root.path, "not a directory") }
        var entries: [Entry] = []
        var transcripts: [String] = []
        while let item = walker.nextObject() as? String {
            if item.hasSuffix(".trans.txt") { transcripts.append(item) }
        }
        guard !transcripts.isEmpty else { throw IOError(root.path, "no *.trans.txt files (is this a LibriSpeech directory?)") }
        for t in transcripts.sorted() {
            let folder = root.appendingPathComponent((t as NSString).deletingLastPathComponent)
            let text = try String(contentsOf: root.appendingPathComponent(t), encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let space = line.firstIndex(of: " ") else { continue }
                let id = String(line[..<space])
                entries.append(
                    Entry(
                        audioPath: folder.appendingPathComponent(id + ".flac").path,
                        text: String(line[line.index(after: space)...]),
                        speaker: String(id.split(separator: "-").first ?? "")))
            }
        }
        return entries
    }

    /// A folder of clips whose label is in the path: `pattern`, a regular
    /// expression with a named group `text` (and optionally `speaker`),
    /// matched against each clip's path relative to `root` without its
    /// extension (so `(?<text>[^/]+)/.*` takes the folder, as Speech Commands
    /// is laid out). A clip the pattern does not match is an error naming it.
    public static func folder(_ root: URL, pattern: String) throws -> [Entry] {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: "^(?:" + pattern + ")$") } catch {
            throw IOError(pattern, "not a regular expression (\(error.localizedDescription))")
        }
        guard pattern.contains("(?<text>") else { throw IOError(pattern, "the pattern needs a group named text: (?<text>…)") }
        let found = InputCollection.scan(root.path)
        guard !found.files.isEmpty else { throw IOError(root.path, "no audio files") }
        return try found.files.map { relative in
            let stem = (relative as NSString).deletingPathExtension
            let range = NSRange(stem.startIndex..., in: stem)
            guard let m = regex.firstMatch(in: stem, range: range),
                let text = Range(m.range(withName: "text"), in: stem).map({ String(stem[$0]) })
            else {
                throw IOError(root.appendingPathComponent(relative).path, "its name does not match --label-pattern \(pattern)")
            }
            let speaker = Range(m.range(withName: "speaker"), in: stem).map { String(stem[$0]) } ?? ""
            return Entry(
                audioPath: root.appendingPathComponent(relative).path, text: text.replacingOccurrences(of: "_", with: " "), speaker: speaker
            )
        }
    }

    /// A CSV (comma) or TSV (tab) table with a header row: the audio path in a
    /// column named path, audio, audio_filepath, file or filename; the text in
    /// sentence, text, transcript, transcription or label; the speaker, if
    /// any, in speaker, client_id or speaker_id. Paths are relative to the
    /// table's folder, or to its `clips/` folder (Common Voice). CSV fields may
    /// be quoted ("…", "" for a quote).
    public static func table(_ file: URL) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw IOError(file.path, "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw IOError(file.path, "not UTF-8 text") }
        let tab = file.pathExtension.lowercased() == "tsv" || (text.split(separator: "\n").first?.contains("\t") ?? false)
        let rows = parseTable(text, separator: tab ? "\t" : ",")
        guard let header = rows.first?.map({ $0.lowercased().trimmingCharacters(in: .whitespaces) }) else {
            throw IOError(file.path, "empty")
        }
        func column(_ names: [String]) -> Int? { names.lazy.compactMap { header.firstIndex(of: $0) }.first }
        guard let pathColumn = column(["path", "audio", "audio_filepath", "file", "filename"]) else {
            throw IOError(
                file.path,
                "no audio path column in the header (path, audio, audio_filepath, file or filename); it has \(header.joined(separator: ", "))"
            )
        }
        guard let textColumn = column(["sentence", "text", "transcript", "transcription", "label"]) else {
            throw IOError(
                file.path,
                "no text column in the header (sentence, text, transcript, transcription or label); it has \(header.joined(separator: ", "))"
            )
        }
        let speakerColumn = column(["speaker", "client_id", "speaker_id"])
        let folder = file.deletingLastPathComponent()
        var entries: [Entry] = []
        for (i, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            guard row.count > max(pathColumn, textColumn) else {
                throw IOError("\(file.path):\(i + 2)", "\(row.count) field(s); the header has \(header.count)")
            }
            var path = folder.appendingPathComponent(row[pathColumn]).path
            if row[pathColumn].hasPrefix("/") { path = row[pathColumn] }
            let clips = folder.appendingPathComponent("clips").appendingPathComponent(row[pathColumn]).path
            if !FileManager.default.fileExists(atPath: path) && FileManager.default.fileExists(atPath: clips) { path = clips }
            entries.append(
                Entry(audioPath: path, text: row[textColumn], speaker: speakerColumn.flatMap { $0 < row.count ? row[$0] : nil } ?? ""))
        }
        return entries
    }

    /// Rows of a CSV/TSV text: fields split at `separator`, double-quoted
    /// fields may hold the separator, line ends and "" for a quote.
    static func parseTable(_ text: String, separator: Character) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, atFieldStart = true
        var chars = text.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    // A doubled quote is a quote; a single one ends the quoted part.
                    var look = chars
                    if look.next() == "\"" { field.append("\""); chars = look } else { quoted = false }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart: quoted = true; atFieldStart = false
            case separator: row.append(field); field = ""; atFieldStart = true
            case "\n", "\r\n", "\r": row.append(field); rows.append(row); row = []; field = ""; atFieldStart = true
            default: field.append(c); atFieldStart = false
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    /// A Kaldi data directory: `wav.scp` (utterance id and audio path; a
    /// command ending in | is refused: convert the audio first), `text`
    /// (utterance id and transcript), and `utt2spk` if there is one.
    public static func kaldi(_ root: URL) throws -> [Entry] {
        func table(_ name: String) throws -> [(String, String)] {
            let url = root.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw IOError(url.path, "cannot read it as UTF-8 text")
            }
            return text.split(whereSeparator: \.isNewline).compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                guard let id = parts.first else { return nil }
                return (String(id), parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : "")
            }
        }
        let wav = Dictionary(try table("wav.scp"), uniquingKeysWith: { a, _ in a })
        let speakers =
            FileManager.default.fileExists(atPath: root.appendingPathComponent("utt2spk").path)
            ? Dictionary(try table("utt2spk"), uniquingKeysWith: { a, _ in a }) : [:]
        return try table("text").map { id, text in
            guard let path = wav[id] else { throw IOError(root.appendingPathComponent("text").path, "utterance \(id) is not in wav.scp") }
            guard !path.hasSuffix("|") else {
                throw IOError(
                    root.appendingPathComponent("wav.scp").path,
                    "utterance \(id) is a command (\(path.prefix(60))); write the audio to files and list them")
            }
            let file = path.hasPrefix("/") ? path : root.deletingLastPathComponent().appendingPathComponent(path).path
            return Entry(
                audioPath: FileManager.default.fileExists(atPath: file) ? file : root.appendingPathComponent(path).path,
                text: text, speaker: speakers[id] ?? "")
        }
    }

    /// JSON lines in NeMo's format; paths relative to the manifest's folder when inside it.
    public static func write(_ entries: [Entry], to url: URL) throws {
        let folder = url.deletingLastPathComponent().standardizedFileURL.path
        var out = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for e in entries {
            let full = URL(fileURLWithPath: e.audioPath).standardizedFileURL.path
            let path = full.hasPrefix(folder + "/") ? String(full.dropFirst(folder.count + 1)) : full
            var object: [String: String] = ["audio_filepath": path, "text": e.text]
            object["speaker"] = e.speaker
            var line = String(decoding: try encoder.encode(object), as: UTF8.self)
            if let d = e.duration {
                line.removeLast()
                line += String(format: ",\"duration\":%.3f}", d)
            }
            out += line + "\n"
        }
        try FileWriting.writeAtomically(Array(out.utf8), to: url)
    }
}

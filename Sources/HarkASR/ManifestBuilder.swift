import Foundation
import HarkCore
import HarkAudio
import HarkIO

/// Builds manifests from corpora laid out as AN4 or LibriSpeech.
public enum ManifestBuilder {
    public struct Entry: Sendable {
        public var audioPath: String
        public var text: String
        public var speaker: String
        public var duration: Double?
    }

    /// AN4: `etc/*.transcription` lines `<s> TEXT </s> (utterance-id)` and
    /// audio `wav/**/utterance-id.wav`; the speaker is the audio's folder.
    public static func an4(_ root: URL) throws -> [Entry] {
        let etc = root.appendingPathComponent("etc")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: etc.path))?.filter { $0.hasSuffix(".transcription") }.sorted() ?? []
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
                entries.append(Entry(audioPath: folder.appendingPathComponent(id + ".flac").path,
                                     text: String(line[line.index(after: space)...]),
                                     speaker: String(id.split(separator: "-").first ?? "")))
            }
        }
        return entries
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

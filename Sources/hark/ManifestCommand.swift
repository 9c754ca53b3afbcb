import ArgumentParser
import Foundation
import HarkASR

/// `hark manifest`: a JSON-lines manifest from labeled speech as it is laid out.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract:
            "Write a JSON-lines manifest from labeled speech: AN4, LibriSpeech, Kaldi data, a CSV/TSV table, or clips named by their label.",
        discussion: """
            AN4: etc/*.transcription + wav/. LibriSpeech: *.trans.txt + .flac files. Kaldi: a data directory \
            with wav.scp and text (and utt2spk). Table: a .csv or .tsv file with a header naming the path and \
            text columns (Common Voice's validated.tsv: path, sentence, client_id). Folder: clips whose label \
            is in their name, with --label-pattern, a regular expression with a group named text (and \
            speaker) over each path without its extension, e.g. for FSDD's 7_jackson_0.wav: \
            --label-pattern '(?<text>[^_]+)_(?<speaker>[^_]+)_[0-9]+' (underscores in a label become spaces). \
            Each line is {"audio_filepath", "text", "speaker"}, the path relative to the manifest. With \
            --valid-speakers, those speakers' utterances go to --valid-output instead (a speaker-disjoint split).
            """)

    enum Layout: String, ExpressibleByArgument, CaseIterable { case an4, librispeech, kaldi, table, folder }

    @Argument(help: "The corpus directory, or a CSV/TSV table.")
    var directory: String
    @Option(help: "an4, librispeech, kaldi, table or folder (default: guessed; folder with --label-pattern).")
    var layout: Layout?
    @Option(
        help:
            "For a folder of clips: a regular expression with (?<text>…) and optionally (?<speaker>…), matched against each path without its extension."
    )
    var labelPattern: String?
    @Option(name: .shortAndLong, help: "The manifest to write.")
    var output: String
    @Option(help: "Comma-separated speakers held out into --valid-output.")
    var validSpeakers: String?
    @Option(help: "The manifest of the held-out speakers.")
    var validOutput: String?

    mutating func validate() throws {
        if (validSpeakers == nil) != (validOutput == nil) {
            throw ValidationError("--valid-speakers and --valid-output go together")
        }
    }

    /// The layout of `root` by what it holds; nil when none fits.
    func guessLayout(_ root: URL) -> Layout? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory) else { return nil }
        if !isDirectory.boolValue { return ["csv", "tsv"].contains(root.pathExtension.lowercased()) ? .table : nil }
        if labelPattern != nil { return .folder }
        if fm.fileExists(atPath: root.appendingPathComponent("wav.scp").path)
            && fm.fileExists(atPath: root.appendingPathComponent("text").path)
        {
            return .kaldi
        }
        if fm.fileExists(atPath: root.appendingPathComponent("etc").path) { return .an4 }
        let hasTranscripts = fm.enumerator(atPath: root.path)?.contains { ($0 as? String)?.hasSuffix(".trans.txt") ?? false } ?? false
        return hasTranscripts ? .librispeech : nil
    }

    func run() throws {
        try checkOutput(output, isNotOneOf: [], option: "-o")
        if let validOutput { try checkOutput(validOutput, isNotOneOf: [output], option: "--valid-output") }
        let root = URL(fileURLWithPath: directory)
        guard let kind = layout ?? guessLayout(root) else {
            throw ToolError(
                "\(directory): not a layout hark manifest knows; it reads \(ManifestBuilder.layouts). JSON-lines and TSV manifests (\"audio_filepath\", \"text\") can also be written by hand (docs/training.md, \"hark manifest\")"
            )
        }
        if kind == .folder && labelPattern == nil { throw ValidationError("--layout folder needs --label-pattern") }
        let entries: [ManifestBuilder.Entry]
        switch kind {
        case .an4: entries = try ManifestBuilder.an4(root)
        case .librispeech: entries = try ManifestBuilder.libriSpeech(root)
        case .kaldi: entries = try ManifestBuilder.kaldi(root)
        case .table: entries = try ManifestBuilder.table(root)
        case .folder: entries = try ManifestBuilder.folder(root, pattern: labelPattern!)
        }
        let skipped =
            kind == .an4
            ? ManifestBuilder.undecodableNames(under: root.appendingPathComponent("wav"))
            : kind == .folder || kind == .librispeech ? ManifestBuilder.undecodableNames(under: root) : []
        if !skipped.isEmpty {
            printError(
                "note: \(skipped.count) audio file(s) whose names are not UTF-8 were left out (rename them): "
                    + skipped.prefix(3).joined(separator: ", "))
        }
        let held = Set((validSpeakers ?? "").split(separator: ",").map { String($0) })
        let unknown = held.subtracting(entries.map(\.speaker))
        if !unknown.isEmpty { throw ToolError("--valid-speakers: no utterances of \(unknown.sorted().joined(separator: ", "))") }
        let train = entries.filter { !held.contains($0.speaker) }
        try ManifestBuilder.write(train, to: URL(fileURLWithPath: output))
        StandardOutput.line("\(output): \(train.count) utterances, \(plural(Set(train.map(\.speaker)).count, "speaker"))")
        if let validOutput {
            let valid = entries.filter { held.contains($0.speaker) }
            try ManifestBuilder.write(valid, to: URL(fileURLWithPath: validOutput))
            StandardOutput.line("\(validOutput): \(valid.count) utterances, \(plural(held.count, "speaker"))")
        }
        try StandardOutput.finish()
    }
}

/// "1 speaker", "3 speakers".
private func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

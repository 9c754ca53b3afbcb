import ArgumentParser
import Foundation
import HarkASR

/// `hark manifest`: a JSON-lines manifest from an AN4 or LibriSpeech directory.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Write a JSON-lines manifest from an AN4 or LibriSpeech-style directory.",
        discussion: """
        AN4: etc/*.transcription + wav/. LibriSpeech: *.trans.txt + .flac files. Each line is \
        {"audio_filepath", "text", "speaker"}, the path relative to the manifest. With --valid-speakers, \
        those speakers' utterances go to --valid-output instead (a speaker-disjoint split).
        """)

    enum Layout: String, ExpressibleByArgument, CaseIterable { case an4, librispeech }

    @Argument(help: "The corpus directory.")
    var directory: String
    @Option(help: "an4 or librispeech (default: guessed from the directory).")
    var layout: Layout?
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

    func run() throws {
        try checkOutput(output, isNotOneOf: [], option: "-o")
        if let validOutput { try checkOutput(validOutput, isNotOneOf: [output], option: "--valid-output") }
        let root = URL(fileURLWithPath: directory)
        let kind = layout ?? (FileManager.default.fileExists(atPath: root.appendingPathComponent("etc").path) ? .an4 : .librispeech)
        let entries = try kind == .an4 ? ManifestBuilder.an4(root) : ManifestBuilder.libriSpeech(root)
        let held = Set((validSpeakers ?? "").split(separator: ",").map { String($0) })
        let unknown = held.subtracting(entries.map(\.speaker))
        if !unknown.isEmpty { throw ToolError("--valid-speakers: no utterances of \(unknown.sorted().joined(separator: ", "))") }
        let train = entries.filter { !held.contains($0.speaker) }
        try ManifestBuilder.write(train, to: URL(fileURLWithPath: output))
        StandardOutput.line("\(output): \(train.count) utterances, \(Set(train.map(\.speaker)).count) speakers")
        if let validOutput {
            let valid = entries.filter { held.contains($0.speaker) }
            try ManifestBuilder.write(valid, to: URL(fileURLWithPath: validOutput))
            StandardOutput.line("\(validOutput): \(valid.count) utterances, \(held.count) speakers")
        }
        try StandardOutput.finish()
    }
}

import ArgumentParser
import Foundation
import HarkASR
import HarkAudio
import HarkCTC
import HarkCore

/// `hark align`: a known transcript aligned to its recording — word times,
/// or a long recording cut into utterance clips for `hark train`.
struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align a known transcript to its recording: word times, or a long recording cut into clips.",
        discussion: """
            The network runs over the whole recording and the transcript is placed by CTC forced \
            alignment (the path torchaudio.functional.forced_align finds); each word's time is then put \
            on the speech around its aligned frames, as transcripts' word times are. The transcript is \
            normalised as the model's text is (upper case, A-Z and apostrophes for the default model).

            Without --clips, the words with their times go to stdout in --format. With --clips DIR, each \
            non-empty line of TRANSCRIPT is an utterance of a long recording: DIR receives one WAV clip \
            per utterance (at the model's rate, --pad seconds around its speech, never past the middle of \
            the pause to the next) and manifest.jsonl, {"audio_filepath", "text", "duration", "offset", \
            "score"} per clip, ready for hark train. The score is CTC segmentation's confidence (Kürzinger \
            et al., 2020): the lowest mean log-probability of the aligned path over 0.9 s of the \
            utterance; a line that was not said, or said otherwise, scores far below -1. A recording too \
            long to align whole is aligned within a band around a steady pace.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, ctm, textgrid, srt, vtt }

    @Option(help: "Model directory (default: the bundled model).") var model: String?
    @Option(help: "Output format of the words: json, ctm, textgrid (Praat), srt or vtt.") var format: Format = .json
    @Option(help: ArgumentHelp("Cut the recording into one clip per transcript line, written here with manifest.jsonl.", valueName: "dir"))
    var clips: String?
    @Option(help: ArgumentHelp("With --clips, seconds of audio kept around each utterance's speech.", valueName: "s"))
    var pad: Double = 0.2
    @Option(help: ArgumentHelp("With --clips, leave out utterances whose score is below this (e.g. -2).", valueName: "score"))
    var minScore: Double?
    @Argument(help: "The recording (any format libsndfile reads).") var audio: String
    @Argument(help: "Its transcript: a text file, or - for standard input.") var transcript: String

    /// The largest transcript read.
    static let maxTranscriptBytes = 16 << 20

    func validate() throws {
        guard pad.isFinite && (0...5).contains(pad) else { throw ValidationError("--pad \(pad) must be between 0 and 5 seconds") }
        if let minScore, !minScore.isFinite { throw ValidationError("--min-score must be a finite number") }
        if clips == nil && minScore != nil { throw ValidationError("--min-score applies with --clips") }
        if audio == "-" && transcript == "-" { throw ValidationError("the recording and the transcript cannot both be standard input") }
    }

    func run() throws {
        let acoustic = try AcousticModel.load(directory: try ModelLocation.resolve(model))
        let transcriber = Transcriber(model: acoustic)
        let text = try readTranscript()
        let rate = acoustic.config.sampleRate
        let loaded = try AudioLoader.load(audio, options: AudioLoadOptions(targetSampleRate: rate))
        loaded.notes.forEach { printError("note: " + $0) }
        let samples = loaded.waveform.samples
        let aligner = Aligner(transcriber: transcriber)
        do {
            guard let clips else {
                let t = try aligner.align(samples: samples, text: text)
                let rendered = TranscriptFormat(rawValue: format.rawValue)!.render(t, source: audio)
                StandardOutput.write(rendered)
                try StandardOutput.finish()
                return
            }
            let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            let spans = try aligner.alignUtterances(samples: samples, lines: lines)
            try writeClips(spans, samples: samples, rate: rate, to: clips)
        } catch let e as AlignmentError {
            throw ToolError("\(audio): \(e)")
        }
    }

    func readTranscript() throws -> String {
        let data: Data
        if transcript == "-" {
            data = FileHandle.standardInput.readData(ofLength: Self.maxTranscriptBytes + 1)
        } else {
            guard let handle = FileHandle(forReadingAtPath: transcript) else {
                throw ToolError("\(transcript): cannot read the transcript")
            }
            defer { try? handle.close() }
            data = handle.readData(ofLength: Self.maxTranscriptBytes + 1)
        }
        guard data.count <= Self.maxTranscriptBytes else {
            throw ToolError("\(transcript): a transcript of more than \(Self.maxTranscriptBytes >> 20) MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ToolError("\(transcript): not UTF-8 text") }
        return text
    }

    /// One clip per utterance: `pad` around its speech, never past the middle of a pause.
    func writeClips(_ spans: [Aligner.UtteranceSpan], samples: [Float], rate: Int, to directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let manifest = dir.appendingPathComponent("manifest.jsonl")
        try checkOutput(manifest.path, isNotOneOf: [audio, transcript], option: "--clips")
        let base = ((audio as NSString).lastPathComponent as NSString).deletingPathExtension
        let duration = Double(samples.count) / Double(rate)
        var lines: [String] = [], dropped = 0
        for (i, span) in spans.enumerated() {
            if let minScore, span.score < minScore {
                dropped += 1
                continue
            }
            let before = i > 0 ? (spans[i - 1].end + span.start) / 2 : 0
            let after = i + 1 < spans.count ? (span.end + spans[i + 1].start) / 2 : duration
            let start = max(before, span.start - pad), end = min(after, span.end + pad)
            let lo = max(0, Int((start * Double(rate)).rounded())), hi = min(samples.count, Int((end * Double(rate)).rounded()))
            guard hi > lo else { continue }
            let name = String(format: "%@-%04d.wav", base, i + 1)
            try FileWriting.writeAtomically(
                wavFile(samples: Array(samples[lo..<hi]), sampleRate: rate), to: dir.appendingPathComponent(name))
            let row: [String: Any] = [
                "audio_filepath": name, "text": span.text, "duration": Double(hi - lo) / Double(rate),
                "offset": (Double(lo) / Double(rate) * 1000).rounded() / 1000,
                "score": (span.score * 1000).rounded() / 1000
            ]
            lines.append(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]),
                    as: UTF8.self))
        }
        try FileWriting.writeAtomically(Array(lines.map { $0 + "\n" }.joined().utf8), to: manifest)
        printError(
            "align: \(lines.count) clips in \(directory)" + (dropped > 0 ? ", \(dropped) utterance(s) below --min-score left out" : "")
                + "; manifest \(manifest.path)")
    }
}

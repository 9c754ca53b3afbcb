import ArgumentParser
import Foundation
import HarkASR
import HarkAudio
import HarkCTC
import HarkCore
import HarkIO
import HarkMPI
import HarkPlot

/// `hark transcribe`: audio in, text out.
struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe audio files, directories, manifests or standard input.",
        discussion: """
            Without --model, the default model (models/an4-fsdd-recordings, trained on CMU AN4's spelled letters, \
            digits and numbers and on the Free Spoken Digit Dataset's isolated digits, with noise, telephone \
            band, reverberation, silence and pauses added in training) is used. A recording is cut at its \
            pauses and each utterance transcribed on its own (--no-segment: as one utterance). Results go to stdout (txt: the text, \
            prefixed by the input's path and a tab when there are several inputs; json: one object per \
            line) or, with --output-dir, into <name>.<format> per input.
            """)

    @Option(help: "Model directory (config.json + model.safetensors).") var model: String?
    @Option(help: "Output format: txt, json, srt, vtt, ctm (a line per word, NIST/Kaldi) or textgrid (Praat).") var format: Format = .txt
    @Option(help: "Write one file per input here instead of printing.") var outputDir: String?
    @OptionGroup(title: "Decoding (greedy unless a beam, a language model, a vocabulary or hotwords are given)")
    var decoding: DecodingFlags
    @Option(help: "Write each input's log-probabilities [frames, tokens] as <name>.npy here.") var emitLogprobs: String?
    @Option(help: "Use this channel (0-based) instead of the mean of all channels.") var channel: Int?
    @Option(help: "Worker threads, one per core unless given.") var threads: Int = defaultThreadCount
    @OptionGroup(title: "Utterances") var segmentation: SegmentationFlags
    @OptionGroup(title: "Live streaming") var live: StreamingFlags
    @Argument(help: "Audio files, directories, manifests, or - for standard input.") var inputs: [String]

    enum Format: String, ExpressibleByArgument, CaseIterable { case txt, json, srt, vtt, ctm, textgrid }

    mutating func validate() throws {
        try validateThreads(threads)
        if let channel, channel < 0 { throw ValidationError("--channel \(channel) must be 0 or more") }
        guard !inputs.isEmpty else { throw ValidationError("no INPUT given") }
        if live.stream {
            guard inputs.count == 1 else { throw ValidationError("--stream takes one input (got \(inputs.count))") }
            guard outputDir == nil, emitLogprobs == nil, format == .txt || format == .json else {
                throw ValidationError("--stream prints JSON lines; --format, --output-dir and --emit-logprobs do not apply")
            }
            guard segmentation.segment else {
                throw ValidationError("--stream always cuts the stream at pauses; --no-segment does not apply")
            }
        }
    }

    func run() throws {
        ComputeThreads.count = threads
        let modelURL = try ModelLocation.resolve(model)
        let acoustic = try AcousticModel.load(directory: modelURL)
        let transcriber = Transcriber(model: acoustic, decoding: try decoding.decoding(acoustic, lm: try decoding.loadLM(acoustic)))
        transcriber.segmentation = segmentation.options
        if live.stream {
            // One process streams: under mpirun every rank would stream the same input and print every result.
            if let mpi = MPICollective.fromLauncher(), mpi.size > 1 {
                if mpi.isRoot { printError("--stream runs in one process; this job has \(mpi.size) ranks (run it without mpirun)") }
                mpi.barrier()
                throw ExitCode(1)
            }
            let recognizer = try StreamingRecognizer(transcriber: transcriber, options: live.partials.options(segmentation))
            do {
                try LiveTranscription(recognizer: recognizer, flags: live, channel: channel.map { .channel($0) } ?? .average).run(inputs[0])
            } catch {
                try? StandardOutput.finish()
                printError("\(error)")
                throw ExitCode(1)
            }
            try StandardOutput.finish()
            return
        }
        let collection = InputCollection(arguments: inputs)
        // Under mpirun: this rank's share of the inputs; rank 0 prints everything in order at the end.
        let batch = try ShardedBatch()
        try batch.checkSameModel(acoustic)
        if batch.collective.isRoot {
            collection.notes.forEach { printError("note: " + $0) }
            for f in collection.failures { printError("\(f.input): \(f.message)") }
        }
        var failed = collection.failures.map(\.input)
        for dir in [outputDir, emitLogprobs].compactMap({ $0 }) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let indices = try batch.mine(collection.inputs.map(\.path))
        let list = indices.map { collection.inputs[$0] }
        let progress = BatchProgress(
            total: list.count, label: batch.sharded ? "transcribe (rank \(batch.collective.rank))" : "transcribe",
            quiet: !batch.collective.isRoot)
        if batch.collective.isRoot { progress.failedBefore(collection.failures.count) }
        let renderer = TranscriptFormat(rawValue: format.rawValue)!
        let channelSelection: ChannelSelection = channel.map { .channel($0) } ?? .average
        // Pipes, FIFOs and devices are read only when named; one found in a directory is refused, not waited on.
        let named = Set(inputs)
        let K = acoustic.config.tokens.count
        let noteCollector = NoteCollector()
        processInOrder(
            list, threads: threads,
            work: { input -> Transcript in
                let audio = AudioLoadOptions(channel: channelSelection, allowStreams: named.contains(input.path))
                // Log-probabilities go to their .npy as the network computes them: memory stays flat.
                let npy = try emitLogprobs.map {
                    try NPYRowWriter(URL(fileURLWithPath: $0).appendingPathComponent(input.name + ".npy"), cols: K)
                }
                do {
                    let (t, notes) = try transcriber.transcribe(
                        path: input.path, audio: audio, logProbabilities: npy.map { w in { try w.append($0) } })
                    notes.forEach { noteCollector.note($0, input: input.path) }
                    try npy?.finish()
                    return t
                } catch {
                    npy?.discard()
                    throw error
                }
            },
            emit: { k, input, t in
                let rendered = renderer.render(t, source: input.path)
                if let dir = outputDir {
                    let url = URL(fileURLWithPath: dir).appendingPathComponent(input.name + "." + format.rawValue)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try FileWriting.writeAtomically(Array(rendered.utf8), to: url)
                } else {
                    let several = collection.inputs.count > 1
                    switch format {
                    case .txt: batch.emit(indices[k], several ? "\(input.path)\t\(rendered)" : rendered)
                    case .json: batch.emit(indices[k], rendered)
                    case .ctm: batch.emit(indices[k], rendered)
                    case .srt, .vtt, .textgrid: batch.emit(indices[k], several ? "==> \(input.path) <==\n\(rendered)\n" : rendered)
                    }
                }
                progress.finished(audioSeconds: t.duration)
            },
            failed: { k, input, error in
                failed.append(input.path)
                progress.failed("\(error)", report: batch.failed(indices[k], path: input.path, message: "\(error)"))
            })
        noteCollector.finish()
        if batch.sharded {
            let all = batch.finish()
            failed = collection.failures.map(\.input) + all.failedPaths
            guard batch.collective.isRoot else {
                try StandardOutput.finish()
                if !failed.isEmpty { throw ExitCode(1) }
                return
            }
            printError("transcribe: \(batch.collective.size) ranks; \(all.count) done, \(all.failedPaths.count) failed")
        } else if list.count > 1 || !failed.isEmpty {
            printError(progress.summary())
        }
        try StandardOutput.finish()
        try endBatch(failed: failed)
    }
}

extension EvalCommand {
    /// Every word's (confidence, whether right) from the per-utterance rows.
    static func wordConfidences(_ rows: [String]) -> [(confidence: Double, correct: Bool)] {
        rows.flatMap { line -> [(confidence: Double, correct: Bool)] in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let pairs = o["word_confidences"] as? [[Double]]
            else { return [] }
            return pairs.filter { $0.count == 2 }.map { ($0[0], $0[1] == 1) }
        }
    }

    static func reliability(_ rows: [String]) -> ReliabilityBins {
        var bins = ReliabilityBins()
        for w in wordConfidences(rows) { bins.add(confidence: w.confidence, correct: w.correct) }
        return bins
    }

    /// The HTML report, from the per-utterance rows (the same on one rank or many).
    func writeReport(
        _ file: String, rows: [String], entries: [ManifestEntry], failed: [(path: String, message: String)], transcriber: Transcriber
    ) throws {
        var audioPaths: [String: String] = [:]
        for e in entries { audioPaths[e.writtenPath] = e.audioPath }
        let utterances: [EvaluationReport.Utterance] = rows.compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let path = o["audio_filepath"] as? String, let r = o["reference"] as? String, let h = o["hypothesis"] as? String
            else { return nil }
            return EvaluationReport.Utterance(path: path, reference: r, hypothesis: h)
        }
        let modelName = transcriber.model.directory?.lastPathComponent ?? "model"
        var page = EvaluationReport(
            title: "Evaluation of \(modelName) on \((manifest as NSString).lastPathComponent)",
            facts: [
                "model \(transcriber.model.directory?.path ?? "?")", "manifest \(manifest)",
                "decoding: \(decodingSummary(transcriber.decoder.options))"
            ],
            utterances: utterances, failed: failed, worst: reportWorst ?? 20)
        page.reliability = Self.reliability(rows)
        let rate = transcriber.model.config.sampleRate
        let html = page.html { u in
            do {
                let audio = try AudioLoader.load(audioPaths[u.path] ?? u.path, options: AudioLoadOptions(targetSampleRate: rate))
                let samples = audio.waveform.samples
                guard Double(samples.count) / Double(rate) <= EvaluationReport.maxMediaSeconds else {
                    return .init(note: "Audio and figure left out: longer than \(Int(EvaluationReport.maxMediaSeconds)) s.")
                }
                let figure = try AudioFigure.make(
                    samples: samples, sampleRate: rate, transcriber: transcriber,
                    title: (u.path as NSString).lastPathComponent, width: 1000)
                return .init(figurePNG: try figure.render(.png), wav: wavFile(samples: samples, sampleRate: rate))
            } catch {
                return .init(note: "Audio and figure unavailable: \(error)")
            }
        }
        do {
            try FileWriting.writeAtomically(Array(html.utf8), to: URL(fileURLWithPath: file))
        } catch {
            printError("eval: \(error)")
            throw ExitCode(1)
        }
        printError("eval: wrote the report \(file)")
    }
}

/// "greedy" or "beam 32 with a word scorer", for reports.
func decodingSummary(_ options: DecoderOptions) -> String {
    switch options {
    case .greedy: return "greedy"
    case .beam(let b): return "beam \(b.width)" + (b.scorer == nil ? "" : " with a word scorer (language model, vocabulary or hotwords)")
    }
}

/// The thread count's check, shared by the commands that take one.
func validateThreads(_ threads: Int) throws {
    guard (1...Limits.threads).contains(threads) else { throw ValidationError("--threads \(threads) must be in 1…\(Limits.threads)") }
}

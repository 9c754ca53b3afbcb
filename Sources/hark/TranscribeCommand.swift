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
        let progress = BatchProgress(total: list.count, label: batch.sharded ? "transcribe (rank \(batch.collective.rank))" : "transcribe",
                                     quiet: !batch.collective.isRoot)
        if batch.collective.isRoot { progress.failedBefore(collection.failures.count) }
        let renderer = TranscriptFormat(rawValue: format.rawValue)!
        let channelSelection: ChannelSelection = channel.map { .channel($0) } ?? .average
        // Pipes, FIFOs and devices are read only when named; one found in a directory is refused, not waited on.
        let named = Set(inputs)
        let K = acoustic.config.tokens.count
        let noteCollector = NoteCollector()
        processInOrder(list, threads: threads, work: { input -> Transcript in
            let audio = AudioLoadOptions(channel: channelSelection, allowStreams: named.contains(input.path))
            var lp: [Float] = []
            let (t, notes) = try transcriber.transcribe(path: input.path, audio: audio,
                                                        logProbabilities: emitLogprobs.map { _ in { lp.append(contentsOf: $0.data) } })
            notes.forEach { noteCollector.note($0, input: input.path) }
            if let dir = emitLogprobs {
                let url = URL(fileURLWithPath: dir).appendingPathComponent(input.name + ".npy")
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try NPY.write(Matrix(rows: lp.count / K, cols: K, data: lp), to: url)
            }
            return t
        }, emit: { k, input, t in
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
        }, failed: { k, input, error in
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
        } else if list.count > 1 || !failed.isEmpty { printError(progress.summary()) }
        try StandardOutput.finish()
        if !failed.isEmpty {
            printError("\(failed.count) input(s) failed:\n" + failed.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }
}

/// `hark eval`: character and word error rates of a model on a manifest.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a model on a manifest: CER and WER with substitutions, deletions and insertions, and SER.",
        discussion: """
        Transcripts are normalised as the model's config.json says. Levenshtein alignment; a rate is the \
        errors of the whole manifest over its reference length (not a mean of per-utterance rates), and \
        is not capped. An utterance whose reference is empty counts its hypothesis as insertions; when \
        the whole manifest has no reference characters (or words) the rate is printed as n/a. SER, the \
        sentence error rate, is the share of utterances not transcribed exactly (100% minus the \
        accuracy of a set of isolated words).
        """)

    @Option(help: "Model directory (default: the bundled model).") var model: String?
    @OptionGroup(title: "Decoding (greedy unless a beam, a language model, a vocabulary or hotwords are given)")
    var decoding: DecodingFlags
    @OptionGroup(title: "Utterances") var segmentation: SegmentationFlags
    @Option(help: "Write per-utterance results as JSON lines to this file (- for stdout).") var perUtterance: String?
    @Option(help: ArgumentHelp("Also write an HTML report to this file.",
                               discussion: "Error rates with bootstrap 95% intervals, every utterance's word alignment worst first, audio and a posteriorgram figure for the worst, the character confusion table; self-contained, no network."))
    var report: String?
    @Option(help: "How many of the worst utterances get audio and a figure in --report (0…200; default 20).") var reportWorst: Int?
    @Flag(help: "Fit the temperature that calibrates the word confidences on this manifest (lowest log-loss) and print it, with the ECE it gives.")
    var fitTemperature = false
    @Flag(help: "Fit it (as --fit-temperature) and write it into the --model directory's config.json (\"calibration\").")
    var writeTemperature = false
    @Option(help: "Worker threads, one per core unless given.") var threads: Int = defaultThreadCount
    @Argument(help: "A manifest with transcripts.") var manifest: String

    mutating func validate() throws {
        try validateThreads(threads)
        if let reportWorst {
            guard (0...200).contains(reportWorst) else { throw ValidationError("--report-worst \(reportWorst) must be in 0…200") }
            guard report != nil else { throw ValidationError("--report-worst needs --report FILE") }
        }
        if report == "-" { throw ValidationError("--report needs a file: standard output carries the error rates") }
    }

    func run() throws {
        ComputeThreads.count = threads
        let acoustic = try AcousticModel.load(directory: try ModelLocation.resolve(model))
        let options = try decoding.decoding(acoustic, lm: try decoding.loadLM(acoustic))
        let transcriber = Transcriber(model: acoustic, decoding: options)
        transcriber.segmentation = segmentation.options
        let evaluator = Evaluator(model: acoustic, decoding: options)
        let allEntries = try Manifest.read(manifest)
        // Nothing to score is an error, not rates of n/a: a wrong or truncated file, most likely.
        guard !allEntries.isEmpty else { throw ToolError("\(manifest): the manifest has no entries") }
        if let report { try checkOutput(report, isNotOneOf: [manifest] + allEntries.map(\.audioPath), option: "--report") }
        if writeTemperature && model == nil {
            throw ValidationError("--write-temperature changes a model directory: name it with --model")
        }
        // Under mpirun: this rank scores its share; rank 0 sums the counts and writes the rows in order.
        let batch = try ShardedBatch()
        try batch.checkSameModel(acoustic)
        let indices = try batch.mine(allEntries.map(\.audioPath))
        let entries = indices.map { allEntries[$0] }
        var rows: [String] = []
        var totals = Evaluator.Totals()
        var failed: [String] = []
        var reasons: [String: String] = [:]
        let progress = BatchProgress(total: entries.count, label: batch.sharded ? "eval (rank \(batch.collective.rank))" : "eval",
                                     quiet: !batch.collective.isRoot)
        processInOrder(entries, threads: threads, work: { e -> (Evaluator.Score, Double, [[Double]]) in
            let (t, _, _) = try transcriber.transcribe(path: e.audioPath)
            let reference = e.text ?? ""
            // Each word's confidence and whether it was right, for the calibration figures.
            let right = evaluator.wordCorrectness(reference: reference, hypothesis: t.text)
            let confidences = zip(t.words, right).map { w, ok -> [Double] in [((w.confidence ?? 0) * 10000).rounded() / 10000, ok ? 1 : 0] }
            return (evaluator.score(reference: reference, hypothesis: t.text), t.duration, confidences)
        }, emit: { k, e, result in
            let (s, duration, confidences) = result
            let row: [String: Any] = [
                "audio_filepath": e.writtenPath, "reference": s.reference, "hypothesis": s.hypothesis,
                "char_errors": s.characters.errors, "chars": s.characters.referenceLength,
                "word_errors": s.words.errors, "words": s.words.referenceLength,
                "word_confidences": confidences,
            ]
            let line = String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
            if batch.sharded {
                // The row and the edit counts, for rank 0.
                let c = s.characters, w = s.words
                let counts = [c.substitutions, c.deletions, c.insertions, c.referenceLength, w.substitutions, w.deletions, w.insertions, w.referenceLength]
                batch.emit(indices[k], String(decoding: try JSONSerialization.data(withJSONObject: ["row": line, "counts": counts]), as: UTF8.self), audioSeconds: duration)
            } else {
                rows.append(line)
                totals.add(s)
            }
            progress.finished(audioSeconds: duration)
        }, failed: { k, e, error in
            failed.append(e.audioPath)
            reasons[e.audioPath] = "\(error)"
            progress.failed("\(error)", report: batch.failed(indices[k], path: e.audioPath, message: "\(error)"))
        })
        if batch.sharded {
            let all = batch.finish(printOutputs: false)
            failed = all.failedPaths
            for text in all.outputs {
                guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                      let line = o["row"] as? String, let n = o["counts"] as? [Int], n.count == 8 else { continue }
                rows.append(line)
                totals.add(characters: EditCounts(substitutions: n[0], deletions: n[1], insertions: n[2], referenceLength: n[3]),
                           words: EditCounts(substitutions: n[4], deletions: n[5], insertions: n[6], referenceLength: n[7]))
            }
            guard batch.collective.isRoot else {
                if !failed.isEmpty { throw ExitCode(1) }
                return
            }
        }
        let (cer, wer) = (totals.characters, totals.words)
        if let perUtterance {
            let text = rows.map { $0 + "\n" }.joined()
            if perUtterance == "-" {
                StandardOutput.write(text)
            } else {
                try FileWriting.writeAtomically(Array(text.utf8), to: URL(fileURLWithPath: perUtterance))
            }
        }
        func line(_ name: String, _ c: EditCounts, _ unit: String) -> String {
            // With no reference at all the rate is undefined: say so rather than print inf or nan.
            let rate = c.referenceLength > 0 ? String(format: "%.2f%%", 100 * c.rate) : "n/a"
            return String(format: "%@ %@ (%d errors: %d substitutions, %d deletions, %d insertions; %d reference %@)",
                          name, rate, c.errors, c.substitutions, c.deletions, c.insertions, c.referenceLength, unit)
        }
        StandardOutput.line(line("CER", cer, "characters"))
        StandardOutput.line(line("WER", wer, "words"))
        StandardOutput.line(String(format: "SER %.2f%% (%d of %d utterances not exactly right)",
                                   100 * totals.sentenceErrorRate, totals.wrongUtterances, totals.utterances))
        let reliability = Self.reliability(rows)
        if let ece = reliability.expectedCalibrationError {
            StandardOutput.line(String(format: "ECE %.4f (expected calibration error of %d word confidences, %d bins)",
                                       ece, reliability.words, ReliabilityBins.binCount))
        }
        if fitTemperature || writeTemperature, let fitted = Calibration.fit(Self.wordConfidences(rows)) {
            // Confidences printed are already scaled by the model's own temperature, if any: the two multiply.
            let total = fitted.temperature * (transcriber.model.config.calibration?.temperature ?? 1)
            var after = ReliabilityBins()
            for w in Self.wordConfidences(rows) { after.add(confidence: fitted.apply(w.confidence), correct: w.correct) }
            StandardOutput.line(String(format: "calibration: temperature %.4f (in config.json: \"calibration\": {\"temperature\": %.4f}); ECE %.4f with it",
                                       fitted.temperature, total, after.expectedCalibrationError ?? 0))
            if writeTemperature, let directory = transcriber.model.directory {
                var config = transcriber.model.config
                config.calibration = Calibration(temperature: (total * 10000).rounded() / 10000)
                try transcriber.model.writeConfig(config, to: directory)
                printError("eval: wrote the temperature into \(directory.appendingPathComponent(AcousticModel.configFile).path)")
            }
        }
        try StandardOutput.finish()
        printError(progress.summary())
        if let report {
            try writeReport(report, rows: rows, entries: allEntries, failed: failed.map { ($0, reasons[$0] ?? "failed on another rank (see its messages)") },
                            transcriber: transcriber)
        }
        if !failed.isEmpty {
            printError("\(failed.count) input(s) failed:\n" + failed.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }
}

extension EvalCommand {
    /// Every word's (confidence, whether right) from the per-utterance rows.
    static func wordConfidences(_ rows: [String]) -> [(confidence: Double, correct: Bool)] {
        rows.flatMap { line -> [(confidence: Double, correct: Bool)] in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let pairs = o["word_confidences"] as? [[Double]] else { return [] }
            return pairs.filter { $0.count == 2 }.map { ($0[0], $0[1] == 1) }
        }
    }

    static func reliability(_ rows: [String]) -> ReliabilityBins {
        var bins = ReliabilityBins()
        for w in wordConfidences(rows) { bins.add(confidence: w.confidence, correct: w.correct) }
        return bins
    }

    /// The HTML report, from the per-utterance rows (the same on one rank or many).
    func writeReport(_ file: String, rows: [String], entries: [ManifestEntry], failed: [(path: String, message: String)], transcriber: Transcriber) throws {
        var audioPaths: [String: String] = [:]
        for e in entries { audioPaths[e.writtenPath] = e.audioPath }
        let utterances: [EvaluationReport.Utterance] = rows.compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let path = o["audio_filepath"] as? String, let r = o["reference"] as? String, let h = o["hypothesis"] as? String else { return nil }
            return EvaluationReport.Utterance(path: path, reference: r, hypothesis: h)
        }
        let modelName = transcriber.model.directory?.lastPathComponent ?? "model"
        var page = EvaluationReport(
            title: "Evaluation of \(modelName) on \((manifest as NSString).lastPathComponent)",
            facts: ["model \(transcriber.model.directory?.path ?? "?")", "manifest \(manifest)", "decoding: \(decodingSummary(transcriber.decoder.options))"],
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
                let figure = try AudioFigure.make(samples: samples, sampleRate: rate, transcriber: transcriber,
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

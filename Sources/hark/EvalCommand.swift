import ArgumentParser
import Foundation
import HarkASR
import HarkAudio
import HarkCTC
import HarkCore
import HarkIO
import HarkMPI
import HarkPlot

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
    @Option(
        help: ArgumentHelp(
            "Also write an HTML report to this file.",
            discussion:
                "Error rates with bootstrap 95% intervals, every utterance's word alignment worst first, audio and a posteriorgram figure for the worst, the character confusion table; self-contained, no network."
        ))
    var report: String?
    @Option(help: "How many of the worst utterances get audio and a figure in --report (0…200; default 20).") var reportWorst: Int?
    @Flag(
        help:
            "Fit the temperature that calibrates the word confidences on this manifest (lowest log-loss) and print it, with the ECE it gives."
    )
    var fitTemperature = false
    @Flag(help: "Fit it (as --fit-temperature) and write it into the --model directory's config.json (\"calibration\").")
    var writeTemperature = false
    @Flag(
        help: ArgumentHelp(
            "Fit a monotone map of the word confidences on this manifest and print the ECE it gives.",
            discussion:
                "The words are scored with their raw confidences (the model's own calibration set aside; the ECE printed is theirs), and the map is binned isotonic regression, 25 words a bin. Fit it on held-out speakers in every condition the model will hear (cat their manifests into one)."
        ))
    var fitCalibration = false
    @Flag(
        help: "Fit it (as --fit-calibration) and write it into the --model directory's config.json (\"calibration\"), replacing any there.")
    var writeCalibration = false
    @Option(help: "Worker threads, one per core unless given.") var threads: Int = defaultThreadCount
    @Argument(help: "A manifest with transcripts.") var manifest: String

    mutating func validate() throws {
        try validateThreads(threads)
        if let reportWorst {
            guard (0...200).contains(reportWorst) else { throw ValidationError("--report-worst \(reportWorst) must be in 0…200") }
            guard report != nil else { throw ValidationError("--report-worst needs --report FILE") }
        }
        if report == "-" { throw ValidationError("--report needs a file: standard output carries the error rates") }
        if (writeTemperature || writeCalibration) && model == nil {
            throw ValidationError(
                "--write-\(writeTemperature ? "temperature" : "calibration") changes a model directory: name it with --model")
        }
        if (fitCalibration || writeCalibration) && (fitTemperature || writeTemperature) {
            throw ValidationError("--fit-calibration and --fit-temperature each replace the model's calibration: give one")
        }
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
        let mapping = fitCalibration || writeCalibration
        if mapping { transcriber.calibration = nil }
        // Under mpirun: this rank scores its share; rank 0 sums the counts and writes the rows in order.
        let batch = try ShardedBatch()
        try batch.checkSameModel(acoustic)
        let indices = try batch.mine(allEntries.map(\.audioPath))
        let entries = indices.map { allEntries[$0] }
        var rows: [String] = []
        var totals = Evaluator.Totals()
        var failed: [String] = []
        var reasons: [String: String] = [:]
        let progress = BatchProgress(
            total: entries.count, label: batch.sharded ? "eval (rank \(batch.collective.rank))" : "eval",
            quiet: !batch.collective.isRoot)
        processInOrder(
            entries, threads: threads,
            work: { e -> (Evaluator.Score, Double, [[Double]]) in
                let (t, _, _) = try transcriber.transcribe(path: e.audioPath)
                let reference = e.text ?? ""
                // Each word's confidence and whether it was right, for the calibration figures.
                let right = evaluator.wordCorrectness(reference: reference, hypothesis: t.text)
                let confidences = zip(t.words, right).map { w, ok -> [Double] in
                    [((w.confidence ?? 0) * 10000).rounded() / 10000, ok ? 1 : 0]
                }
                return (evaluator.score(reference: reference, hypothesis: t.text), t.duration, confidences)
            },
            emit: { k, e, result in
                let (s, duration, confidences) = result
                let row: [String: Any] = [
                    "audio_filepath": e.writtenPath, "reference": s.reference, "hypothesis": s.hypothesis,
                    "char_errors": s.characters.errors, "chars": s.characters.referenceLength,
                    "word_errors": s.words.errors, "words": s.words.referenceLength,
                    "word_confidences": confidences
                ]
                let line = String(
                    decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]),
                    as: UTF8.self)
                if batch.sharded {
                    // The row and the edit counts, for rank 0.
                    let counts = s.characters.packed + s.words.packed
                    batch.emit(
                        indices[k],
                        String(decoding: try JSONSerialization.data(withJSONObject: ["row": line, "counts": counts]), as: UTF8.self),
                        audioSeconds: duration)
                } else {
                    rows.append(line)
                    totals.add(s)
                }
                progress.finished(audioSeconds: duration)
            },
            failed: { k, e, error in
                failed.append(e.audioPath)
                reasons[e.audioPath] = "\(error)"
                progress.failed("\(error)", report: batch.failed(indices[k], path: e.audioPath, message: "\(error)"))
            })
        if batch.sharded {
            let all = batch.finish(printOutputs: false)
            failed = all.failedPaths
            for text in all.outputs {
                guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                    let line = o["row"] as? String, let n = o["counts"] as? [Int], n.count == 8
                else { continue }
                rows.append(line)
                totals.add(characters: EditCounts(packed: n, offset: 0), words: EditCounts(packed: n, offset: 4))
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
            return String(
                format: "%@ %@ (%d errors: %d substitutions, %d deletions, %d insertions; %d reference %@)",
                name, rate, c.errors, c.substitutions, c.deletions, c.insertions, c.referenceLength, unit)
        }
        StandardOutput.line(line("CER", cer, "characters"))
        StandardOutput.line(line("WER", wer, "words"))
        StandardOutput.line(
            String(
                format: "SER %.2f%% (%d of %d utterances not exactly right)",
                100 * totals.sentenceErrorRate, totals.wrongUtterances, totals.utterances))
        let reliability = Self.reliability(rows)
        if let ece = reliability.expectedCalibrationError {
            StandardOutput.line(
                String(
                    format: "ECE %.4f (expected calibration error of %d word confidences, %d bins)",
                    ece, reliability.words, ReliabilityBins.binCount))
        }
        let words = Self.wordConfidences(rows)
        /// The ECE of `words` with `fitted` applied to their confidences.
        func ece(with fitted: Calibration) -> Double {
            var after = ReliabilityBins()
            for w in words { after.add(confidence: fitted.apply(w.confidence), correct: w.correct) }
            return after.expectedCalibrationError ?? 0
        }
        /// `calibration` into the --model directory's config.json, in place of what was there.
        func write(_ calibration: Calibration, what: String) throws {
            guard let directory = transcriber.model.directory else { return }
            var config = transcriber.model.config
            config.calibration = calibration
            try transcriber.model.writeConfig(config, to: directory)
            printError("eval: wrote the \(what) into \(directory.appendingPathComponent(AcousticModel.configFile).path)")
        }
        if fitTemperature || writeTemperature, let fitted = Calibration.fit(words) {
            // Confidences printed are already scaled by the model's own temperature, if any: the two multiply.
            let total = fitted.temperature * (transcriber.model.config.calibration?.temperature ?? 1)
            StandardOutput.line(
                String(
                    format: "calibration: temperature %.4f (in config.json: \"calibration\": {\"temperature\": %.4f}); ECE %.4f with it",
                    fitted.temperature, total, ece(with: fitted)))
            if writeTemperature { try write(Calibration(temperature: (total * 10000).rounded() / 10000), what: "temperature") }
        }
        if mapping {
            guard let fitted = Calibration.fitMap(words) else {
                throw ToolError("\(manifest): \(words.count) word confidences are too few to fit a map (50 at least)")
            }
            let points = (fitted.map ?? []).map { String(format: "[%.4f, %.4f]", $0[0], $0[1]) }.joined(separator: ", ")
            StandardOutput.line(
                String(
                    format: "calibration: a map of %d points (in config.json: \"calibration\": {\"map\": [%@]}); ECE %.4f with it",
                    fitted.map?.count ?? 0, points, ece(with: fitted)))
            if writeCalibration { try write(fitted, what: "calibration") }
        }
        try StandardOutput.finish()
        printError(progress.summary())
        if let report {
            try writeReport(
                report, rows: rows, entries: allEntries,
                failed: failed.map { ($0, reasons[$0] ?? "failed on another rank (see its messages)") },
                transcriber: transcriber)
        }
        try endBatch(failed: failed)
    }
}

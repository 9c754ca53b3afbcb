import ArgumentParser
import Foundation
import HarkASR
import HarkCTC
import HarkCore
import HarkIO
import HarkLM

/// `hark tune`: the language-model weights α and β that give the lowest WER
/// on a development manifest.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Grid-search the LM weight α and word bonus β on a development manifest.",
        discussion: """
            The network runs once per utterance; every (α, β) pair then decodes its log-probabilities \
            with the beam and the LM and is scored as `hark eval` scores (WER over the whole manifest, \
            CER to break ties). Prints the table of WERs and the best pair. Tune on speakers you do not \
            report on.
            """)

    @Option(help: "Model directory (default: the bundled model).") var model: String?
    @OptionGroup(title: "Decoding") var decoding: DecodingFlags
    @Option(help: "α values, comma-separated.") var alphas = "0,0.25,0.5,0.75,1,1.25,1.5,2"
    @Option(help: "β values, comma-separated.") var betas = "-1,0,0.5,1,1.5,2,3"
    @Option(help: "Worker threads, one per core unless given.") var threads: Int = defaultThreadCount
    @Argument(help: "A development manifest with transcripts.") var manifest: String

    static func values(_ flag: String, _ text: String) throws -> [Float] {
        let v = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.count <= 100, v.allSatisfy({ $0 != nil && $0!.isFinite && abs($0!) <= 1000 }) else {
            throw ValidationError("--\(flag) \(text): expected 1 to 100 numbers from -1000 to 1000, separated by commas")
        }
        return v.map { $0! }
    }

    mutating func validate() throws {
        _ = try Self.values("alphas", alphas)
        _ = try Self.values("betas", betas)
        try validateThreads(threads)
    }

    func run() throws {
        ComputeThreads.count = threads
        let acoustic = try AcousticModel.load(directory: try ModelLocation.resolve(model))
        guard acoustic.languageModelPath(try decoding.request()) != nil else {
            throw ValidationError("--lm FILE is needed (the model has none)")
        }
        let lm = try decoding.loadLM(acoustic)
        let entries = try Manifest.read(manifest)
        let transcriber = Transcriber(model: acoustic)
        // The network once: log-probabilities of every utterance.
        var items: [(reference: String, logProbs: Matrix)] = []
        var failed = 0
        let start = Date()
        processInOrder(
            entries, threads: threads,
            work: { e -> (String, Matrix) in
                let (_, lp, _) = try transcriber.transcribe(path: e.audioPath)
                return (e.text ?? "", lp)
            }, emit: { _, _, r in items.append((r.0, r.1)) },
            failed: { _, e, error in
                failed += 1
                // Audio errors name their file already.
                let message = "\(error)"
                printError(message.hasPrefix(e.audioPath) ? message : "\(e.audioPath): \(message)")
            })
        guard !items.isEmpty else { throw ToolError("\(manifest): no utterance could be read") }
        printError(String(format: "tune: log-probabilities of %d utterances in %.1f s", items.count, Date().timeIntervalSince(start)))
        let alphaValues = try Self.values("alphas", alphas), betaValues = try Self.values("betas", betas)
        var table = [[Evaluator.Totals]](
            repeating: [Evaluator.Totals](repeating: .init(), count: betaValues.count), count: alphaValues.count)
        var best: (Int, Int)?
        let searchStart = Date()
        for (i, a) in alphaValues.enumerated() {
            for (j, b) in betaValues.enumerated() {
                let evaluator = Evaluator(model: acoustic, decoding: try decoding.decoding(acoustic, lm: lm, alpha: a, beta: b))
                var totals = Evaluator.Totals()
                processInOrder(
                    items, threads: threads, work: { evaluator.score(reference: $0.reference, logProbabilities: $0.logProbs) },
                    emit: { _, _, s in totals.add(s) }, failed: { _, _, _ in })
                table[i][j] = totals
                if let (bi, bj) = best {
                    let current = table[bi][bj]
                    if (totals.words.errors, totals.characters.errors) < (current.words.errors, current.characters.errors) { best = (i, j) }
                } else {
                    best = (i, j)
                }
            }
            printError(
                String(format: "tune: α = %g done (%d/%d), %.1f s", a, i + 1, alphaValues.count, Date().timeIntervalSince(searchStart)))
        }
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var out = pad("WER %", 10) + betaValues.map { pad("β=\($0)", 9) }.joined() + "\n"
        for (i, a) in alphaValues.enumerated() {
            out +=
                pad("α=\(a)", 10)
                + table[i].map { t in
                    pad(t.words.referenceLength > 0 ? String(format: "%.2f", 100 * t.words.rate) : "n/a", 9)
                }.joined() + "\n"
        }
        let (bi, bj) = best!
        let t = table[bi][bj]
        out +=
            "best: --alpha \(alphaValues[bi]) --beta \(betaValues[bj]): "
            + String(format: "WER %.2f%%, CER %.2f%% on %d utterances", 100 * t.words.rate, 100 * t.characters.rate, t.utterances) + "\n"
        StandardOutput.write(out)
        try StandardOutput.finish()
        if failed > 0 { throw ExitCode(1) }
    }
}

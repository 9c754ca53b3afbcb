import ArgumentParser
import Foundation
import HarkASR
import HarkCore
import HarkIO
import HarkLM

/// `hark lm`: an n-gram language model (ARPA) from text, with modified Kneser-Ney as lmplz.
struct LMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Build an n-gram language model (ARPA, modified Kneser-Ney as KenLM's lmplz) from text.",
        discussion: """
            Inputs are text files (one sentence per line) or manifests (.jsonl/.json with "text", or .tsv), \
            whose transcripts are the sentences. With --model, text is normalised as that model's config.json \
            says (so the words match what it transcribes); otherwise it is upper-cased with runs of white space \
            collapsed. Blank lines are skipped. The ARPA file is written atomically; the n-gram counts per \
            order are printed.
            """)

    @Option(help: "The order n of the model (1…10).") var order: Int
    @Option(name: .shortAndLong, help: "The ARPA file to write; - writes it to standard output (the summary then goes to standard error).")
    var output: String
    @Option(
        help:
            "Pruning thresholds C2,C3,… for orders 2, 3, …: n-grams seen ≤ C times are dropped; the last value applies to higher orders (non-decreasing, ≥ 0)."
    )
    var prune: String?
    @Option(help: "Normalise text as this model directory's config.json says.") var model: String?
    @Flag(
        help:
            "For an order whose counts give no Kneser-Ney discounts (a small corpus), use lmplz's fallback D1=0.5 D2=1 D3+=1.5 instead of failing."
    )
    var discountFallback = false
    @Argument(help: "Text files (- for standard input) or manifests.") var inputs: [String]

    /// The parsed --prune values.
    static func thresholds(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw ValidationError("--prune takes comma-separated counts ≥ 0 for orders 2, 3, …, got \"\(text)\"")
        }
        let counts = values.map { $0! }
        guard zip(counts, counts.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw ValidationError("--prune thresholds must not decrease with the order, got \"\(text)\"")
        }
        return counts
    }

    mutating func validate() throws {
        guard (1...NGramModel.maxOrder).contains(order) else {
            throw ValidationError("--order must be 1…\(NGramModel.maxOrder), got \(order)")
        }
        if let prune { _ = try Self.thresholds(prune) }
        if inputs.isEmpty { throw ValidationError("give at least one text file or manifest") }
    }

    func run() throws {
        if output != "-" { try checkOutput(output, isNotOneOf: inputs, option: "-o") }
        let normalize: (String) -> String
        if let model {
            let url = URL(fileURLWithPath: model).appendingPathComponent(AcousticModel.configFile)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ToolError("\(url.path): cannot read the model's configuration")
            }
            let config: ModelConfig
            do { config = try JSONDecoder().decode(ModelConfig.self, from: data) } catch {
                throw ToolError("\(url.path): not a model configuration (\(error.localizedDescription))")
            }
            normalize = config.text.normalize
        } else {
            normalize = { $0.uppercased().split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        }
        var estimator = NGramEstimator(order: order, prune: try prune.map(Self.thresholds) ?? [])
        if discountFallback { estimator.discountFallback = NGramEstimator.lmplzFallback }
        var words = 0
        func add(_ text: String) throws {
            let sentence = normalize(text).split(separator: " ").map(String.init)
            if sentence.isEmpty { return }
            words += sentence.count
            do { try estimator.add(sentence) } catch let error as EstimationError { throw ToolError("\(error)") }
        }
        // Text is read as a stream, a line at a time: memory holds the counts, not the corpus.
        for input in inputs {
            if input != "-" && Manifest.isManifest(input) {
                for text in try Manifest.read(input).compactMap(\.text) { try add(text) }
            } else {
                let reader = try TextLineReader(path: input)
                while let line = try reader.next() {
                    do { try add(line) } catch let error as ToolError { throw ToolError("\(input):\(reader.lineNumber): \(error)") }
                }
            }
        }
        guard estimator.sentences > 0 else { throw ToolError("\(inputs.joined(separator: ", ")): no sentences to build a model from") }
        let arpa: String
        do { arpa = try estimator.arpa() } catch let error as EstimationError {
            throw ToolError("\(inputs.joined(separator: ", ")): \(error)")
        }
        let url = URL(fileURLWithPath: output)
        if output == "-" {
            // The model itself on stdout; the summary on stderr.
            StandardOutput.write(arpa)
            printError(
                "lm: order \(order), \(estimator.sentences) sentences, \(words) words; "
                    + arpa.split(separator: "\n", maxSplits: order + 1).dropFirst().prefix(order).joined(separator: ", "))
            try StandardOutput.finish()
            return
        }
        try FileWriting.writeAtomically(Array(arpa.utf8), to: url)
        StandardOutput.line("\(output): order \(order), \(estimator.sentences) sentences, \(words) words")
        // The n-gram counts: the "ngram N=COUNT" lines of the header.
        for line in arpa.split(separator: "\n", maxSplits: order + 1).dropFirst().prefix(order) { StandardOutput.line(String(line)) }
        try StandardOutput.finish()
    }
}

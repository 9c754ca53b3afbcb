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
    @Option(name: .shortAndLong, help: "The ARPA file to write.") var output: String
    @Option(help: "Pruning thresholds C2,C3,… for orders 2, 3, …: n-grams seen ≤ C times are dropped; the last value applies to higher orders (non-decreasing, ≥ 0).")
    var prune: String?
    @Option(help: "Normalise text as this model directory's config.json says.") var model: String?
    @Flag(help: "For an order whose counts give no Kneser-Ney discounts (a small corpus), use lmplz's fallback D1=0.5 D2=1 D3+=1.5 instead of failing.")
    var discountFallback = false
    @Argument(help: "Text files or manifests.") var inputs: [String]

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
        try checkOutput(output, isNotOneOf: inputs, option: "-o")
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
        var sentences: [[String]] = []
        var words = 0
        for input in inputs {
            let texts: [String]
            if Manifest.isManifest(input) {
                texts = try Manifest.read(input).compactMap(\.text)
            } else {
                guard let data = FileManager.default.contents(atPath: input) else {
                    throw ToolError("\(input): \(FileManager.default.fileExists(atPath: input) ? "cannot read the file" : "no such file")")
                }
                guard let text = String(data: data, encoding: .utf8) else { throw ToolError("\(input): not UTF-8 text") }
                texts = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
            }
            for text in texts {
                let sentence = normalize(text).split(separator: " ").map(String.init)
                if sentence.isEmpty { continue }
                words += sentence.count
                sentences.append(sentence)
            }
        }
        guard !sentences.isEmpty else { throw ToolError("\(inputs.joined(separator: ", ")): no sentences to build a model from") }
        var estimator = NGramEstimator(order: order, prune: try prune.map(Self.thresholds) ?? [])
        if discountFallback { estimator.discountFallback = NGramEstimator.lmplzFallback }
        let arpa: String
        do { arpa = try estimator.estimate(sentences: sentences) } catch let error as EstimationError {
            throw ToolError("\(inputs.joined(separator: ", ")): \(error)")
        }
        let url = URL(fileURLWithPath: output)
        try FileWriting.writeAtomically(Array(arpa.utf8), to: url)
        StandardOutput.line("\(output): order \(order), \(sentences.count) sentences, \(words) words")
        // The n-gram counts: the "ngram N=COUNT" lines of the header.
        for line in arpa.split(separator: "\n", maxSplits: order + 1).dropFirst().prefix(order) { StandardOutput.line(String(line)) }
        try StandardOutput.finish()
    }
}

import ArgumentParser
import Foundation
import HarkASR

/// `hark average`: the element-wise mean of a run's best epochs, as ESPnet
/// averages checkpoints before decoding.
struct AverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "average",
        abstract: "Average the weights of the best kept epochs of training runs into one model.",
        discussion: """
            Each RUN_DIR is the --out of a hark train run with --average-best N (which keeps its N best \
            epochs' weights as epoch-K.safetensors); their epochs are ranked by the validation CER in its \
            train.log.jsonl, and the --best of them are averaged element-wise. The runs must share one \
            network (config.json); the model written takes the first run's config.json.
            """)

    @Argument(help: "Run directories of hark train.") var runs: [String]
    @Option(name: .shortAndLong, help: "The model directory to write.") var output: String
    @Option(help: "How many of the best epochs to average (default: every kept epoch).") var best: Int?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("no RUN_DIR given") }
        if let best, best < 1 { throw ValidationError("--best \(best) must be 1 or more") }
    }

    func run() throws {
        let urls = runs.map { URL(fileURLWithPath: $0) }
        let model = try AcousticModel.load(directory: urls[0])
        for run in urls.dropFirst() {
            let other = try AcousticModel.load(directory: run)
            guard other.config.network == model.config.network, other.config.tokens == model.config.tokens,
                other.config.features == model.config.features, other.config.stackFrames == model.config.stackFrames
            else {
                throw ToolError(
                    "\(run.path): its network, features or tokens differ from \(urls[0].path)'s; only runs of one network average")
            }
        }
        let kept = try ModelAveraging.keptEpochs(in: urls)
        guard !kept.isEmpty else {
            throw ToolError(
                "no kept epochs (epoch-K.safetensors with a validation CER in the log) in \(runs.joined(separator: ", ")): train with --average-best N"
            )
        }
        let chosen = Array(kept.prefix(best ?? kept.count))
        try checkOutput(output, isNotOneOf: runs, option: "-o")
        try ModelAveraging.average(chosen.map(\.file), into: model)
        try model.save(to: URL(fileURLWithPath: output))
        for c in chosen { printError(String(format: "average: %@ (validation CER %.2f%%)", c.file.path, 100 * c.validCER)) }
        StandardOutput.line("model: \(output) (the mean of \(chosen.count) epoch(s))")
        try StandardOutput.finish()
    }
}

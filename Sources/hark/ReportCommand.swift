import ArgumentParser
import Foundation
import HarkASR
import HarkCore
import HarkPlot

/// `hark report`: a training run as a page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a training run's report: curves, validation error rates and options, as one HTML file.",
        discussion: """
            RUN_DIR is a `hark train --out` directory. From its train.log.jsonl: loss, learning rate, \
            gradient norm and frames/s against steps (long runs are averaged into at most 800 points, the \
            spread of each average shaded), validation CER and WER against epochs with the best epoch \
            marked. From its checkpoint: the training options and the model configuration. The file is \
            self-contained (inline SVG, no network) and opens in any browser. A running job can be \
            reported at any time; lines cut short by a kill are skipped and noted.

            Example:
              hark report runs/an4 -o an4-report.html
            """)

    @Option(name: .shortAndLong, help: "The HTML file to write (- for standard output).") var output: String
    @Argument(help: "A training run's directory (hark train --out).") var runDirectory: String

    func run() throws {
        if output != "-" {
            let dir = URL(fileURLWithPath: runDirectory)
            try checkOutput(
                output,
                isNotOneOf: ["train.log.jsonl", Checkpoint.fileName, AcousticModel.configFile, "model.safetensors"].map {
                    dir.appendingPathComponent($0).path
                }, option: "-o")
        }
        do {
            let report = try TrainingReport(runDirectory: runDirectory)
            for note in report.notes { printError("report: \(note)") }
            let html = report.html()
            if output == "-" {
                StandardOutput.write(html)
                try StandardOutput.finish()
            } else {
                try FileWriting.writeAtomically(Array(html.utf8), to: URL(fileURLWithPath: output))
            }
            printError(
                "report: wrote \(output == "-" ? "the page to standard output" : output) (\(report.steps.count) steps, \(report.epochs.count) epochs)"
            )
        } catch {
            printError("report: \(error)")
            throw ExitCode(1)
        }
    }
}

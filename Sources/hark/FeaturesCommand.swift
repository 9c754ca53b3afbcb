import ArgumentParser
import Foundation
import HarkAudio
import HarkCore
import HarkFeatures
import HarkIO

/// `hark features`: audio in, Kaldi-compatible feature matrices out.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute MFCC or log-mel filterbank features (Kaldi-compatible).",
        discussion: """
        INPUT is an audio file, a directory (searched recursively), a manifest \
        (.jsonl/.json with "audio_filepath", or .tsv with the path first) or - for standard input.
        With --format npy, each input becomes <output-dir>/<name>.npy, float32 [frames, dims]; \
        with --format ark, <output-dir>/feats.ark and feats.scp (Kaldi binary archive).
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case npy, ark }

    @OptionGroup(title: "Audio options")
    var features: FeatureFlags

    @Option(help: "Folder for the outputs (created if needed).")
    var outputDir: String

    @Option(help: "Output format: npy (one file per input) or ark (Kaldi archive + script file).")
    var format: Format = .npy

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = defaultThreadCount

    @Argument(help: "Audio files, directories, manifests, or - for standard input.")
    var inputs: [String]

    mutating func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard !inputs.isEmpty else { throw ValidationError("no INPUT given") }
        // The feature options as a whole, over Kaldi's defaults: a usage error too.
        do { _ = try FeatureExtractor(features.featureOptions()) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let extractor = try FeatureExtractor(features.featureOptions())
        let collection = InputCollection(arguments: inputs)
        collection.notes.forEach { printError("note: " + $0) }
        let outputURL = URL(fileURLWithPath: outputDir, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: outputURL, withIntermediateDirectories: true)
        } catch {
            throw ToolError("cannot create --output-dir \(outputDir): \(error.localizedDescription)")
        }
        let progress = BatchProgress(total: collection.inputs.count, label: "features")
        var failedInputs = collection.failures.map { $0.input }
        for failure in collection.failures { printError("\(failure.input): \(failure.message)") }

        let archive = format == .ark
            ? try KaldiArchiveWriter(ark: outputURL.appendingPathComponent("feats.ark"),
                                     scp: outputURL.appendingPathComponent("feats.scp"))
            : nil
        let audioOptions = features.audioOptions(sampleRate: extractor.sampleRate)
        let inputsList = collection.inputs
        // One file: all threads on its frames. Many: one file per thread.
        let threadsPerFile = inputsList.count == 1 ? threads : 1
        processInOrder(inputsList, threads: threads, work: { input -> (Matrix, Double) in
            let audio = try AudioLoader.load(input.path, options: audioOptions)
            audio.notes.forEach { printError("note: " + $0) }
            return (extractor.compute(audio.waveform.samples, threads: threadsPerFile), audio.waveform.duration)
        }, emit: { _, input, result in
            let (m, seconds) = result
            if let archive {
                let key = input.archiveKey
                archive.append(key: key, m)
                StandardOutput.line("\(input.path)\t\(archive.arkURL.path)[\(key)]\t[\(m.rows), \(m.cols)]")
            } else {
                let url = outputURL.appendingPathComponent(input.name + ".npy")
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try NPY.write(m, to: url)
                StandardOutput.line("\(input.path)\t\(url.path)\t[\(m.rows), \(m.cols)]")
            }
            progress.finished(audioSeconds: seconds)
        }, failed: { _, input, error in
            failedInputs.append(input.path)
            progress.failed("\(error)")
        })
        try archive?.finish()
        printError(progress.summary())
        try StandardOutput.finish()
        if !failedInputs.isEmpty {
            printError("\(failedInputs.count) input(s) failed:\n" + failedInputs.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }
}

/// An error of the tool itself (not of one input); printed, exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

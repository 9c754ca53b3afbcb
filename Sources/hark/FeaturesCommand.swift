import ArgumentParser
import Foundation
import HarkASR
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

    @Option(
        help:
            "Compute exactly the input features of this model directory (its config.json's \"features\": type, bins, CMVN, deltas), before frame stacking. No feature option may be given with it."
    )
    var model: String?

    @Option(help: "Worker threads, one per core unless given.")
    var threads: Int = defaultThreadCount

    @Argument(help: "Audio files, directories, manifests, or - for standard input.")
    var inputs: [String]

    mutating func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard !inputs.isEmpty else { throw ValidationError("no INPUT given") }
        if model != nil && features.anyGiven {
            throw ValidationError("--model computes that model's features; feature options cannot change them")
        }
        // The feature options as a whole, over Kaldi's defaults: a usage error too.
        do { _ = try FeatureExtractor(features.featureOptions()) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        ComputeThreads.count = threads
        let options =
            try model.map { try AcousticModel.readConfig(directory: ModelLocation.resolve($0)).features } ?? features.featureOptions()
        let extractor = try FeatureExtractor(options)
        let collection = InputCollection(arguments: inputs)
        // Under mpirun: each rank computes and writes its share (.npy files, or a part archive that rank 0
        // joins at the end); rank 0 prints the index in order.
        let batch = try ShardedBatch()
        let root = batch.collective.isRoot
        if root { collection.notes.forEach { printError("note: " + $0) } }
        let outputURL = URL(fileURLWithPath: outputDir, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: outputURL, withIntermediateDirectories: true)
        } catch {
            throw ToolError("cannot create --output-dir \(outputDir): \(error.localizedDescription)")
        }
        let indices = try batch.mine(collection.inputs.map(\.path))
        let progress = BatchProgress(
            total: indices.count, label: batch.sharded ? "features (rank \(batch.collective.rank))" : "features",
            quiet: !root)
        var failedInputs = collection.failures.map { $0.input }
        if root { for failure in collection.failures { printError("\(failure.input): \(failure.message)") } }

        let arkURL = outputURL.appendingPathComponent("feats.ark"), scpURL = outputURL.appendingPathComponent("feats.scp")
        let part = batch.sharded ? ".part\(batch.collective.rank)" : ""
        let archive =
            format == .ark
            ? try KaldiArchiveWriter(
                ark: outputURL.appendingPathComponent("feats.ark" + part),
                scp: outputURL.appendingPathComponent("feats.scp" + part))
            : nil
        var archived: [(index: Int, key: String)] = []
        let inputsList = indices.map { collection.inputs[$0] }
        // Pipes, FIFOs and devices are read only when named; one found in a directory is refused, not waited on.
        let named = Set(inputs)
        // Fewer inputs than threads: each input's frames are computed on the spare ones too.
        let perInput = max(1, threads / max(1, min(threads, inputsList.count)))
        let notes = NoteCollector()
        defer { notes.finish() }
        processInOrder(
            inputsList, threads: threads,
            work: { input -> (rows: Int, spool: RowSpool?, seconds: Double) in
                var audioOptions = features.audioOptions(sampleRate: extractor.sampleRate)
                audioOptions.allowStreams = named.contains(input.path)
                let reader = try AudioReader(input.path, options: audioOptions)
                reader.notes.forEach { notes.note($0, input: input.path) }
                // Rows go to a file as they are computed, so memory stays flat: the .npy itself, or
                // for ark a spool the archive copies from when the input's turn comes (entries are
                // written in input order).
                let url = outputURL.appendingPathComponent(input.name + ".npy")
                let npy = archive == nil ? try NPYRowWriter(url, cols: extractor.options.dimension) : nil
                let spool = archive == nil ? nil : try RowSpool(directory: outputURL, cols: extractor.options.dimension)
                do {
                    try extractor.computeStreaming(threads: perInput, read: { try reader.read() }, rewind: { try reader.rewind() }) {
                        block in
                        try npy?.append(block)
                        try spool?.append(block)
                    }
                    try npy?.finish()
                } catch {
                    npy?.discard()
                    throw error
                }
                return (npy?.rows ?? spool?.rows ?? 0, spool, Double(reader.samplesRead) / Double(reader.sampleRate))
            },
            emit: { k, input, result in
                let F = extractor.options.dimension
                if let archive, let spool = result.spool {
                    let key = input.archiveKey
                    try archive.append(key: key, spool)
                    archived.append((indices[k], key))
                    batch.emit(indices[k], "\(input.path)\t\(arkURL.path)[\(key)]\t[\(result.rows), \(F)]\n")
                } else {
                    let url = outputURL.appendingPathComponent(input.name + ".npy")
                    batch.emit(indices[k], "\(input.path)\t\(url.path)\t[\(result.rows), \(F)]\n")
                }
                progress.finished(audioSeconds: result.seconds)
            },
            failed: { k, input, error in
                failedInputs.append(input.path)
                progress.failed("\(error)", report: batch.failed(indices[k], path: input.path, message: "\(error)"))
            })
        try archive?.finish()
        if batch.sharded, let archive {
            try archive.joinRankParts(order: archived.map(\.index), collective: batch.collective, into: arkURL, scp: scpURL)
        }
        if batch.sharded {
            failedInputs = collection.failures.map { $0.input } + batch.finish().failedPaths
            guard root else {
                try StandardOutput.finish()
                if !failedInputs.isEmpty { throw ExitCode(1) }
                return
            }
        }
        printError(progress.summary())
        try StandardOutput.finish()
        try endBatch(failed: failedInputs)
    }
}

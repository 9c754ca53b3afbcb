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

    @Option(help: "Compute exactly the input features of this model directory (its config.json's \"features\": type, bins, CMVN, deltas), before frame stacking. No feature option may be given with it.")
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
        let options = try model.map { try AcousticModel.readConfig(directory: ModelLocation.resolve($0)).features } ?? features.featureOptions()
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
        let progress = BatchProgress(total: indices.count, label: batch.sharded ? "features (rank \(batch.collective.rank))" : "features",
                                     quiet: !root)
        var failedInputs = collection.failures.map { $0.input }
        if root { for failure in collection.failures { printError("\(failure.input): \(failure.message)") } }

        let arkURL = outputURL.appendingPathComponent("feats.ark"), scpURL = outputURL.appendingPathComponent("feats.scp")
        let part = batch.sharded ? ".part\(batch.collective.rank)" : ""
        let archive = format == .ark
            ? try KaldiArchiveWriter(ark: outputURL.appendingPathComponent("feats.ark" + part),
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
        processInOrder(inputsList, threads: threads, work: { input -> (Matrix, Double) in
            var audioOptions = features.audioOptions(sampleRate: extractor.sampleRate)
            audioOptions.allowStreams = named.contains(input.path)
            let reader = try AudioReader(input.path, options: audioOptions)
            reader.notes.forEach { notes.note($0, input: input.path) }
            // .npy: rows go to the file as they are computed (memory stays flat); ark: one matrix per entry.
            let url = outputURL.appendingPathComponent(input.name + ".npy")
            let npy = archive == nil ? try NPYRowWriter(url, cols: extractor.options.dimension) : nil
            let F = extractor.options.dimension
            var values: [Float] = []
            do {
                try extractor.computeStreaming(threads: perInput, read: { try reader.read() }, rewind: { try reader.rewind() }) { block in
                    if let npy { try npy.append(block) } else { values += block.data }
                }
                try npy?.finish()
            } catch {
                npy?.discard()
                throw error
            }
            // With .npy, only the shape goes on: an empty [rows, 0] matrix.
            let result = npy.map { Matrix(rows: $0.rows, cols: 0) } ?? Matrix(rows: values.count / F, cols: F, data: values)
            return (result, Double(reader.samplesRead) / Double(reader.sampleRate))
        }, emit: { k, input, result in
            let (m, seconds) = result
            if let archive {
                let key = input.archiveKey
                try archive.append(key: key, m)
                archived.append((indices[k], key))
                batch.emit(indices[k], "\(input.path)\t\(arkURL.path)[\(key)]\t[\(m.rows), \(m.cols)]\n")
            } else {
                let url = outputURL.appendingPathComponent(input.name + ".npy")
                batch.emit(indices[k], "\(input.path)\t\(url.path)\t[\(m.rows), \(extractor.options.dimension)]\n")
            }
            progress.finished(audioSeconds: seconds)
        }, failed: { k, input, error in
            failedInputs.append(input.path)
            progress.failed("\(error)", report: batch.failed(indices[k], path: input.path, message: "\(error)"))
        })
        try archive?.finish()
        if batch.sharded, let archive {
            // Rank 0 joins the parts in input order and removes them.
            let mine = zip(archived, archive.entries).map { "\($0.index)\t\(batch.collective.rank)\t\($1.start)\t\($1.length)\t\($0.key)" }
            let all = batch.collective.allgatherLarge(Array(mine.joined(separator: "\n").utf8))
            if root {
                var pieces: [(index: Int, source: URL, key: String, start: UInt64, length: UInt64)] = []
                for text in all {
                    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                        let f = line.split(separator: "\t", maxSplits: 4).map(String.init)
                        guard f.count == 5, let i = Int(f[0]), let start = UInt64(f[2]), let length = UInt64(f[3]) else { continue }
                        pieces.append((i, outputURL.appendingPathComponent("feats.ark.part" + f[1]), f[4], start, length))
                    }
                }
                try KaldiArchiveWriter.concatenate(pieces.sorted { $0.index < $1.index }.map { ($0.source, $0.key, $0.start, $0.length) },
                                                   ark: arkURL, scp: scpURL)
            }
            batch.collective.barrier()
            try? FileManager.default.removeItem(at: archive.arkURL)
            try? FileManager.default.removeItem(at: archive.scpURL)
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

/// A `.npy` file written row block by row block: a header with the row
/// count left open, the rows, then the header again with the count, renamed
/// into place at the end. The bytes equal `NPY.encode` of the whole matrix
/// (its header is 128 bytes for any shape up to 60 digits in all).
final class NPYRowWriter {
    let url: URL, partial: URL
    let cols: Int
    private(set) var rows = 0
    private let handle: FileHandle

    init(_ url: URL, cols: Int) throws {
        self.url = url
        self.cols = cols
        partial = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
              let h = FileHandle(forWritingAtPath: partial.path) else {
            throw ToolError("\(url.path): cannot write")
        }
        handle = h
        try handle.write(contentsOf: Self.header(rows: 0, cols: cols))
    }

    /// NPY 1.0's header for a float32 [rows, cols] array, as `NPY.encode` writes it.
    static func header(rows: Int, cols: Int) -> Data {
        var text = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        let unpadded = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = UInt16(text.utf8.count)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(text.utf8))
    }

    /// - Shapes: block [t, cols].
    func append(_ block: Matrix) throws {
        try block.data.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
        rows += block.rows
    }

    func finish() throws {
        let header = Self.header(rows: rows, cols: cols)
        guard header.count == Self.header(rows: 0, cols: cols).count else {
            discard()
            throw ToolError("\(url.path): a [\(rows), \(cols)] array does not fit the .npy header")
        }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
        try handle.close()
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: partial, to: url)
    }

    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: partial)
    }
}

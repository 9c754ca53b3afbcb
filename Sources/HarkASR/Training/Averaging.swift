import Foundation
import HarkIO
import HarkNN

/// Checkpoint averaging, as ESPnet averages its best checkpoints before
/// decoding: the element-wise mean of the weights of several epochs of one
/// run (or several runs of one network), each parameter
///
///     w = (1/N) Σₖ wₖ,    accumulated in double precision in the order given.
///
/// Runs that keep epochs (`TrainingOptions.averageBest`) hold each kept
/// epoch's weights as `epoch-K.safetensors` beside the model, K counted from 1.
public enum ModelAveraging {
    /// The file of epoch `epoch` (0-based, as the log counts) in a run's directory.
    public static func epochFile(_ epoch: Int, in directory: URL) -> URL {
        directory.appendingPathComponent("epoch-\(epoch + 1).safetensors")
    }

    /// Sets `model`'s parameters to the mean of the state dicts in `files`
    /// (written by `StateDict.file` for a model of this network).
    ///
    /// - Throws: when a file cannot be read or does not fit the network.
    public static func average(_ files: [URL], into model: AcousticModel) throws {
        precondition(!files.isEmpty, "nothing to average")
        let parameters = model.namedParameters
        var sums = parameters.map { [Double](repeating: 0, count: $0.1.count) }
        for url in files {
            let file = try SafeTensorsFile.read(url)
            try StateDict.load(file, into: parameters)
            for (i, (_, p)) in parameters.enumerated() {
                for j in 0..<p.count { sums[i][j] += Double(p.value[j]) }
            }
        }
        let n = Double(files.count)
        for (i, (_, p)) in parameters.enumerated() { p.value = sums[i].map { Float($0 / n) } }
    }

    /// The kept epochs of run directories and their validation CER, from
    /// each run's log (`train.log.jsonl` epoch lines) and the files present:
    /// best first (lowest CER; earlier epoch, then earlier run, among equals).
    public static func keptEpochs(in runs: [URL]) throws -> [(file: URL, validCER: Double)] {
        var found: [(file: URL, validCER: Double, run: Int, epoch: Int)] = []
        for (r, run) in runs.enumerated() {
            let log = run.appendingPathComponent(Trainer.logFile)
            guard let text = try? String(contentsOf: log, encoding: .utf8) else {
                throw ModelError(problem: "\(run.path): no \(Trainer.logFile) (a directory hark train wrote)")
            }
            for line in text.split(separator: "\n") {
                guard let event = try? JSONDecoder().decode(TrainingEvent.self, from: Data(line.utf8)),
                    case .epoch(let e) = event, let cer = e.validCER, cer.isFinite
                else { continue }
                let file = epochFile(e.epoch, in: run)
                if FileManager.default.fileExists(atPath: file.path) { found.append((file, cer, r, e.epoch)) }
            }
        }
        // The last line of an epoch wins (a resumed run may log an epoch again).
        var unique: [String: (file: URL, validCER: Double, run: Int, epoch: Int)] = [:]
        for f in found { unique[f.file.path] = f }
        return unique.values.sorted { ($0.validCER, $0.epoch, $0.run) < ($1.validCER, $1.epoch, $1.run) }.map { ($0.file, $0.validCER) }
    }
}

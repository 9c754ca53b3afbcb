import Foundation
import HarkASR
import HarkCore
import HarkMPI

/// A batch command's inputs and results across the ranks of an MPI job
/// (`mpirun -np N hark transcribe|eval …`), or in one process.
///
/// Rank r takes inputs r, r + N, r + 2N, …; its results wait until the end,
/// when rank 0 gathers them all and prints them in input order, with each
/// failure reported once: the output is what one process prints. In one
/// process results are printed as they come, as always.
/// The ranks of the MPI job this process belongs to (one process without a
/// launcher), once all have shown they run the same subcommand (and, with
/// `wholeLine`, the same command line).
func jobCollective(wholeLine: Bool = true) throws -> Collective {
    guard let mpi = MPICollective.fromLauncher() else { return SingleProcess() }
    if mpi.size > 1 { try RankCheck.sameCommand(mpi, wholeLine: wholeLine) }
    return mpi
}

final class ShardedBatch {
    let collective: Collective
    private var outputs: [(index: Int, text: String)] = []
    private var failures: [(index: Int, path: String, message: String)] = []
    private var audioSeconds = 0.0
    private let lock = NSLock()

    init() throws { collective = try jobCollective() }

    var sharded: Bool { collective.size > 1 }

    /// Under MPI: every rank must have loaded the same model (else the job
    /// stops, naming the rank that differs).
    func checkSameModel(_ model: AcousticModel) throws {
        guard sharded else { return }
        try RankCheck.sameRun(
            [
                String(describing: model.config), Hark.configuration.version,
                RankCheck.digest(model.parameters.map(\.value))
            ], collective,
            names: ["model configuration", "hark version", "model weights"])
    }

    /// The indices of the inputs this rank takes, once every rank has shown it has the same `inputs`.
    func mine(_ inputs: [String]) throws -> [Int] {
        if sharded { try RankCheck.sameInputs(inputs, collective) }
        return collective.dealt(inputs.count)
    }

    /// A result of input `index` for standard output.
    func emit(_ index: Int, _ text: String, audioSeconds seconds: Double = 0) {
        guard sharded else { StandardOutput.write(text); return }
        lock.lock(); outputs.append((index, text)); audioSeconds += seconds; lock.unlock()
    }

    /// A failed input; returns whether the caller should report it now (one process) or not (rank 0 reports at the end).
    func failed(_ index: Int, path: String, message: String) -> Bool {
        guard sharded else { return true }
        lock.lock(); failures.append((index, path, message)); lock.unlock()
        return false
    }

    struct Gathered {
        var failedPaths: [String]
        var audioSeconds: Double
        var count: Int
        /// Every rank's outputs in input order.
        var outputs: [String] = []
    }

    /// Under MPI: gathers every rank's results; rank 0 prints the outputs in
    /// input order, then every failure once. Returns the failures of all ranks.
    /// `printOutputs` false: rank 0 does not print them (the caller uses `outputs`).
    func finish(printOutputs: Bool = true) -> Gathered {
        guard sharded else { return Gathered(failedPaths: failures.map(\.path), audioSeconds: audioSeconds, count: outputs.count) }
        struct Part: Codable { var outputs: [Int: String]; var failures: [Int: [String]]; var audio: Double }
        let part = Part(
            outputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0.index, $0.text) }),
            failures: Dictionary(uniqueKeysWithValues: failures.map { ($0.index, [$0.path, $0.message]) }),
            audio: audioSeconds)
        let parts = collective.allgather(Array((try? JSONEncoder().encode(part)) ?? Data()))
            .compactMap { try? JSONDecoder().decode(Part.self, from: Data($0)) }
        var all: [Int: String] = [:], bad: [Int: [String]] = [:]
        for p in parts {
            all.merge(p.outputs) { a, _ in a }
            bad.merge(p.failures) { a, _ in a }
        }
        if collective.isRoot {
            if printOutputs { for i in all.keys.sorted() { StandardOutput.write(all[i]!) } }
            for i in bad.keys.sorted() { printError(bad[i]![1]) }
        }
        return Gathered(
            failedPaths: bad.keys.sorted().map { bad[$0]![0] }, audioSeconds: parts.reduce(0) { $0 + $1.audio },
            count: all.count, outputs: all.keys.sorted().map { all[$0]! })
    }
}

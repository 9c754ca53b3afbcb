import Foundation
import HarkCore
import HarkMPI

/// Checks that the ranks of a data-parallel job can work together; each
/// failure names the rank and what differs, and ends the whole job.
enum RankCheck {
    /// Rank 0 writes a token into the output directory; every rank must read it there.
    static func sharedDirectory(_ directory: URL, _ collective: Collective) throws {
        let file = directory.appendingPathComponent(".hark-rank-check")
        let token = collective.isRoot ? "\(ProcessInfo.processInfo.hostName) \(getpid()) \(Date().timeIntervalSince1970)" : ""
        if collective.isRoot { try FileWriting.writeAtomically(Array(token.utf8), to: file) }
        let expected = String(decoding: collective.broadcast(Array(token.utf8), root: 0), as: UTF8.self)
        let seen = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        let ok = agree(seen == expected, collective)
        collective.barrier()
        if collective.isRoot { try? FileManager.default.removeItem(at: file) }
        if !ok.all {
            fail(
                collective,
                ok.mine
                    ? nil
                    : "rank \(collective.rank) on \(ProcessInfo.processInfo.hostName) cannot see \(directory.path) as rank 0 wrote it: the ranks need a shared filesystem for the output directory"
            )
        }
    }

    /// Every rank's description of the run must equal rank 0's (options, model, data, version).
    static func sameRun(
        _ facts: [String], _ collective: Collective,
        names: [String] = [
            "options", "model configuration", "utterance counts (train, valid)", "starting step", "hark version", "starting weights"
        ]
    ) throws {
        let mine = facts.joined(separator: "\n")
        let root = String(decoding: collective.broadcast(Array(mine.utf8), root: 0), as: UTF8.self)
        let ok = agree(mine == root, collective)
        if !ok.all {
            var detail = "rank \(collective.rank) differs from rank 0"
            let a = mine.split(separator: "\n", omittingEmptySubsequences: false),
                b = root.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, name) in names.enumerated() where i < a.count && i < b.count && a[i] != b[i] {
                detail += " in its \(name): \(a[i].prefix(200)) vs \(b[i].prefix(200))"
                break
            }
            fail(
                collective,
                ok.mine ? nil : detail + " (every rank of a job must run the same command on the same inputs, model and version)")
        }
    }

    /// Every rank must run the same command: subcommand, flags and inputs as
    /// typed. Checked first, before any other collective step, so that ranks
    /// given different work stop with a message instead of mixing their
    /// outputs or waiting on each other forever.
    /// With `wholeLine` false only the subcommand is compared (`train`
    /// compares its options, data and weights itself).
    static func sameCommand(_ collective: Collective, wholeLine: Bool) throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        try sameRun(
            [arguments.first ?? ""] + (wholeLine ? [arguments.joined(separator: " ")] : []), collective,
            names: ["subcommand", "command line"])
    }

    /// Every rank must have found the same inputs (a directory or manifest may read differently on another host).
    static func sameInputs(_ paths: [String], _ collective: Collective) throws {
        try sameRun(
            ["\(paths.count)", digest(paths.map { Array($0.utf8).map(Float.init) })], collective,
            names: ["number of inputs", "input list (digest)"])
    }

    /// A 64-bit FNV-1a digest of float arrays' bytes (the starting weights).
    static func digest(_ arrays: [[Float]]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for a in arrays {
            a.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 } }
        }
        return String(h, radix: 16)
    }

    /// Whether this rank and all ranks passed.
    private static func agree(_ passed: Bool, _ collective: Collective) -> (mine: Bool, all: Bool) {
        var failures: [Double] = [passed ? 0 : 1]
        collective.allreduceSum(&failures)
        return (passed, failures[0] == 0)
    }

    /// Every rank exits: the failing ones say why.
    private static func fail(_ collective: Collective, _ message: String?) -> Never {
        if let message { printError(message) }
        collective.barrier()
        if let mpi = collective as? MPICollective { mpi.abort() }
        exit(1)
    }
}

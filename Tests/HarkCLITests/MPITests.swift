import Foundation
import HarkIO
import HarkTestSupport
import XCTest

/// `mpirun -np N hark train`: data parallelism reaches the weights one
/// process reaches; bad jobs end with a clear message, never a hang.
/// Needs Open MPI's mpirun (CI installs it; HARK_REQUIRE_MPI=1 makes its absence a failure).
final class MPITests: CLITestCase {
    var dir: URL!
    let manifest = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny/train.jsonl").path
    let options = [
        "--epochs", "20", "--batch-size", "4", "--hidden-size", "32", "--num-layers", "1", "--dropout", "0",
        "--lr", "3e-3", "--threads", "1", "--checkpoint-every", "5", "--patience", "100"
    ]

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") else {
            if ProcessInfo.processInfo.environment["HARK_REQUIRE_MPI"] == "1" { XCTFail("mpirun is not installed") }
            throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin)")
        }
        dir = try makeTemporaryDirectory()
    }

    override func tearDownWithError() throws { if let dir { try? FileManager.default.removeItem(at: dir) } }

    /// Runs `mpirun … -np N hark ARGS` (MPMD: `groups` of (count, args) joined by ':').
    func mpirun(_ groups: [(Int, [String])], timeout: Double = 300) throws -> Run {
        var args = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
        for (i, (n, a)) in groups.enumerated() {
            if i > 0 { args.append(":") }
            args += ["-np", String(n), Self.binary.path] + a
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        p.arguments = args
        p.currentDirectoryURL = repositoryRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let o = Box(), e = Box()
        let g = DispatchGroup()
        g.enter();
        DispatchQueue.global().async {
            o.data = out.fileHandleForReading.readDataToEndOfFile(); g.leave()
        }
        g.enter();
        DispatchQueue.global().async {
            e.data = err.fileHandleForReading.readDataToEndOfFile(); g.leave()
        }
        if g.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            XCTFail("mpirun did not end within \(timeout) s: it hangs")
        }
        p.waitUntilExit()
        return Run(
            status: p.terminationStatus, stdout: String(decoding: o.data, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self))
    }

    func weights(_ run: String, _ file: String = "checkpoint.safetensors") throws -> SafeTensorsFile {
        try SafeTensorsFile.read(dir.appendingPathComponent(run).appendingPathComponent(file))
    }

    /// The largest difference between two runs' checkpoints (weights and Adam's moments), which must hold the same tensors.
    func largestDifference(_ a: String, _ b: String) throws -> Float {
        let x = try weights(a), y = try weights(b)
        XCTAssertEqual(x.order, y.order)
        var worst: Float = 0
        for name in x.order {
            let u = try XCTUnwrap(x.tensors[name]).floats(name: name), v = try XCTUnwrap(y.tensors[name]).floats(name: name)
            for (p, q) in zip(u, v) { worst = max(worst, abs(p - q)) }
        }
        return worst
    }

    func testRanksReachTheWeightsOfOneProcess() throws {
        let one = try hark(["train", "--train", manifest, "--valid", manifest, "--out", dir.appendingPathComponent("one").path] + options)
        XCTAssertEqual(one.status, 0, one.stderr)
        // 2 ranks split each batch of 4 as 2 + 2, 3 ranks as 1 + 1 + 2; SpecAugment on (the default).
        for n in [2, 3] {
            let run = try mpirun([
                (n, ["train", "--train", manifest, "--valid", manifest, "--out", dir.appendingPathComponent("np\(n)").path] + options)
            ])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.contains("data parallel: \(n) ranks"), run.stderr)
            XCTAssertEqual(run.stdout.components(separatedBy: "trained 20 steps").count, 2, "rank 0 alone reports: \(run.stdout)")
            XCTAssertLessThanOrEqual(try largestDifference("one", "np\(n)"), 1e-5, "\(n) ranks")
            // The same validation, sharded and summed.
            let log1 = try String(contentsOf: dir.appendingPathComponent("one/train.log.jsonl"), encoding: .utf8)
            let logN = try String(contentsOf: dir.appendingPathComponent("np\(n)/train.log.jsonl"), encoding: .utf8)
            func cers(_ log: String) -> [Substring] {
                log.split(separator: "\n").filter { $0.contains("\"type\":\"epoch\"") }.map {
                    $0.split(separator: ",").filter { $0.contains("valid_cer") }.first ?? ""
                }
            }
            XCTAssertEqual(cers(log1), cers(logN))
        }
        // Chosen by validation loss: every rank sums the same losses and keeps the same epoch.
        let byLoss = ["--select-by", "loss", "--epochs", "6"]
        XCTAssertEqual(
            try hark(
                ["train", "--train", manifest, "--valid", manifest, "--out", dir.appendingPathComponent("loss1").path] + options + byLoss
            ).status, 0)
        let run = try mpirun([
            (2, ["train", "--train", manifest, "--valid", manifest, "--out", dir.appendingPathComponent("loss2").path] + options + byLoss)
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("the best by validation LOSS") || run.stdout.contains("by validation loss"), run.stdout)
        XCTAssertLessThanOrEqual(try largestDifference("loss1", "loss2"), 1e-5)
    }

    /// With audio augmentation: loading dealt over the ranks exchanges the audio too,
    /// and each utterance draws its augmentation from its place in the batch.
    func testAugmentedRanksReachTheWeightsOfOneProcess() throws {
        let augmented = options + ["--augment", "--max-steps", "8"]
        XCTAssertEqual(try hark(["train", "--train", manifest, "--out", dir.appendingPathComponent("one").path] + augmented).status, 0)
        let run = try mpirun([(2, ["train", "--train", manifest, "--out", dir.appendingPathComponent("two").path] + augmented)])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThanOrEqual(try largestDifference("one", "two"), 1e-5)
    }

    func testADeadRankEndsTheJobAndResumeFinishesIt() throws {
        let out = dir.appendingPathComponent("killed").path
        let args = ["train", "--train", manifest, "--out", out, "--epochs", "400"] + options.filter { $0 != "20" && $0 != "--epochs" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        p.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2", Self.binary.path] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for a checkpoint, then kill one rank (not rank 0's process necessarily: any hark child).
        let checkpoint = out + "/checkpoint.safetensors"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !FileManager.default.fileExists(atPath: checkpoint) { usleep(20_000) }
        let ranks = try children(of: p.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "hark ranks under mpirun: \(ranks)")
        guard let victim = ranks.last else { p.terminate(); return XCTFail("no hark rank to kill") }
        kill(victim, SIGKILL)
        let ended = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            p.waitUntilExit(); ended.signal()
        }
        XCTAssertEqual(ended.wait(timeout: .now() + 60), .success, "the job hangs after a rank died")
        XCTAssertNotEqual(p.terminationStatus, 0)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(message.lowercased().contains("signal 9") || message.lowercased().contains("killed"), message)

        let resumed = try mpirun([(2, ["train", "--resume", "--train", manifest, "--out", out])])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("trained 400 steps"), resumed.stdout)
    }

    func testRanksThatDisagreeStopWithAMessage() throws {
        // Different learning rates on the two ranks.
        let a = ["train", "--train", manifest, "--out", dir.appendingPathComponent("mismatch").path] + options
        var b = a
        b[b.firstIndex(of: "3e-3")!] = "1e-3"
        let run = try mpirun([(1, a), (1, b)], timeout: 120)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("rank 1 differs from rank 0 in its options"), run.stderr)

        // Different starting weights: two --init models of the same shape.
        for seed in ["1", "2"] {
            let m = try hark(
                ["train", "--train", manifest, "--out", dir.appendingPathComponent("init" + seed).path, "--max-steps", "1", "--seed", seed]
                    + options)
            XCTAssertEqual(m.status, 0, m.stderr)
        }
        let common = ["train", "--train", manifest, "--out", dir.appendingPathComponent("weights").path] + options
        let weights = try mpirun(
            [
                (1, common + ["--init", dir.appendingPathComponent("init1").path]),
                (1, common + ["--init", dir.appendingPathComponent("init2").path])
            ], timeout: 120)
        XCTAssertNotEqual(weights.status, 0)
        XCTAssertTrue(weights.stderr.contains("rank 1 differs from rank 0 in its starting weights"), weights.stderr)

        // transcribe with two different models on the two ranks.
        let models = try mpirun(
            [
                (1, ["transcribe", "--model", dir.appendingPathComponent("init1").path, manifest]),
                (1, ["transcribe", "--model", dir.appendingPathComponent("init2").path, manifest])
            ], timeout: 120)
        XCTAssertNotEqual(models.status, 0)
        XCTAssertTrue(models.stderr.contains("rank 1 differs from rank 0 in its command line"), models.stderr)

        // Batch jobs whose ranks were given different work stop before any of it, with a message
        // (they printed mixed or partial output with status 0, or waited on each other forever).
        let a52 = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path
        let seven = repositoryRoot.appendingPathComponent("audio/7_jackson_0.wav").path
        for (what, ranks, phrase) in [
            ("different inputs", [(1, ["transcribe", a52, seven]), (1, ["transcribe", a52])], "in its command line"),
            (
                "different formats", [(1, ["transcribe", "--format", "json", a52]), (1, ["transcribe", "--format", "txt", a52])],
                "in its command line"
            ),
            (
                "different subcommands",
                [(1, ["transcribe", a52]), (1, ["features", "--output-dir", dir.appendingPathComponent("fx").path, a52])],
                "in its subcommand"
            ),
            ("--stream under two ranks", [(2, ["transcribe", "--stream", a52])], "--stream runs in one process")
        ] as [(String, [(Int, [String])], String)] {
            let run = try mpirun(ranks, timeout: 60)
            XCTAssertNotEqual(run.status, 0, what)
            XCTAssertTrue(run.stderr.contains(phrase), "\(what): \(run.stderr)")
            XCTAssertEqual(run.stdout, "", "\(what): nothing printed")
        }

        // Ranks that do not see the same output directory (as without a shared filesystem).
        let c = ["train", "--train", manifest, "--out", dir.appendingPathComponent("here").path] + options
        let d = ["train", "--train", manifest, "--out", dir.appendingPathComponent("there").path] + options
        let split = try mpirun([(1, c), (1, d)], timeout: 120)
        XCTAssertNotEqual(split.status, 0)
        XCTAssertTrue(split.stderr.contains("shared filesystem"), split.stderr)
    }

    func testShardedTranscribeAndEvalPrintWhatOneProcessPrints() throws {
        // Good recordings and two bad ones, in a directory.
        let inputs = dir.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let tiny = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny")
        for f in try FileManager.default.contentsOfDirectory(atPath: tiny.path) where f.hasSuffix(".wav") {
            try FileManager.default.copyItem(at: tiny.appendingPathComponent(f), to: inputs.appendingPathComponent(f))
        }
        for f in ["an52-mmaf-b.wav", "7_jackson_0.wav"] {
            try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("audio/\(f)"), to: inputs.appendingPathComponent(f))
        }
        try Data("not audio".utf8).write(to: inputs.appendingPathComponent("bad.wav"))
        let wav = try Data(contentsOf: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav"))
        try wav.prefix(3000).write(to: inputs.appendingPathComponent("cut.wav"))

        for format in ["txt", "json"] {
            let one = try hark(["transcribe", "--format", format, inputs.path])
            XCTAssertEqual(one.status, 1)
            for n in [2, 3] {
                let run = try mpirun([(n, ["transcribe", "--format", format, inputs.path])])
                XCTAssertNotEqual(run.status, 0)
                XCTAssertEqual(run.stdout, one.stdout, "\(n) ranks, \(format)")
                for bad in ["bad.wav: not a recognised audio file", "cut.wav: truncated file"] {
                    XCTAssertEqual(run.stderr.components(separatedBy: bad).count, 2, "reported once: \(run.stderr)")
                }
            }
        }

        // features: each rank writes its share of the .npy files; the index comes out in order.
        let f1 = dir.appendingPathComponent("f1").path, f2 = dir.appendingPathComponent("f2").path
        let oneF = try hark(["features", "--output-dir", f1, inputs.path])
        let twoF = try mpirun([(2, ["features", "--output-dir", f2, inputs.path])])
        XCTAssertNotEqual(twoF.status, 0)
        XCTAssertEqual(twoF.stdout.replacingOccurrences(of: f2, with: f1), oneF.stdout)
        for f in try FileManager.default.contentsOfDirectory(atPath: f1) {
            XCTAssertEqual(FileManager.default.contents(atPath: f1 + "/" + f), FileManager.default.contents(atPath: f2 + "/" + f), f)
        }
        // A Kaldi archive: each rank writes a part, rank 0 joins them in input order.
        let a1 = dir.appendingPathComponent("a1").path, a3 = dir.appendingPathComponent("a3").path
        let oneA = try hark(["features", "--format", "ark", "--output-dir", a1, inputs.path])
        let threeA = try mpirun([(3, ["features", "--format", "ark", "--output-dir", a3, inputs.path])])
        XCTAssertEqual(threeA.stdout.replacingOccurrences(of: a3, with: a1), oneA.stdout)
        XCTAssertEqual(FileManager.default.contents(atPath: a3 + "/feats.ark"), FileManager.default.contents(atPath: a1 + "/feats.ark"))
        XCTAssertEqual(
            try String(contentsOfFile: a3 + "/feats.scp", encoding: .utf8).replacingOccurrences(of: a3, with: a1),
            try String(contentsOfFile: a1 + "/feats.scp", encoding: .utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: a3).sorted(), ["feats.ark", "feats.scp"])

        let manifest = tiny.appendingPathComponent("train.jsonl").path
        let rows1 = dir.appendingPathComponent("rows1.jsonl").path, rows2 = dir.appendingPathComponent("rows2.jsonl").path
        let one = try hark(["eval", manifest, "--per-utterance", rows1])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try mpirun([(2, ["eval", manifest, "--per-utterance", rows2])])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertEqual(two.stdout, one.stdout)
        XCTAssertEqual(try String(contentsOfFile: rows2, encoding: .utf8), try String(contentsOfFile: rows1, encoding: .utf8))
    }

    /// Two hosts (network namespaces joined by a veth pair), one rank each,
    /// over TCP alone: the weights one process reaches.
    func testTwoHostsOverTCP() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["ip", "netns", "add", "harkprobe\(getpid())"]
        probe.standardError = FileHandle.nullDevice
        try? probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("cannot create network namespaces here (needs root and iproute2)") }
        let cleanup = Process()
        cleanup.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cleanup.arguments = ["ip", "netns", "del", "harkprobe\(getpid())"]
        try cleanup.run()
        cleanup.waitUntilExit()

        let one = try hark(["train", "--train", manifest, "--out", dir.appendingPathComponent("one").path] + options)
        XCTAssertEqual(one.status, 0, one.stderr)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments =
            [
                "scripts/mpi_two_hosts.sh", Self.binary.path, dir.appendingPathComponent("hosts").path, "--",
                "train", "--train", manifest
            ] + options
        p.currentDirectoryURL = repositoryRoot
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        XCTAssertLessThanOrEqual(try largestDifference("one", "hosts"), 1e-5)
    }

    /// The hark processes among the descendants of `pid`.
    func children(of pid: Int32) throws -> [Int32] {
        var found: [Int32] = []
        var frontier = [pid]
        while let p = frontier.popLast() {
            let list = (try? String(contentsOfFile: "/proc/\(p)/task/\(p)/children", encoding: .utf8)) ?? ""
            for c in list.split(separator: " ").compactMap({ Int32($0) }) {
                frontier.append(c)
                let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(c)/exe")) ?? ""
                if exe.hasSuffix("/hark") { found.append(c) }
            }
        }
        return found.sorted()
    }
}

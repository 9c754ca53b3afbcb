import Foundation
import HarkIO
import HarkTestSupport
import XCTest

/// Values a user or a file can supply, through the built binary: every one
/// gives one line naming the flag, field or file and the problem, a non-zero
/// exit (64 for bad usage, 1 for bad input), no trap and no hang.
/// (Reproducers of `../shared/reliability/findings.md` in the areas of flags,
/// model configurations, checkpoints, output streams and run directories.)
final class BadInputTests: CLITestCase {
    var dir: URL!
    let tiny = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny")
    let torchModel = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures/torch-model")
    var manifest: String { tiny.appendingPathComponent("train.jsonl").path }
    var sample: String { tiny.appendingPathComponent("an250-mjbh-b.wav").path }
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A failed run: the exit status, no trap (SIGILL gives 132 through a shell, a signal here), and the message.
    func expectFailure(_ arguments: [String], status: Int32, _ fragment: String, line: UInt = #line) throws {
        let run = try hark(arguments, line: line)
        XCTAssertEqual(run.status, status, "\(arguments): \(run.stderr)", line: line)
        XCTAssertTrue(run.stderr.contains(fragment), "\(arguments): stderr lacks \"\(fragment)\": \(run.stderr)", line: line)
        XCTAssertFalse(run.stderr.contains("Fatal error"), "\(arguments) trapped: \(run.stderr)", line: line)
    }

    func testFlagsOutOfRangeAreUsageErrors() throws {
        let train = ["train", "--train", manifest, "--out", dir.appendingPathComponent("run").path]
        let cases: [([String], String)] = [
            (train + ["--threads", "0"], "--threads 0 must be in 1…"),
            (train + ["--threads=-1"], "--threads -1 must be in 1…"),
            (train + ["--checkpoint-every", "0"], "--checkpoint-every (checkpointEvery) 0 must be in 1…"),
            (train + ["--batch-size", "9223372036854775807"], "--batch-size (batchSize) 9223372036854775807 must be in 1…"),
            (train + ["--epochs", "9223372036854775807"], "--epochs (epochs) 9223372036854775807 must be in 1…"),
            (train + ["--stack-frames", "4611686018427387904"], "--stack-frames 4611686018427387904 must be in 1…"),
            (train + ["--hidden-size", "4611686018427387904"], "--hidden-size 4611686018427387904 must be in 1…"),
            (train + ["--hidden-size", "1000000000"], "--hidden-size 1000000000 must be in 1…"),
            (train + ["--lr", "nan"], "--lr (learningRate) nan must be a positive finite number"),
            (train + ["--noise-prob", "nan"], "--noise-prob nan must be a probability in [0, 1]"),
            (train + ["--silence-prob=-1"], "--silence-prob -1.0 must be a probability in [0, 1]"),
            (train + ["--rt60", "0:0"], "--rt60 0.0:0.0 must be MIN:MAX"),
            (train + ["--max-silence", "1e300"], "--max-silence 1e+300 must be in [0, 5] seconds"),
            (train + ["--noise-kinds", ","], "--noise-kinds must name at least one kind"),
            (train + ["--speed-perturb", "nan"], "--speed-perturb [nan] must list 1 to 16 factors"),
            (["transcribe", "--alpha", "1e300", sample], "--alpha inf must be a finite number"),
            (["transcribe", "--token-min-logprob", "1", sample], "--token-min-logprob 1.0 must be ≤ 0"),
            (train + ["--clip", "inf"], "--clip (clip) inf must be"),
            (["eval", "--beam", "0", manifest], "--beam 0 must be in 1…"),
            (["transcribe", "--beam", "1000000", sample], "--beam 1000000 must be in 1…"),
            (["transcribe", "--threads", "0", sample], "--threads 0 must be in 1…"),
            (["transcribe", "--channel=-2", sample], "--channel -2 must be 0 or more"),
            (
                [
                    "train", "--train", manifest, "--out", dir.appendingPathComponent("i").path, "--init", torchModel.path,
                    "--hidden-size", "99"
                ], "--hidden-size 99 (the model has 16)"
            )
        ]
        for (arguments, fragment) in cases { try expectFailure(arguments, status: 64, fragment) }
    }

    /// A copy of a working model directory whose config.json has one value replaced.
    func model(replacing old: String, with new: String, line: UInt = #line) throws -> String {
        let m = dir.appendingPathComponent("model-\(abs(new.hashValue))")
        try? FileManager.default.removeItem(at: m)
        try FileManager.default.copyItem(at: torchModel, to: m)
        let url = m.appendingPathComponent("config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains(old), "config.json lacks \(old)", line: line)
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        return m.path
    }

    func testHostileModelConfigsAreRefusedBeforeAllocating() throws {
        let cases: [(String, String, String)] = [
            ("\"hidden_size\": 16", "\"hidden_size\": 20000", "network.hidden_size 20000 must be in 1…4096"),
            ("\"hidden_size\": 16", "\"hidden_size\": 1000000000", "network.hidden_size 1000000000 must be in 1…4096"),
            ("\"hidden_size\": 16", "\"hidden_size\": 4611686018427387904", "network.hidden_size 4611686018427387904"),
            ("\"num_layers\": 2", "\"num_layers\": 1000000", "network.num_layers 1000000 must be in 1…32"),
            ("\"stack_frames\": 2", "\"stack_frames\": 4611686018427387904", "stack_frames 4611686018427387904 must be in 1…64"),
            ("\"num_layers\": 2", "\"num_layers\": 32", "holds")
        ]
        for (old, new, fragment) in cases {
            let m = try model(replacing: old, with: new)
            try expectFailure(["transcribe", "--model", m, sample], status: 1, fragment)
        }
    }

    /// A trained run directory (one step), then its checkpoint rewritten with `edit`.
    func checkpointRun(_ name: String, edit: (inout SafeTensorsFile) throws -> Void) throws -> String {
        let out = dir.appendingPathComponent(name).path
        let run = try hark([
            "train", "--train", manifest, "--out", out, "--max-steps", "1", "--hidden-size", "8",
            "--num-layers", "1", "--batch-size", "2"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let url = URL(fileURLWithPath: out).appendingPathComponent("checkpoint.safetensors")
        var file = try SafeTensorsFile.read(url)
        try edit(&file)
        try file.write(to: url)
        return out
    }

    func testHostileCheckpointsAreRefused() throws {
        func metadata(_ key: String, _ old: String, _ new: String) -> (inout SafeTensorsFile) throws -> Void {
            { file in
                let value = file.metadata[key]!
                XCTAssertTrue(value.contains(old), "\(key) lacks \(old): \(value)")
                file.metadata[key] = value.replacingOccurrences(of: old, with: new)
            }
        }
        let cases: [(String, (inout SafeTensorsFile) throws -> Void, String)] = [
            ("step", metadata("state", "\"step\":1", "\"step\":-1"), "state step -1 must be in 0…"),
            ("epoch", metadata("state", "\"epoch\":0", "\"epoch\":-5"), "state epoch -5 must be in 0…"),
            ("batch", metadata("state", "\"batch\":1", "\"batch\":-1"), "state batch -1 must be in 0…"),
            ("batchsize", metadata("options", "\"batchSize\":2", "\"batchSize\":0"), "(batchSize) 0 must be in 1…"),
            ("every", metadata("options", "\"checkpointEvery\":50", "\"checkpointEvery\":0"), "(checkpointEvery) 0 must be in 1…"),
            ("stepcount", { $0.metadata["optimizer_step"] = "abc" }, "optimizer_step \"abc\" is not a count"),
            (
                "missing",
                { file in
                    file.tensors["optimizer.m.3"] = nil
                    file.order.removeAll { $0 == "optimizer.m.3" }
                }, "optimizer m: buffers missing"
            ),
            (
                "wrongsize", { file in file.tensors["optimizer.m.0"] = SafeTensor(shape: [3], floats: [1, 2, 3]) },
                "optimizer m.0: 3 values for a parameter of"
            )
        ]
        for (name, edit, fragment) in cases {
            let out = try checkpointRun(name, edit: edit)
            try expectFailure(["train", "--resume", "--train", manifest, "--out", out], status: 1, fragment)
        }
    }

    /// Results that cannot be written are an error, never a trap or exit 0.
    func testUnwritableOutputIsReported() throws {
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        for arguments in [["transcribe", sample], ["eval", manifest]] {
            let (status, message) = try hark(arguments, input: FileHandle.nullDevice, output: full)
            XCTAssertEqual(status, 1, "\(arguments): \(message)")
            XCTAssertTrue(message.contains("cannot write to standard output: No space left on device"), message)
        }
        // A reader that has gone away (`true` reads nothing), with SIGPIPE ignored: EPIPE is reported, exit 1.
        let script = "trap '' PIPE; '\(Self.binary.path)' transcribe '\(tiny.path)' 2>'\(dir.path)/err' | true; echo ${PIPESTATUS[0]}"
        XCTAssertEqual(try bashOutput(script), "1")
        XCTAssertTrue(try String(contentsOfFile: dir.path + "/err", encoding: .utf8).contains("Broken pipe"))
        // A closed standard output: exit 1; a full standard error: the results still come, exit 0.
        for (redirect, expected) in [(">&- 2>'\(dir.path)/err2'", "1"), ("2>/dev/full >/dev/null", "0")] {
            let status = try bashOutput("'\(Self.binary.path)' transcribe '\(sample)' \(redirect); echo $?")
            XCTAssertEqual(status, expected, redirect)
        }
        XCTAssertTrue(
            try String(contentsOfFile: dir.path + "/err2", encoding: .utf8).contains("cannot write to standard output: it is closed"))
    }

    /// Two runs into one directory: the second refuses at once; the first finishes intact.
    func testConcurrentRunsIntoOneDirectory() throws {
        let out = dir.appendingPathComponent("run").path
        let first = Process()
        first.executableURL = Self.binary
        first.arguments = ["train", "--train", manifest, "--out", out, "--epochs", "100000", "--hidden-size", "8", "--num-layers", "1"]
        first.standardError = FileHandle.nullDevice
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { first.terminate() } }
        // Wait until the first run holds the lock and has written its log.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out + "/train.log.jsonl") && Date() < deadline { usleep(50_000) }
        try expectFailure(
            ["train", "--train", manifest, "--out", out, "--max-steps", "1"], status: 1,
            "is in use by another process (pid \(first.processIdentifier))")
        first.interrupt()
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 130)
        XCTAssertNoThrow(try SafeTensorsFile.read(URL(fileURLWithPath: out + "/checkpoint.safetensors")))
    }

    /// Temporary files of a killed checkpoint write are removed; a fresh run starts its own log.
    func testLeftoversOfOldRunsAreCleanedUp() throws {
        let out = dir.appendingPathComponent("run")
        let args = [
            "train", "--train", manifest, "--out", out.path, "--max-steps", "2", "--hidden-size", "8", "--num-layers", "1",
            "--batch-size", "2"
        ]
        XCTAssertEqual(try hark(args).status, 0)
        for name in [".checkpoint.safetensors.tmp-99999", ".dat.nosync1a2b"] {
            try Data(repeating: 0, count: 100).write(to: out.appendingPathComponent(name))
        }
        let again = try hark(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("removed 2 temporary file(s)"), again.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertFalse(names.contains { $0.contains(".tmp-") || $0.hasPrefix(".dat.nosync") }, "\(names)")
        let log = try String(contentsOf: out.appendingPathComponent("train.log.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }.count, 2, log)
    }

    /// A file name or a value carrying terminal controls is reported with
    /// them escaped: an error message cannot recolour or clear the terminal,
    /// or reorder its text.
    func testControlCharactersInMessagesAreEscaped() throws {
        let name = dir.appendingPathComponent("bad\u{1B}[31mred\u{202E}.wav")
        try Data("not audio".utf8).write(to: name)
        let file = try hark(["transcribe", "--model", torchModel.path, name.path])
        XCTAssertEqual(file.status, 1, file.stderr)
        XCTAssertTrue(file.stderr.contains("bad\\u{1B}[31mred\\u{202E}.wav"), file.stderr)
        let flag = try hark(["transcribe", "--beam", "1\u{1B}]0;title\u{07}", sample])
        XCTAssertEqual(flag.status, 64, flag.stderr)
        XCTAssertTrue(flag.stderr.contains("1\\u{1B}]0;title\\u{7}"), flag.stderr)
        for run in [file, flag] {
            XCTAssertFalse(run.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" }, run.stderr)
        }
    }

    /// A manifest without entries is an error for eval, as for transcribe.
    /// A batch where nothing could be read says so without a speed figure;
    /// empty standard input is named as empty.
    func testSummaryOfABatchWithNothingRead() throws {
        let run = try hark(["transcribe", "--model", torchModel.path, dir.appendingPathComponent("missing.wav").path])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("missing.wav: no such file or directory"), run.stderr)
        XCTAssertTrue(run.stderr.contains("0 done, 1 failed in "), run.stderr)
        XCTAssertFalse(run.stderr.contains("real-time factor"), "no speed without audio: \(run.stderr)")
        let empty = try hark(["transcribe", "--model", torchModel.path, "-"], stdin: Data())
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.stderr.contains("-: empty file: 0 bytes"), empty.stderr)
    }

    func testEmptyManifestIsAnError() throws {
        let m = dir.appendingPathComponent("none.jsonl")
        try Data().write(to: m)
        try expectFailure(["eval", "--model", torchModel.path, m.path], status: 1, "none.jsonl: the manifest has no entries")
    }

    /// An empty reference is counted as insertions; a manifest without any reference prints n/a, never inf or nan.
    func testEmptyReferencesNeverGiveInfinity() throws {
        let m = dir.appendingPathComponent("empty.jsonl")
        try "{\"audio_filepath\": \"\(sample)\", \"text\": \"\"}\n".write(to: m, atomically: true, encoding: .utf8)
        let run = try hark(["eval", "--model", torchModel.path, m.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertFalse(run.stdout.contains("inf") || run.stdout.contains("nan"), run.stdout)
        XCTAssertTrue(run.stdout.contains("CER n/a ("), run.stdout)
        XCTAssertTrue(run.stdout.contains("0 reference characters"), run.stdout)
        XCTAssertTrue(run.stdout.contains(" of 1 utterances not exactly right)"), run.stdout)
    }
}

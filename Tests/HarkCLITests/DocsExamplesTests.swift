import Foundation
import HarkTestSupport
import XCTest

/// Every example in README.md and docs/*.md runs as written and exits 0, and
/// a transcript (`$ command` with its output under it) prints what the page
/// shows. Each page runs in order, as a reader follows it, in a directory of
/// its own that holds what the pages take for granted (`ReaderDirectory`).
/// Synopses (`hark train --train MANIFEST [options]`) and commands quoted
/// inside a sentence are not examples; `DocsTests` checks their flags. What is not run here, and why, is
/// `DocsExamplesTests.notRun`. HARK_REQUIRE_DOCS=1 (CI) makes an example
/// that cannot run here (no mpirun, no sox, no ../shared/data) a failure.
final class DocsExamplesTests: CLITestCase {
    /// One example of a page: a command line of a shell block (continuation
    /// lines joined) or of a transcript, whose output is then `shown`.
    struct Example {
        var page: String
        /// The code block's number in the page: a block's commands build on each other.
        var block: Int
        var command: String
        var shown: String?
    }

    /// Examples not run by this test, by a piece of their command line, and why.
    static let notRun: [(piece: String, why: String)] = [
        ("bash scripts/install-dependencies.sh", ".ci/run installs and builds; DefaultModelTests checks the transcripts shown"),
        ("bash scripts/test.sh", "the test suite itself"),
        ("Fuzz/run.sh", "ten minutes of fuzzing after a release build with sanitizers, by hand"),
        ("--product hark-bench", "benchmarks are run by hand, on an idle machine"),
        ("python Benchmarks/", "benchmarks are run by hand, on an idle machine"),
        ("hark-bench lm", "benchmarks are run by hand, on an idle machine"),
        ("--hostfile hosts", "needs a cluster of hosts"),
        ("srun --nodes", "needs a Slurm cluster"),
        ("HARK_KERNELS=reference hark …", "a setting for any command; .ci/run runs the numerical tests with it"),
        ("OPENBLAS_CORETYPE=Haswell hark …", "a setting for any command; .ci/run runs the numerical tests with it")
    ]

    /// The examples of a Markdown page: each command of a `sh` block, and
    /// the command of a plain block that starts with `$ ` with the lines
    /// under it as its output. Other plain blocks are synopses or output.
    static func examples(in text: String, page: String) -> [Example] {
        var examples: [Example] = []
        var block: [String]? = nil
        var language = "", blocks = 0
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("```") {
                if let lines = block {
                    examples += blockExamples(lines, language: language, page: page, block: blocks)
                    block = nil
                    blocks += 1
                } else {
                    block = []
                    language = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                }
            } else {
                block?.append(line)
            }
        }
        return examples
    }

    static func blockExamples(_ lines: [String], language: String, page: String, block: Int) -> [Example] {
        if language.isEmpty, let first = lines.first, first.hasPrefix("$ ") {
            return [
                Example(page: page, block: block, command: String(first.dropFirst(2)), shown: lines.dropFirst().joined(separator: "\n"))
            ]
        }
        guard language == "sh" else { return [] }
        var examples: [Example] = []
        var pending = ""
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            examples.append(Example(page: page, block: block, command: pending + line, shown: nil))
            pending = ""
        }
        return examples
    }

    func testEveryExampleRunsAsWritten() throws {
        let require = ProcessInfo.processInfo.environment["HARK_REQUIRE_DOCS"] == "1"
        let docs = repositoryRoot.appendingPathComponent("docs")
        let pages =
            [repositoryRoot.appendingPathComponent("README.md")]
            + (try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil))
            .filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
        var ran = 0, withOutput = 0
        var unused = Set(Self.notRun.map(\.piece))
        var cannot: [String] = []
        for page in pages {
            let name = page.path.replacingOccurrences(of: repositoryRoot.path + "/", with: "")
            let examples = Self.examples(in: try String(contentsOf: page, encoding: .utf8), page: name)
            guard !examples.isEmpty else { continue }
            let reader = try ReaderDirectory(binary: Self.binary)
            defer { reader.remove() }
            var blocksCut = Set<Int>()
            for example in examples {
                if let skip = Self.notRun.first(where: { example.command.contains($0.piece) }) {
                    unused.remove(skip.piece)
                    continue
                }
                if let missing = reader.missing(for: example.command) {
                    cannot.append("\(name): `\(example.command)`: \(missing)")
                    blocksCut.insert(example.block)
                    continue
                }
                if blocksCut.contains(example.block) {
                    cannot.append("\(name): `\(example.command)`: an earlier command of its block cannot run here")
                    continue
                }
                let run = try reader.run(example.command)
                XCTAssertEqual(run.status, 0, "\(name): `\(example.command)` exits \(run.status): \(run.stderr.suffix(2000))")
                if let shown = example.shown {
                    XCTAssertEqual(
                        run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), shown.trimmingCharacters(in: .whitespacesAndNewlines),
                        "\(name): `\(example.command)` prints other than the page shows")
                    withOutput += 1
                }
                ran += 1
            }
        }
        XCTAssertTrue(unused.isEmpty, "DocsExamplesTests.notRun lists examples no page shows any more: \(unused.sorted())")
        if !cannot.isEmpty {
            let text = "examples that cannot run here:\n" + cannot.joined(separator: "\n")
            if require { XCTFail(text) } else { print(text) }
        }
        XCTAssertGreaterThanOrEqual(ran, 30, "the pages' examples")
        XCTAssertGreaterThanOrEqual(withOutput, 3, "the pages' transcripts")
        print("docs: \(ran) examples ran, \(withOutput) with the output shown checked")
    }
}

/// The directory a page's examples run in, as a reader's checkout after
/// building: the repository's audio/, examples/ and models/, `hark` on the
/// PATH and at .build/release/hark, ../shared when it is beside the
/// repository, and the files the pages take for granted: a manifest pair
/// (`train.jsonl`, `valid.jsonl`: examples/digits, theo held out), a
/// held-out manifest (`dev.jsonl`, `build/default/an4-valid.jsonl`: the
/// bundled AN4 utterance and FSDD digit), recordings (`meeting.wav`,
/// `in.wav`, `recordings/`, `corpus/wav/`), a domain's text
/// (`more-text.txt`: spoken commands), a folder of FSDD
/// clips (`free-spoken-digit-dataset/recordings`: examples/digits, which
/// are FSDD's), and, made when an example needs it, a training run
/// (`build/default/stage2`). Three stand-ins make the examples finish: `hark train` trains
/// two epochs of a small network (the pages' runs train until patience
/// stops them), `arecord` plays the bundled AN4 utterance as the
/// microphone, and a `hark serve` of a page listens on a free port that the
/// page's `localhost:8080` then means.
final class ReaderDirectory {
    let root: URL
    let checkout: URL
    private var server: Process?
    private var port = 0

    init(binary: URL) throws {
        root = try makeTemporaryDirectory()
        checkout = root.appendingPathComponent("hark")
        let fm = FileManager.default
        let bin = root.appendingPathComponent("bin")
        for dir in [bin, checkout.appendingPathComponent(".build/release"), checkout.appendingPathComponent("docs")] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        for name in ["audio", "examples", "models"] {
            try fm.createSymbolicLink(
                at: checkout.appendingPathComponent(name), withDestinationURL: repositoryRoot.appendingPathComponent(name))
        }
        let shared = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        if fm.fileExists(atPath: shared.path) {
            try fm.createSymbolicLink(at: root.appendingPathComponent("shared"), withDestinationURL: shared)
        }
        let hark = bin.appendingPathComponent("hark")
        try executable(
            hark,
            """
            #!/bin/sh
            if [ "$1" = train ]; then exec '\(binary.path)' "$@" --epochs 2 --hidden-size 32 --num-layers 1; fi
            exec '\(binary.path)' "$@"
            """)
        try fm.createSymbolicLink(at: checkout.appendingPathComponent(".build/release/hark"), withDestinationURL: hark)
        let pcm = root.appendingPathComponent("microphone.raw")
        try Self.samples(ofWAV: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav")).write(to: pcm)
        try executable(bin.appendingPathComponent("arecord"), "#!/bin/sh\nexec cat '\(pcm.path)'")

        func file(_ path: String, _ text: String) throws {
            let url = checkout.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        func copy(_ from: String, _ to: String) throws {
            let url = checkout.appendingPathComponent(to)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: repositoryRoot.appendingPathComponent(from), to: url)
        }
        let digits = try fm.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("examples/digits").path).sorted()
        func line(_ path: String, _ text: String) -> String {
            #"{"audio_filepath": "\#(repositoryRoot.appendingPathComponent(path).path)", "text": "\#(text)"}"#
        }
        let words = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
        let labeled = digits.filter { $0.hasSuffix(".wav") }.map { name in
            (name, line("examples/digits/" + name, words[Int(name.prefix(1))!]))
        }
        try file("train.jsonl", labeled.filter { !$0.0.contains("_theo_") }.map(\.1).joined(separator: "\n") + "\n")
        try file("valid.jsonl", labeled.filter { $0.0.contains("_theo_") }.map(\.1).joined(separator: "\n") + "\n")
        let heldOut = line("audio/an52-mmaf-b.wav", "ENTER SEVEN") + "\n" + line("audio/7_jackson_0.wav", "SEVEN") + "\n"
        try file("dev.jsonl", heldOut)
        try file("build/default/an4-valid.jsonl", heldOut)
        try file("more-text.txt", Self.commandSentences())
        try copy("audio/mmaf-session.wav", "meeting.wav")
        try copy("audio/an52-mmaf-b.wav", "in.wav")
        for name in ["an52-mmaf-b.wav", "7_jackson_0.wav", "mmaf-session.wav"] {
            try copy("audio/" + name, "recordings/" + name)
            try copy("audio/" + name, "corpus/wav/" + name)
        }
        try fm.createDirectory(at: checkout.appendingPathComponent("free-spoken-digit-dataset"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(
            at: checkout.appendingPathComponent("free-spoken-digit-dataset/recordings"),
            withDestinationURL: repositoryRoot.appendingPathComponent("examples/digits"))
    }

    /// A domain's text for a language model: 300 spoken commands with digit
    /// strings ("ENTER FIVE TWO OH"), drawn by a fixed linear congruential
    /// generator, and five sentences that give the trigram's Kneser-Ney
    /// discounts words seen after one, two and three others.
    static func commandSentences() -> String {
        var state: UInt64 = 1
        func draw(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        let digits = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "OH"]
        let commands = ["ENTER", "START", "STOP", "RUBOUT", "REPEAT", "ERASE", "YES", "NO"]
        var lines: [String] = []
        for _ in 0..<300 {
            var words = [commands[draw(commands.count)]]
            for _ in 0...draw(5) { words.append(digits[draw(digits.count)]) }
            if draw(3) == 0 { words.append(commands[draw(commands.count)]) }
            lines.append(words.joined(separator: " "))
        }
        lines += ["PLEASE HELP", "HELP", "PLEASE REPEAT THANKS", "THANKS", "STOP THANKS"]
        return lines.joined(separator: "\n") + "\n"
    }

    private func executable(_ url: URL, _ text: String) throws {
        try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// The 16-bit samples of a PCM WAV file (its `data` chunk), as `arecord -t raw` gives them.
    static func samples(ofWAV url: URL) throws -> Data {
        let bytes = try Data(contentsOf: url)
        var offset = 12
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = bytes[offset + 4..<offset + 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            if id == "data" { return bytes[offset + 8..<min(bytes.count, offset + 8 + size)] }
            offset += 8 + size + (size & 1)
        }
        throw CocoaError(.fileReadCorruptFile)
    }

    /// Why `command` cannot run here, or nil.
    func missing(for command: String) -> String? {
        for tool in ["mpirun", "sox", "curl"] where command.hasPrefix(tool + " ") || command.contains("| \(tool) ") {
            if !FileManager.default.isExecutableFile(atPath: "/usr/bin/" + tool) { return "\(tool) is not installed" }
        }
        if command.contains("../shared/"), !FileManager.default.fileExists(atPath: root.appendingPathComponent("shared").path) {
            return "../shared is not beside the repository"
        }
        return nil
    }

    /// Runs one example with bash, in the checkout: a trailing `…` (the
    /// reader's other flags) dropped, what it needs made first, a page's
    /// `hark serve` in the background.
    func run(_ command: String) throws -> CLITestCase.Run {
        var command = command
        if command.hasSuffix(" …") { command.removeLast(2) }
        for (path, make) in Self.madeWhenNeeded
        where command.contains(path) && !FileManager.default.fileExists(atPath: checkout.appendingPathComponent(path).path) {
            let made = try bash(make)
            guard made.status == 0 else { return made }
        }
        if command == "hark serve" { return try startServer() }
        if command.contains("localhost:8080") && server == nil {
            let started = try startServer()
            guard started.status == 0 else { return started }
        }
        return try bash(command.replacingOccurrences(of: "localhost:8080", with: "localhost:\(port)"))
    }

    /// What some examples take for granted, and the command that makes it:
    /// a training run (a stand-in for the default model's stage 2).
    static let madeWhenNeeded = [
        ("build/default/stage2", "hark train --train train.jsonl --valid valid.jsonl --out build/default/stage2 --sample-frequency 8000")
    ]

    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = root.appendingPathComponent("bin").path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        // mpirun as the pages write it, also as root (CI) and with more processes than cores.
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        env["OMPI_MCA_hwloc_base_binding_policy"] = "none"
        return env
    }

    private func bash(_ command: String) throws -> CLITestCase.Run {
        let process = Process()
        // Ten minutes at most (exit status 124 after them): an example that hangs fails, and the suite goes on.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["600", "/bin/bash", "-o", "pipefail", "-c", command]
        process.currentDirectoryURL = checkout
        process.environment = environment
        let out = root.appendingPathComponent("stdout"), err = root.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return CLITestCase.Run(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// `hark serve --port 0` in the background; its port from the line it prints when it listens.
    private func startServer() throws -> CLITestCase.Run {
        let process = Process()
        process.executableURL = root.appendingPathComponent("bin/hark")
        process.arguments = ["serve", "--port", "0"]
        process.currentDirectoryURL = checkout
        process.environment = environment
        let log = root.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        server = process
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            usleep(50_000)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let found = CLITestCase.servingPort(in: text) {
                port = found
                return CLITestCase.Run(status: 0, stdout: "", stderr: text)
            }
        }
        return CLITestCase.Run(status: 1, stdout: "", stderr: "hark serve did not say where it listens: \(text)")
    }

    func remove() {
        if let server, server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }
}

import Foundation
import HarkTestSupport
import XCTest

/// The input reproducers through the built `hark` binary: each bad input is
/// one line on stderr naming it, the rest of the batch is done, exit status 1.
final class InputLimitsCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The `hark` executable next to the test bundle.
    static var binary: URL {
        var d = Bundle(for: InputLimitsCLITests.self).bundleURL
        while !FileManager.default.fileExists(atPath: d.appendingPathComponent("hark").path) && d.path != "/" {
            d.deleteLastPathComponent()
        }
        return d.appendingPathComponent("hark")
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs hark with `stdin` as its standard input: a file, or with `pipe` a
    /// pipe written from another thread (as `cat x.wav | hark …`).
    func hark(_ arguments: [String], stdin: Data = Data(), pipe: Bool = false) throws -> Run {
        let input = dir.appendingPathComponent("stdin-\(UUID().uuidString)")
        let out = dir.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        try stdin.write(to: input)
        for f in [out, err] { FileManager.default.createFile(atPath: f.path, contents: nil) }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let stdinPipe = Pipe()
        process.standardInput = pipe ? stdinPipe : try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        if pipe {
            let writer = stdinPipe.fileHandleForWriting
            Thread {
                writer.write(stdin); try? writer.close()
            }.start()
        }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    let sample = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav")

    /// A FIFO without a writer in a scanned directory is refused at once; the good file is transcribed.
    func testFifoInADirectoryDoesNotStopTheBatch() throws {
        let folder = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: sample, to: folder.appendingPathComponent("a.wav"))
        let fifo = folder.appendingPathComponent("f.wav").path
        guard mkfifo(fifo, 0o600) == 0 else { throw XCTSkip("mkfifo failed") }
        let started = Date()
        let run = try hark(["transcribe", folder.path])
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stdout.contains("a.wav\tENTER SEVEN"), run.stdout)
        XCTAssertTrue(run.stderr.contains("\(fifo): cannot be read: a FIFO, not a regular file"), run.stderr)
    }

    /// Standard input by name and as `-`, from a file and from a pipe (where
    /// seeking to the end trapped).
    func testStandardInputByNameAndAsDash() throws {
        let bytes = try Data(contentsOf: sample)
        for name in ["/dev/stdin", "-"] {
            for pipe in [false, true] {
                let run = try hark(["transcribe", name], stdin: bytes, pipe: pipe)
                XCTAssertEqual(run.status, 0, run.stderr)
                XCTAssertEqual(run.stdout, "ENTER SEVEN\n", "\(name), pipe: \(pipe)")
            }
        }
        let text = try hark(["transcribe", "/proc/self/status"])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stderr.contains("/proc/self/status: not a recognised audio file"), text.stderr)
    }

    /// Truncated containers and an implausible rate, each reported, with a good file in the same batch.
    func testTruncatedContainersAndImplausibleRate() throws {
        let tone = WavBuilder.tone(count: 4000)
        var inputs: [(String, [UInt8], String)] = [
            (
                "rate63.wav", WavBuilder.wav(payload: [UInt8](repeating: 0x80, count: 5000), sampleRate: 63, bitsPerSample: 8),
                "implausible sample rate: the header claims 63 Hz; Hark accepts 1000 to 384000 Hz"
            )
        ]
        for (name, bytes) in [
            ("t.aiff", ContainerBuilder.aiff(tone)), ("t.au", ContainerBuilder.au(tone)),
            ("t.w64", ContainerBuilder.w64(tone)), ("t.sph", ContainerBuilder.nist(tone))
        ] {
            inputs.append((name, Array(bytes.prefix(bytes.count - 1000)), "truncated file: the header declares 8000 bytes"))
        }
        var paths = [sample.path]
        for (name, bytes, _) in inputs {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            paths.append(url.path)
        }
        let run = try hark(["transcribe"] + paths)
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stdout.contains("an52-mmaf-b.wav\tENTER SEVEN"), run.stdout)
        for (name, _, message) in inputs {
            XCTAssertTrue(run.stderr.contains("\(dir.appendingPathComponent(name).path): \(message)"), "\(name): \(run.stderr)")
        }
        XCTAssertTrue(run.stderr.contains("5 input(s) failed"), run.stderr)
    }
}

import Foundation
import HarkIO
import HarkTestSupport
import XCTest

/// `hark manifest` on small corpora laid out as AN4 and as LibriSpeech.
final class ManifestCommandTests: CLITestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func copy(_ source: URL, to relative: String) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: url)
    }

    func testAN4LayoutWithASpeakerSplit() throws {
        let tiny = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny")
        try copy(tiny.appendingPathComponent("an264-mcfl-b.wav"), to: "an4/wav/an4_clstk/mcfl/an264-mcfl-b.wav")
        try copy(tiny.appendingPathComponent("an256-mewl-b.wav"), to: "an4/wav/an4_clstk/mewl/an256-mewl-b.wav")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("an4/etc"), withIntermediateDirectories: true)
        try "<s> GO </s> (an264-mcfl-b)\n<s> NO </s> (an256-mewl-b)\n<s> MISSING </s> (an1-xxxx-b)\n"
            .write(to: dir.appendingPathComponent("an4/etc/an4_train.transcription"), atomically: true, encoding: .utf8)
        let train = dir.appendingPathComponent("train.jsonl"), valid = dir.appendingPathComponent("valid.jsonl")
        let run = try hark(["manifest", dir.appendingPathComponent("an4").path, "-o", train.path,
                            "--valid-speakers", "mewl", "--valid-output", valid.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let t = try Manifest.read(train.path), v = try Manifest.read(valid.path)
        XCTAssertEqual(t.map(\.text), ["GO"])
        XCTAssertEqual(t[0].writtenPath, "an4/wav/an4_clstk/mcfl/an264-mcfl-b.wav", "relative to the manifest")
        XCTAssertEqual(v.map(\.text), ["NO"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: v[0].audioPath))
    }

    /// The held-out manifest cannot be the training one (one would replace
    /// the other), and neither can be empty or end in "/".
    func testOutputsMustBeTwoFiles() throws {
        let corpus = dir.appendingPathComponent("an4").path
        let m = dir.appendingPathComponent("m.jsonl").path
        for (arguments, fragment) in [
            (["-o", m, "--valid-speakers", "mewl", "--valid-output", dir.path + "/./m.jsonl"], "--valid-output \(dir.path)/./m.jsonl is an input"),
            (["-o", ""], "-o: the file name is empty"),
            (["-o", m + "/"], "ends in /: name a file, not a directory"),
        ] {
            let run = try hark(["manifest", corpus] + arguments)
            XCTAssertEqual(run.status, 64, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(fragment), "\(arguments): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: m))
    }

    func testLibriSpeechLayout() throws {
        let flac = repositoryRoot.appendingPathComponent("Tests/HarkAudioTests/Fixtures/flac.flac")
        try copy(flac, to: "ls/19/198/19-198-0000.flac")
        try copy(flac, to: "ls/19/198/19-198-0001.flac")
        try "19-198-0000 NORTHANGER ABBEY\n19-198-0001 THIS LITTLE WORK\n"
            .write(to: dir.appendingPathComponent("ls/19/198/19-198.trans.txt"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("ls.jsonl")
        let run = try hark(["manifest", dir.appendingPathComponent("ls").path, "-o", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let m = try Manifest.read(out.path)
        XCTAssertEqual(m.map(\.text), ["NORTHANGER ABBEY", "THIS LITTLE WORK"])
        XCTAssertEqual(m[1].writtenPath, "ls/19/198/19-198-0001.flac")
        let unknown = try hark(["manifest", dir.appendingPathComponent("ls").path, "-o", out.path,
                                "--valid-speakers", "42", "--valid-output", dir.appendingPathComponent("v.jsonl").path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no utterances of 42"), unknown.stderr)
    }
}

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
        let run = try hark([
            "manifest", dir.appendingPathComponent("an4").path, "-o", train.path,
            "--valid-speakers", "mewl", "--valid-output", valid.path
        ])
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
            (
                ["-o", m, "--valid-speakers", "mewl", "--valid-output", dir.path + "/./m.jsonl"],
                "--valid-output \(dir.path)/./m.jsonl is an input"
            ),
            (["-o", ""], "-o: the file name is empty"),
            (["-o", m + "/"], "ends in /: name a file, not a directory")
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
        let unknown = try hark([
            "manifest", dir.appendingPathComponent("ls").path, "-o", out.path,
            "--valid-speakers", "42", "--valid-output", dir.appendingPathComponent("v.jsonl").path
        ])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no utterances of 42"), unknown.stderr)
    }

    /// The layouts labeled speech usually comes in besides AN4 and
    /// LibriSpeech: clips named by their label, a table, a Kaldi data directory.
    func testFolderTableAndKaldiLayouts() throws {
        let seven = repositoryRoot.appendingPathComponent("audio/7_jackson_0.wav")
        try copy(seven, to: "fsdd/7_jackson_0.wav")
        try copy(seven, to: "fsdd/7_theo_12.wav")
        try copy(seven, to: "fsdd/sub/3_nicolas_4.wav")
        let out = dir.appendingPathComponent("fsdd.jsonl")
        let folder = try hark([
            "manifest", dir.appendingPathComponent("fsdd").path, "-o", out.path,
            "--label-pattern", "(.*/)?(?<text>[0-9])_(?<speaker>[a-z]+)_[0-9]+"
        ])
        XCTAssertEqual(folder.status, 0, folder.stderr)
        let f = try Manifest.read(out.path)
        XCTAssertEqual(f.map(\.text), ["7", "7", "3"])
        XCTAssertTrue(folder.stdout.contains("3 utterances, 3 speakers"), folder.stdout)
        let bad = try hark(["manifest", dir.appendingPathComponent("fsdd").path, "-o", out.path, "--label-pattern", "(?<text>[0-9])x"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("does not match --label-pattern"), bad.stderr)

        // Common Voice: a TSV whose paths are in clips/; a CSV with a quoted comma.
        try copy(seven, to: "cv/clips/common_voice_en_1.wav")
        try "client_id\tpath\tsentence\tup_votes\nabc\tcommon_voice_en_1.wav\tSEVEN\t2\n"
            .write(to: dir.appendingPathComponent("cv/validated.tsv"), atomically: true, encoding: .utf8)
        let cv = try hark(["manifest", dir.appendingPathComponent("cv/validated.tsv").path, "-o", out.path])
        XCTAssertEqual(cv.status, 0, cv.stderr)
        let c = try Manifest.read(out.path)
        XCTAssertEqual(c.map(\.text), ["SEVEN"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: c[0].audioPath))
        try "file,transcript\nclips/common_voice_en_1.wav,\"SEVEN, I SAID \"\"SEVEN\"\"\"\n"
            .write(to: dir.appendingPathComponent("cv/list.csv"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try hark(["manifest", dir.appendingPathComponent("cv/list.csv").path, "-o", out.path]).status, 0)
        XCTAssertEqual(try Manifest.read(out.path).map(\.text), ["SEVEN, I SAID \"SEVEN\""])

        // A Kaldi data directory.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data/train"), withIntermediateDirectories: true)
        try "u1 \(dir.appendingPathComponent("fsdd/7_jackson_0.wav").path)\n".write(
            to: dir.appendingPathComponent("data/train/wav.scp"), atomically: true, encoding: .utf8)
        try "u1 SEVEN\n".write(to: dir.appendingPathComponent("data/train/text"), atomically: true, encoding: .utf8)
        try "u1 jackson\n".write(to: dir.appendingPathComponent("data/train/utt2spk"), atomically: true, encoding: .utf8)
        let kaldi = try hark(["manifest", dir.appendingPathComponent("data/train").path, "-o", out.path])
        XCTAssertEqual(kaldi.status, 0, kaldi.stderr)
        XCTAssertTrue(kaldi.stdout.contains("1 utterances, 1 speaker"), kaldi.stdout)

        // A folder of clips without a pattern: the error names every layout known.
        let unknown = try hark(["manifest", dir.appendingPathComponent("fsdd").path, "-o", out.path])
        XCTAssertEqual(unknown.status, 1)
        for layout in ["AN4", "LibriSpeech", "Kaldi", "CSV or TSV", "--label-pattern"] {
            XCTAssertTrue(unknown.stderr.contains(layout), unknown.stderr)
        }
    }

    /// A clip whose name is not UTF-8 is left out with a note, not silently.
    func testNonUTF8NamesAreNamed() throws {
        let seven = repositoryRoot.appendingPathComponent("audio/7_jackson_0.wav")
        try copy(seven, to: "names/7_jackson_0.wav")
        // "7_j\xFF_1.wav": a name with a byte that is not UTF-8, made with rename(2).
        let target = Array((dir.appendingPathComponent("names").path + "/7_j").utf8) + [0xFF] + Array("_1.wav".utf8) + [0]
        try FileManager.default.copyItem(at: seven, to: dir.appendingPathComponent("names/tmp.wav"))
        let renamed = target.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { rename(dir.appendingPathComponent("names/tmp.wav").path, $0.baseAddress!) }
        }
        XCTAssertEqual(renamed, 0)
        let out = dir.appendingPathComponent("names.jsonl")
        let run = try hark(["manifest", dir.appendingPathComponent("names").path, "-o", out.path, "--label-pattern", "(?<text>[0-9])_.*"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("1 audio file(s) whose names are not UTF-8 were left out"), run.stderr)
        XCTAssertEqual(try Manifest.read(out.path).count, 1)
    }
}

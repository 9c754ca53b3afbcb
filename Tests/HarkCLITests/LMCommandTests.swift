import Foundation
import HarkLM
import HarkTestSupport
import XCTest

/// `hark lm` through the built binary.
final class LMCommandTests: CLITestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var corpus: URL { repositoryRoot.appendingPathComponent("Tests/HarkLMTests/Fixtures/corpus.txt") }

    /// The ARPA file equals the library's estimate of the same sentences, and the summary gives the counts.
    func testBuildsFromText() throws {
        let out = dir.appendingPathComponent("lm.arpa")
        let run = try hark(["lm", "--order", "3", "-o", out.path, corpus.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let sentences = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        let expected = try NGramEstimator(order: 3).estimate(sentences: sentences)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), expected)
        let counts = try NGramModel.read(out).counts
        XCTAssertTrue(run.stdout.contains("order 3, \(sentences.count) sentences"), run.stdout)
        XCTAssertTrue(run.stdout.contains("ngram 1=\(counts[0])\nngram 2=\(counts[1])\nngram 3=\(counts[2])\n"), run.stdout)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(names, ["lm.arpa"], "no temporary file left")
    }

    /// `-o -` writes the model to standard output and `-` reads standard
    /// input (as `hark report -o -`), the same model as from the file; the
    /// corpus is read line by line, a bad line named by its number.
    func testStandardInputAndOutput() throws {
        let text = try Data(contentsOf: corpus)
        let run = try hark(["lm", "--order", "3", "-o", "-", "-"], stdin: text)
        XCTAssertEqual(run.status, 0, run.stderr)
        let sentences = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        XCTAssertEqual(run.stdout, try NGramEstimator(order: 3).estimate(sentences: sentences))
        XCTAssertTrue(run.stderr.contains("order 3, \(sentences.count) sentences"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"), "no file named -")
        let bad = dir.appendingPathComponent("bad.txt")
        try (Data("A B\nA C\n".utf8) + Data([0x41, 0xFF, 0x0A])).write(to: bad)
        let refused = try hark(["lm", "--order", "2", "-o", "-", bad.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("bad.txt:3: not UTF-8 text"), refused.stderr)
    }

    /// A manifest's transcripts, lower-case and with extra spaces, normalised
    /// as the default (upper case, spaces collapsed), give the same model as the text.
    func testManifestAndNormalisation() throws {
        let lines = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n")
        let manifest = dir.appendingPathComponent("m.jsonl")
        let json = try lines.enumerated().map { i, line -> String in
            let object: [String: Any] = [
                "audio_filepath": "a\(i).wav", "text": "  " + line.lowercased().replacingOccurrences(of: " ", with: "   ")
            ]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }.joined(separator: "\n")
        try json.write(to: manifest, atomically: true, encoding: .utf8)
        let a = dir.appendingPathComponent("a.arpa"), b = dir.appendingPathComponent("b.arpa")
        XCTAssertEqual(try hark(["lm", "--order", "2", "-o", a.path, manifest.path]).status, 0)
        XCTAssertEqual(try hark(["lm", "--order", "2", "-o", b.path, corpus.path]).status, 0)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
    }

    /// --model normalises as the model's config.json says (the bundled model
    /// keeps A–Z, space and the apostrophe: "the!" becomes THE, "NAME07" NAME).
    func testModelNormalisation() throws {
        let text = dir.appendingPathComponent("t.txt")
        let lines = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n")
        try lines.map { $0.replacingOccurrences(of: "THE", with: "the!") }.joined(separator: "\n").write(
            to: text, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("lm.arpa")
        // The names all become NAME, so no unigram is left with a continuation count of 1: fallback discounts.
        let run = try hark(["lm", "--order", "2", "--model", "models/an4-blstm", "--discount-fallback", "-o", out.path, text.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let model = try NGramModel.read(out)
        XCTAssertTrue(model.contains("THE") && model.contains("NAME"))
        XCTAssertFalse(model.words.contains { $0.contains("!") || $0.contains { $0.isNumber } }, "\(model.words)")
    }

    func testPruning() throws {
        let full = dir.appendingPathComponent("full.arpa"), pruned = dir.appendingPathComponent("pruned.arpa")
        XCTAssertEqual(try hark(["lm", "--order", "3", "-o", full.path, corpus.path]).status, 0)
        let run = try hark(["lm", "--order", "3", "--prune", "0,1", "-o", pruned.path, corpus.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let a = try NGramModel.read(full).counts, b = try NGramModel.read(pruned).counts
        XCTAssertEqual(a[0], b[0])
        XCTAssertEqual(a[1], b[1], "threshold 0 keeps every bigram")
        XCTAssertLessThan(b[2], a[2])
    }

    func testBadFlagsExit64() throws {
        let out = dir.appendingPathComponent("lm.arpa").path
        for (arguments, fragment) in [
            (["lm", "--order", "0", "-o", out, corpus.path], "--order must be 1…10"),
            (["lm", "--order", "11", "-o", out, corpus.path], "--order must be 1…10"),
            (["lm", "--order", "3", "--prune", "1,-1", "-o", out, corpus.path], "--prune"),
            (["lm", "--order", "3", "--prune", "2,1", "-o", out, corpus.path], "must not decrease"),
            (["lm", "--order", "3", "--prune", "x", "-o", out, corpus.path], "--prune")
        ] {
            let run = try hark(arguments)
            XCTAssertEqual(run.status, 64, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(fragment), "\(arguments): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// Errors are one line naming the file, exit status 1, and nothing is written.
    func testErrorsNameTheFile() throws {
        let out = dir.appendingPathComponent("lm.arpa")
        let missing = dir.appendingPathComponent("missing.txt").path
        var run = try hark(["lm", "--order", "2", "-o", out.path, missing])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("missing.txt: no such file"), run.stderr)
        let tiny = dir.appendingPathComponent("tiny.txt")
        try "A B\nA C\n".write(to: tiny, atomically: true, encoding: .utf8)
        run = try hark(["lm", "--order", "3", "-o", out.path, tiny.path])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("tiny.txt") && run.stderr.contains("discount"), run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // With lmplz's fallback discounts the same text gives a model.
        run = try hark(["lm", "--order", "3", "--discount-fallback", "-o", out.path, tiny.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try NGramModel.read(out).counts, [6, 5, 4])
    }

    /// An output that cannot be meant is a usage error and nothing is
    /// written: an input (the ARPA file would replace the corpus), an empty
    /// name, a name ending in "/". The message points to this command's help.
    func testOutputsThatCannotBeMeantAreRefused() throws {
        let manifest = dir.appendingPathComponent("train.jsonl")
        let original = #"{"audio_filepath": "a.wav", "text": "A B"}"# + "\n"
        try original.write(to: manifest, atomically: true, encoding: .utf8)
        let link = dir.appendingPathComponent("link.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: manifest)
        for (output, fragment) in [
            (manifest.path, "is an input"), (link.path, "is an input"), ("", "-o: the file name is empty"),
            (dir.appendingPathComponent("lm.arpa/").path + "/", "ends in /: name a file, not a directory")
        ] {
            let run = try hark(["lm", "--order", "2", "-o", output, manifest.path])
            XCTAssertEqual(run.status, 64, "\(output): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(fragment), "\(output): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("See 'hark lm --help'"), run.stderr)
        }
        XCTAssertEqual(try String(contentsOf: manifest, encoding: .utf8), original)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lm.arpa").path))
    }
}

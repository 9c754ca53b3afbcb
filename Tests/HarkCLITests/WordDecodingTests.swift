import Foundation
import HarkTestSupport
import XCTest

/// `hark transcribe`, `eval` and `tune` with a language model, n-best lists,
/// hotwords and a vocabulary, through the built binary and the default model.
final class WordDecodingTests: CLITestCase {
    var dir: URL!
    let sample = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path  // "ENTER SEVEN"
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A bigram LM built by `hark lm` from a few sentences of the sample's domain.
    func buildLM() throws -> String {
        let text = dir.appendingPathComponent("text.txt")
        try "ENTER SEVEN\nENTER ONE\nENTER SEVEN TWO\nRUBOUT SEVEN\nENTER TWO\n".write(to: text, atomically: true, encoding: .utf8)
        let lm = dir.appendingPathComponent("lm.arpa").path
        let run = try hark(["lm", "--order", "2", "--discount-fallback", "-o", lm, text.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("ngram 1="), run.stdout)
        return lm
    }

    func testLanguageModelNBestAndWordTimes() throws {
        let lm = try buildLM()
        let run = try hark([
            "transcribe", "--lm", lm, "--beam", "16", "--nbest", "3", "--beam-prune-logprob=-50", "--format", "json", sample
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["text"] as? String, "ENTER SEVEN")
        let nbest = object["nbest"] as! [[String: Any]]
        XCTAssertEqual(nbest.count, 3)
        XCTAssertEqual(nbest[0]["text"] as? String, "ENTER SEVEN")
        let scores = nbest.map { $0["score"] as! Double }
        XCTAssertEqual(scores, scores.sorted(by: >), "best first")
        for n in nbest {
            XCTAssertEqual(n["score"] as! Double, (n["acoustic"] as! Double) + (n["lm"] as! Double), accuracy: 1e-3)
        }
        // Six distinct texts with the default pruning (prefixes that differ in a trailing space are one text),
        // and never more than the beam keeps.
        let six = try hark(["transcribe", "--lm", lm, "--nbest", "6", "--format", "json", sample])
        let texts = ((try JSONSerialization.jsonObject(with: Data(six.stdout.utf8)) as! [String: Any])["nbest"] as! [[String: Any]]).map {
            $0["text"] as! String
        }
        XCTAssertEqual(Set(texts).count, texts.count, "\(texts)")
        XCTAssertEqual(texts.first, "ENTER SEVEN")
        let over = try hark(["transcribe", "--nbest", "50", sample])
        XCTAssertNotEqual(over.status, 0)
        XCTAssertTrue(over.stderr.contains("--nbest 50 is more than the beam keeps (32)"), over.stderr)
        let duration = object["duration"] as! Double
        for w in object["words"] as! [[String: Any]] {
            let start = w["start"] as! Double, end = w["end"] as! Double
            XCTAssertTrue(0 <= start && start < end && end <= duration + 0.05, "\(w) in \(duration) s")
            XCTAssertNotNil(w["confidence"] as? Double)
        }
    }

    func testVocabularyAndHotwords() throws {
        let vocabulary = dir.appendingPathComponent("words.txt")
        try "ENTER\nSEVEN\n".write(to: vocabulary, atomically: true, encoding: .utf8)
        let closed = try hark(["transcribe", "--vocabulary", vocabulary.path, sample])
        XCTAssertEqual(closed.status, 0, closed.stderr)
        for w in closed.stdout.split(whereSeparator: \.isWhitespace) {
            XCTAssertTrue(["ENTER", "SEVEN"].contains(String(w)), closed.stdout)
        }
        // A closed vocabulary without the words spoken cannot output them.
        try "RUBOUT\nYES\n".write(to: vocabulary, atomically: true, encoding: .utf8)
        let other = try hark(["transcribe", "--vocabulary", vocabulary.path, sample])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertFalse(other.stdout.contains("ENTER"), other.stdout)
        let hot = try hark(["transcribe", "--hotword", "SEVEN:4", "--hotword", "enter", sample])
        XCTAssertEqual(hot.stdout, "ENTER SEVEN\n", hot.stderr)
    }

    func testBadDecodingInputsAreClearErrors() throws {
        let cases: [([String], Int32, String)] = [
            (["transcribe", "--lm", "/nonexistent.arpa", sample], 1, "/nonexistent.arpa"),
            (["transcribe", "--hotword", "SEVEN:x", sample], 64, "--hotword \"SEVEN:x\": the boost must be a number from -1000 to 1000"),
            (
                ["transcribe", "--hotword", "SEVEN:1e4", sample], 64,
                "--hotword \"SEVEN:1e4\": the boost must be a number from -1000 to 1000"
            ),
            (
                ["transcribe", "--hotword", String(repeating: "A", count: 1001), sample], 64,
                "1001 bytes; the longest hotword Hark takes is 1000"
            ),
            (["tune", "--alphas", "1e300", sample], 64, "--alphas 1e300: expected 1 to 100 numbers from -1000 to 1000"),
            (["transcribe", "--alpha", "nan", sample], 64, "--alpha nan must be a finite number"),
            (["transcribe", "--nbest", "0", sample], 64, "--nbest 0 must be in 1…"),
            (["transcribe", "--vocabulary", "/nonexistent.txt", sample], 1, "--vocabulary /nonexistent.txt: No such file or directory"),
            (["transcribe", "--hotwords", "/dev/zero", sample], 1, "--hotwords /dev/zero: not a regular file"),
            (["tune", "--alphas", "1,x", sample], 64, "--alphas 1,x: expected")
        ]
        for (arguments, status, fragment) in cases {
            let run = try hark(arguments)
            XCTAssertEqual(run.status, status, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(fragment), "\(arguments): \(run.stderr)")
        }
        // Word lists name the line of a word over the length limit (the decoder's word tree grows with its letters).
        let longWords = dir.appendingPathComponent("long.txt")
        try ("ENTER\n\n" + String(repeating: "A", count: 5000) + "\n").write(to: longWords, atomically: true, encoding: .utf8)
        let vocabulary = try hark(["transcribe", "--vocabulary", longWords.path, sample])
        XCTAssertEqual(vocabulary.status, 1)
        XCTAssertTrue(
            vocabulary.stderr.contains("long.txt line 3: a word of 5000 bytes; the longest Hark takes is 1000"), vocabulary.stderr)
        let hotwords = try hark(["transcribe", "--hotwords", longWords.path, sample])
        XCTAssertEqual(hotwords.status, 1)
        XCTAssertTrue(
            hotwords.stderr.contains("long.txt line 3:") && hotwords.stderr.contains("the longest hotword Hark takes is 1000"),
            hotwords.stderr)
        // A malformed ARPA file names its line.
        let bad = dir.appendingPathComponent("bad.arpa")
        try "\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\tA\nxyz\tB\n\n\\end\\\n".write(to: bad, atomically: true, encoding: .utf8)
        let run = try hark(["transcribe", "--lm", bad.path, sample])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("bad.arpa:6: probability \"xyz\" is not a number"), run.stderr)
    }

    func testTunePrintsTheTableAndTheBestPair() throws {
        let lm = try buildLM()
        let manifest = dir.appendingPathComponent("dev.jsonl")
        try "{\"audio_filepath\": \"\(sample)\", \"text\": \"ENTER SEVEN\"}\n".write(to: manifest, atomically: true, encoding: .utf8)
        let run = try hark(["tune", "--lm", lm, "--alphas", "0,0.5", "--betas", "0,1", "--beam", "8", manifest.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("β=0.0") && run.stdout.contains("α=0.5"), run.stdout)
        XCTAssertTrue(run.stdout.contains("best: --alpha 0.0 --beta 0.0: WER 0.00%"), run.stdout)
        // A missing recording is named once, and the others are still tuned on.
        try
            ("{\"audio_filepath\": \"/nonexistent.wav\", \"text\": \"YES\"}\n{\"audio_filepath\": \"\(sample)\", \"text\": \"ENTER SEVEN\"}\n")
            .write(to: manifest, atomically: true, encoding: .utf8)
        let missing = try hark(["tune", "--lm", lm, "--alphas", "0", "--betas", "0", "--beam", "8", manifest.path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.components(separatedBy: "/nonexistent.wav").count, 2, missing.stderr)
        XCTAssertTrue(missing.stdout.contains("on 1 utterances"), missing.stdout)
    }

    /// A model directory that names an LM in config.json decodes with it unless told otherwise.
    func testModelDirectoryDecoderDefaults() throws {
        let lm = try buildLM()
        let model = dir.appendingPathComponent("model")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("models/an4-blstm"), to: model)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: lm), to: model.appendingPathComponent("lm.arpa"))
        let configURL = model.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["decoder"] = ["lm": "lm.arpa", "alpha": 0.5, "beta": 1.0, "beam": 8]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        func lmScore(_ extra: [String]) throws -> Double {
            let run = try hark(
                [
                    "transcribe", "--model", model.path, "--nbest", "2", "--beam-prune-logprob=-50",
                    "--format", "json"
                ] + extra + [sample])
            XCTAssertEqual(run.status, 0, run.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            XCTAssertEqual(object["text"] as? String, "ENTER SEVEN")
            return (object["nbest"] as! [[String: Any]])[0]["lm"] as! Double
        }
        // With the model's LM: β = 1 for each of two words plus the LM's log-probabilities (negative).
        let withLM = try lmScore([])
        XCTAssertNotEqual(withLM, 0)
        XCTAssertLessThan(withLM, 1.9, "the model's LM is used")
        // --lm none: a plain beam, no word scores at all.
        XCTAssertEqual(try lmScore(["--lm", "none"]), 0, "--lm none turns the model's LM off")
    }
}

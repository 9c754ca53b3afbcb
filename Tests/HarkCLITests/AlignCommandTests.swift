import Foundation
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

/// `hark align` through the built binary and the default model: word times
/// of a known transcript in every format, a long recording cut into clips
/// with their manifest, and transcripts it cannot align.
final class AlignCommandTests: CLITestCase {
    var dir: URL!
    let sample = "audio/an52-mmaf-b.wav"  // "ENTER SEVEN"
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ text: String, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testWordTimesInEveryFormat() throws {
        let transcript = try write("enter seven\n", "t.txt")
        let json = try hark(["align", sample, transcript])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["text"] as? String, "ENTER SEVEN")
        let words = try XCTUnwrap(object["words"] as? [[String: Any]])
        XCTAssertEqual(words.map { $0["word"] as! String }, ["ENTER", "SEVEN"])
        let times = words.flatMap { [$0["start"] as! Double, $0["end"] as! Double] }
        XCTAssertEqual(times, times.sorted(), "words in order, each start before its end")
        // The recording has 0.3 s of silence before "ENTER": the word starts on the speech, not at 0.
        XCTAssertGreaterThan(times[0], 0.25)
        XCTAssertLessThanOrEqual(times[3], 1.5)

        let ctm = try hark(["align", "--format", "ctm", sample, transcript])
        XCTAssertEqual(ctm.status, 0, ctm.stderr)
        let lines = ctm.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("an52-mmaf-b 1 "), ctm.stdout)
        XCTAssertEqual(lines[1].split(separator: " ")[4], "SEVEN")

        let grid = try hark(["align", "--format", "textgrid", sample, transcript])
        XCTAssertEqual(grid.status, 0, grid.stderr)
        XCTAssertTrue(grid.stdout.hasPrefix("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n"), grid.stdout)
        XCTAssertTrue(grid.stdout.contains("text = \"ENTER\"") && grid.stdout.contains("text = \"SEVEN\""))
        XCTAssertTrue(grid.stdout.contains("xmax = 1.5000"))

        let vtt = try hark(["align", "--format", "vtt", sample, "-"], stdin: Data("ENTER SEVEN".utf8))
        XCTAssertEqual(vtt.status, 0, vtt.stderr)
        XCTAssertTrue(vtt.stdout.hasPrefix("WEBVTT\n\n00:00:00.") && vtt.stdout.hasSuffix("ENTER SEVEN\n"), vtt.stdout)
    }

    /// Three utterances with pauses in one file, their transcript a line
    /// each: three clips, each holding its utterance, which transcribes to its line.
    func testALongRecordingIsCutIntoClips() throws {
        let rate = 16_000
        let an4 = try AudioLoader.load(sample, options: AudioLoadOptions(targetSampleRate: rate)).waveform.samples
        let fsdd = try AudioLoader.load("audio/7_jackson_0.wav", options: AudioLoadOptions(targetSampleRate: rate)).waveform.samples
        var rng = SeededGenerator(seed: 5)
        func pause(_ s: Double) -> [Float] { (0..<Int(s * Double(rate))).map { _ in 1e-3 * rng.nextGaussian() } }
        let session = pause(0.5) + an4 + pause(1.2) + fsdd + pause(1.0) + an4 + pause(0.6)
        let audio = dir.appendingPathComponent("session.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: audio.path, contents: Data(wavFile(samples: session, sampleRate: rate))))
        let transcript = try write("ENTER SEVEN\nseven\nENTER SEVEN\n", "session.txt")
        let out = dir.appendingPathComponent("clips")
        let run = try hark(["align", audio.path, transcript, "--clips", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("3 clips"), run.stderr)
        let rows = try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(rows.map { $0["text"] as! String }, ["ENTER SEVEN", "SEVEN", "ENTER SEVEN"])
        // Where each utterance really is, in seconds.
        let truth = [
            (0.5, 0.5 + 1.5), (3.2, 3.2 + Double(fsdd.count) / Double(rate)),
            (4.2 + Double(fsdd.count) / Double(rate), 5.7 + Double(fsdd.count) / Double(rate))
        ]
        var previousEnd = 0.0
        for (row, (start, end)) in zip(rows, truth) {
            let offset = row["offset"] as! Double, duration = row["duration"] as! Double
            XCTAssertGreaterThanOrEqual(offset, previousEnd, "clips do not overlap")
            previousEnd = offset + duration
            XCTAssertLessThan(abs((offset + duration / 2) - (start + end) / 2), 0.5, "\(row) is about its utterance at \(start)–\(end)")
            XCTAssertLessThanOrEqual(row["score"] as! Double, 0)
        }
        // The clips make a training manifest: hark eval reads it and hears the lines.
        let eval = try hark(["eval", out.appendingPathComponent("manifest.jsonl").path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("WER 0.00%"), eval.stdout)
        // --min-score leaves out what scores below it: here, everything.
        let strict = try hark(["align", audio.path, transcript, "--clips", dir.appendingPathComponent("none").path, "--min-score", "0"])
        XCTAssertEqual(strict.status, 0, strict.stderr)
        XCTAssertTrue(strict.stderr.contains("0 clips") && strict.stderr.contains("3 utterance(s) below --min-score"), strict.stderr)
    }

    func testTranscriptsThatCannotBeAlignedAreErrors() throws {
        let cases: [(String, String)] = [
            ("ENTER 7\n", "\"7\" in \"ENTER 7\" is not one of the model's characters"),
            ("\n  \n", "the transcript is empty"),
            (String(repeating: "ENTER SEVEN ", count: 40), "frames cannot hold")
        ]
        for (text, message) in cases {
            let run = try hark(["align", sample, try write(text, "bad.txt")])
            XCTAssertEqual(run.status, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(message), "\(text): \(run.stderr)")
        }
        let missing = try hark(["align", sample, dir.appendingPathComponent("nothing.txt").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot read the transcript"), missing.stderr)
        let usage = try hark(["align", sample, "-", "--min-score", "-2"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
    }
}

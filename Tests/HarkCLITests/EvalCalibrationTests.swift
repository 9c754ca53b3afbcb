import Foundation
import HarkTestSupport
import XCTest

/// `hark eval` reports how well word confidences are calibrated: the
/// expected calibration error, the temperature that would calibrate them
/// (`--fit-temperature`), and the reliability diagram in `--report`.
final class EvalCalibrationTests: CLITestCase {
    func testCalibrationIsReported() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = repositoryRoot.path
        let manifest = dir.appendingPathComponent("m.jsonl")
        try """
        {"audio_filepath": "\(root)/audio/an52-mmaf-b.wav", "text": "ENTER SEVEN"}
        {"audio_filepath": "\(root)/audio/7_jackson_0.wav", "text": "SEVEN"}
        {"audio_filepath": "\(root)/audio/an52-mmaf-b.wav", "text": "ENTER EIGHT"}

        """.write(to: manifest, atomically: true, encoding: .utf8)
        let report = dir.appendingPathComponent("r.html").path
        let run = try hark(["eval", manifest.path, "--fit-temperature", "--report", report, "--per-utterance", "-"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let ece = try XCTUnwrap(lines.first { $0.hasPrefix("ECE ") }, run.stdout)
        XCTAssertTrue(ece.contains("of 5 word confidences"), ece)
        let value = try XCTUnwrap(Double(ece.split(separator: " ")[1]))
        XCTAssertTrue((0...1).contains(value))
        XCTAssertNotNil(lines.first { $0.hasPrefix("calibration: temperature ") }, run.stdout)
        // Each utterance's words with their confidences and whether they were right: SEVEN is wrong in the third.
        let rows = lines.filter { $0.hasPrefix("{") }.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(rows.map { ($0["word_confidences"] as! [[Double]]).map { $0[1] } }, [[1, 1], [1], [1, 0]])
        let html = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(html.contains("Confidence calibration") && html.contains("Reliability of word confidences"))

        // --write-temperature puts the fitted temperature into the model's config.json; the words stay.
        let model = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(
                at: repositoryRoot.appendingPathComponent("models/an4-blstm/" + f), to: model.appendingPathComponent(f))
        }
        let write = try hark(["eval", "--model", model.path, manifest.path, "--write-temperature"])
        XCTAssertEqual(write.status, 0, write.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("config.json"))) as! [String: Any]
        let temperature = try XCTUnwrap((config["calibration"] as? [String: Any])?["temperature"] as? Double)
        XCTAssertTrue(write.stdout.contains(String(format: "\"temperature\": %.4f", temperature)), write.stdout)
        let after = try hark(["transcribe", "--model", model.path, "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(after.stdout, "ENTER SEVEN\n")
        XCTAssertEqual(try hark(["eval", manifest.path, "--write-temperature"]).status, 64, "the bundled model is not rewritten")

        // --write-calibration fits a map on the raw confidences and writes it; the words stay.
        let many = dir.appendingPathComponent("many.jsonl")
        try String(repeating: try String(contentsOf: manifest, encoding: .utf8), count: 12).write(
            to: many, atomically: true, encoding: .utf8)
        let mapped = try hark(["eval", "--model", model.path, many.path, "--write-calibration"])
        XCTAssertEqual(mapped.status, 0, mapped.stderr)
        XCTAssertTrue(mapped.stdout.contains("calibration: a map of "), mapped.stdout)
        let written =
            try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("config.json"))) as! [String: Any]
        let map = try XCTUnwrap((written["calibration"] as? [String: Any])?["map"] as? [[Double]])
        XCTAssertGreaterThanOrEqual(map.count, 2)
        XCTAssertEqual(try hark(["transcribe", "--model", model.path, "audio/an52-mmaf-b.wav"]).stdout, "ENTER SEVEN\n")
        XCTAssertEqual(try hark(["eval", "--model", model.path, manifest.path, "--fit-calibration"]).status, 1, "5 words are too few")
        XCTAssertEqual(try hark(["eval", "--model", model.path, many.path, "--fit-calibration", "--fit-temperature"]).status, 64)
    }
}

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HarkPlot
import HarkTestSupport
import XCTest

/// `hark plot`, `hark report` and `hark eval --report` as a user runs them.
final class PlotCommandTests: CLITestCase {
    var dir: URL!
    let sample = "audio/an52-mmaf-b.wav"
    let tiny = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny")
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func testPlotWithTheDefaultModelWritesAPNGAndAnSVG() throws {
        let png = path("an52.png")
        let run = try hark(["plot", sample, "--model", "models/an4-blstm", "-o", png, "--width", "900"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "", "nothing on stdout: the picture is the result")
        let image = try RasterImage(png: [UInt8](Data(contentsOf: URL(fileURLWithPath: png))))
        XCTAssertEqual(image.width, 900)
        XCTAssertTrue(run.stderr.contains("900×\(image.height)"), run.stderr)
        XCTAssertGreaterThan(image.height, 700, "three panels: waveform, spectrogram, a 28-row posteriorgram")

        let svg = path("window.svg")
        let window = try hark(["plot", sample, "-o", svg, "--start", "0.3", "--end", "1.2"])
        XCTAssertEqual(window.status, 0, window.stderr)
        XCTAssertTrue(window.stderr.contains("0.90 s of audio"), window.stderr)
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: svg)))
        XCTAssertTrue(parser.parse())
    }

    func testPlotRefusesBadRequestsWithClearMessages() throws {
        let cases: [([String], String)] = [
            (["plot", sample, "-o", path("x.jpg")], "must end in .png or .svg"),
            (["plot", sample, "-o", path("x.png"), "--start", "2", "--end", "1"], "must come after --start"),
            (["plot", sample, "-o", path("x.png"), "--start=-1"], "must be a time ≥ 0"),
            (["plot", sample, "-o", path("x.png"), "--end", "700"], "longer than 600 s"),
            (["plot", sample, "-o", path("x.png"), "--width", "10"], "--width 10 must be in 400…8000"),
            (["plot", "no/such.wav", "-o", path("x.png")], "no/such.wav"),
            (["plot", sample, "-o", path("x.png"), "--start", "5"], "no audio in the window from 5.0 s"),
            (["plot", sample, "-o", path("x.png"), "--model", path("nomodel")], "nomodel"),
            (["plot", sample, "-o", path("no/dir/x.png")], "no/dir/x.png"),
        ]
        for (arguments, message) in cases {
            let run = try hark(arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.png")), "nothing written on failure")
        }
        // A corrupt file: named, exit 1.
        let bad = path("bad.wav")
        try Data("RIFF\u{10}\u{0}\u{0}\u{0}WAVEfmt garbage".utf8).write(to: URL(fileURLWithPath: bad))
        let run = try hark(["plot", bad, "-o", path("x.png")])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains(bad), run.stderr)
    }

    func testReportOfATrainingRunAndEvalReport() throws {
        let out = path("run")
        let train = try hark(["train", "--train", tiny.appendingPathComponent("train.jsonl").path, "--valid", tiny.appendingPathComponent("train.jsonl").path,
                              "--out", out, "--epochs", "3", "--hidden-size", "16", "--num-layers", "1", "--batch-size", "2"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let html = path("report.html")
        let report = try hark(["report", out, "-o", html])
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(page.utf8)).parse(), "well-formed")
        for id in ["id=\"curves\"", "id=\"validation\"", "id=\"options\"", "batchSize", "hidden_size", "best: epoch"] {
            XCTAssertTrue(page.contains(id), id)
        }
        XCTAssertFalse(page.contains("http://") && page.contains("src=\"http"), "nothing fetched from the network")
        let missing = try hark(["report", path("nothing"), "-o", path("r.html")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("not a directory"), missing.stderr)

        // The evaluation report of the model just trained, with one broken input.
        let manifest = path("eval.jsonl")
        let lines = try String(contentsOf: tiny.appendingPathComponent("train.jsonl"), encoding: .utf8)
        try (lines + "{\"audio_filepath\": \"\(path("gone.wav"))\", \"text\": \"GONE\"}\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        let evalHTML = path("eval.html")
        let eval = try hark(["eval", "--model", out, manifest, "--report", evalHTML, "--report-worst", "2"])
        XCTAssertEqual(eval.status, 1, "a failed input still fails the command")
        XCTAssertTrue(eval.stdout.hasPrefix("CER "), "the rates still print")
        let evalPage = try String(contentsOfFile: evalHTML, encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(evalPage.utf8)).parse(), "well-formed")
        for id in ["id=\"summary\"", "id=\"utterances\"", "id=\"confusions\"", "id=\"failures\"", "gone.wav", "95% interval"] {
            XCTAssertTrue(evalPage.contains(id), id)
        }
        // At most two utterances get audio and a figure.
        let players = evalPage.components(separatedBy: "<audio ").count - 1
        let figures = evalPage.components(separatedBy: "src=\"data:image/png;base64,").count - 1
        XCTAssertEqual(players, figures)
        XCTAssertLessThanOrEqual(players, 2)
        let bad = try hark(["eval", "--model", out, manifest, "--report-worst", "1000"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--report-worst 1000 must be in 0…200"), bad.stderr)
    }
}

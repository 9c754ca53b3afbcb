import Foundation
import HarkPlot
import HarkTestSupport
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

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
            (["plot", sample, "-o", path("x.png"), "--start=-1"], "must be a time from 0"),
            // A negative number after a space is the option's value, not another option.
            (["plot", sample, "-o", path("x.png"), "--start", "-1"], "--start -1.0 must be a time from 0"),
            (["plot", sample, "-o", path("x.png"), "--end", "-2"], "must"),
            (["plot", sample, "-o", path("x.png"), "--start", "1e15"], "must be a time from 0 to 1000000000 s"),
            (["plot", sample, "-o", path("x.png"), "--start", "nan"], "must be a time from 0"),
            (["plot", sample, "-o", path("x.png"), "--end", "700"], "longer than 600 s"),
            (["plot", sample, "-o", path("x.png"), "--width", "10"], "--width 10 must be in 400…8000"),
            (["plot", "no/such.wav", "-o", path("x.png")], "no/such.wav"),
            (["plot", sample, "-o", path("x.png"), "--start", "5"], "no audio in the window from 5.0 s"),
            (["plot", sample, "-o", path("x.png"), "--model", path("nomodel")], "nomodel"),
            (["plot", sample, "-o", path("no/dir/x.png")], "no/dir/x.png")
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

    func testOutputsNeverReplaceTheirInputs() throws {
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let log = run.appendingPathComponent("train.log.jsonl")
        let line = "{\"elapsed\":1,\"epoch\":0,\"step\":1,\"type\":\"step\",\"loss\":2}\n"
        try line.write(to: log, atomically: true, encoding: .utf8)
        // Through the directory's own path and through a symbolic link to it.
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: run.path)
        for target in [log.path, path("link") + "/train.log.jsonl"] {
            let r = try hark(["report", run.path, "-o", target])
            XCTAssertNotEqual(r.status, 0, target)
            XCTAssertTrue(r.stderr.contains("is an input"), r.stderr)
        }
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), line, "the log is untouched")

        let manifest = path("m.jsonl")
        let text = "{\"audio_filepath\": \"\(repositoryRoot.path)/\(sample)\", \"text\": \"ENTER SEVEN\"}\n"
        try text.write(toFile: manifest, atomically: true, encoding: .utf8)
        for target in [manifest, "\(repositoryRoot.path)/\(sample)"] {
            let r = try hark(["eval", manifest, "--report", target])
            XCTAssertNotEqual(r.status, 0, target)
            XCTAssertTrue(r.stderr.contains("is an input"), r.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: manifest, encoding: .utf8), text)
        let worst = try hark(["eval", manifest, "--report-worst", "3"])
        XCTAssertNotEqual(worst.status, 0)
        XCTAssertTrue(worst.stderr.contains("--report-worst needs --report"), worst.stderr)
    }

    func testHostileRunsStillReport() throws {
        // Numbers past every range, and a directory name with control characters.
        let run = dir.appendingPathComponent("run\u{1}\u{1B}[31m<b>")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try """
        {"type":"step","step":1,"epoch":0,"elapsed":1e19,"loss":1e38}
        {"type":"step","step":2,"epoch":0,"elapsed":-1e300,"loss":-3}
        {"type":"epoch","epoch":9223372036854775807,"step":2,"elapsed":1,"valid_cer":0.5}
        {"type":"epoch","epoch":0,"step":1,"elapsed":1,"valid_cer":1e308,"valid_wer":-1,"best":true}

        """.write(to: run.appendingPathComponent("train.log.jsonl"), atomically: true, encoding: .utf8)
        let r = try hark(["report", run.path, "-o", "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Impossible values are skipped and noted, never drawn or made the best epoch.
        XCTAssertTrue(r.stdout.contains("3 event(s) with impossible values"), r.stdout)
        XCTAssertFalse(r.stdout.contains("inf") || r.stdout.contains("-100.00"), r.stdout)
        XCTAssertTrue(XMLParser(data: Data(r.stdout.utf8)).parse(), "well-formed despite the control characters")
        XCTAssertTrue(r.stdout.contains("run\u{FFFD}\u{FFFD}[31m&lt;b&gt;"))
    }

    func testPlotReadsStandardInputAsAStream() throws {
        let wav = try Data(contentsOf: repositoryRoot.appendingPathComponent(sample))
        let png = path("stdin.png")
        let r = try hark(["plot", "-", "-o", png, "--end", "1"], stdin: wav)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("1.00 s of audio"), r.stderr)
        // 11 minutes of 16 kHz audio on standard input, no window: refused at 600 s, not held whole.
        var long = Data(wav.prefix(44))
        let samples = 11 * 60 * 16_000
        long.replaceSubrange(40..<44, with: withUnsafeBytes(of: UInt32(2 * samples).littleEndian) { Data($0) })
        long.replaceSubrange(4..<8, with: withUnsafeBytes(of: UInt32(36 + 2 * samples).littleEndian) { Data($0) })
        long.append(Data(count: 2 * samples))
        let tooLong = try hark(["plot", "-", "-o", path("long.png")], stdin: long)
        XCTAssertEqual(tooLong.status, 1)
        XCTAssertTrue(tooLong.stderr.contains("longer than 600 s"), tooLong.stderr)
    }

    func testReportOfATrainingRunAndEvalReport() throws {
        let out = path("run")
        let train = try hark([
            "train", "--train", tiny.appendingPathComponent("train.jsonl").path, "--valid", tiny.appendingPathComponent("train.jsonl").path,
            "--out", out, "--epochs", "3", "--hidden-size", "16", "--num-layers", "1", "--batch-size", "2"
        ])
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
        try (lines + "{\"audio_filepath\": \"\(path("gone.wav"))\", \"text\": \"GONE\"}\n").write(
            toFile: manifest, atomically: true, encoding: .utf8)
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

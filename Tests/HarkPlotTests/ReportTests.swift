import Foundation
import HarkASR
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkPlot

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses a report as XML (reports are written well-formed) and collects what the checks need.
final class PageOutline: NSObject, XMLParserDelegate {
    var ids: [String] = []
    var classes: [String: Int] = [:]
    var images: [String] = []
    var audio: [String] = []
    var svgs = 0
    var text = ""

    static func parse(_ html: String) throws -> PageOutline {
        let outline = PageOutline()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = outline
        guard parser.parse() else {
            throw PlotError("not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
        return outline
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if let id = attributes["id"] { ids.append(id) }
        for c in (attributes["class"] ?? "").split(separator: " ") { classes[String(c), default: 0] += 1 }
        if element == "img", let src = attributes["src"] { images.append(src) }
        if element == "audio", let src = attributes["src"] { audio.append(src) }
        if element == "svg" { svgs += 1 }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    static func bytes(ofDataURI uri: String) -> [UInt8]? {
        guard let comma = uri.firstIndex(of: ","), uri[..<comma].hasSuffix(";base64") else { return nil }
        return Data(base64Encoded: String(uri[uri.index(after: comma)...])).map { [UInt8]($0) }
    }
}

final class ReportTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testTrainingReportHasCurvesValidationAndNotes() throws {
        var log = ""
        for step in 1...2000 {
            log +=
                "{\"elapsed\":\(Double(step) * 0.1),\"epoch\":\(step / 500),\"frames_per_s\":\(1000 + step % 7),\"grad_norm\":\(2.0 + Double(step % 5)),\"loss\":\(5.0 / Double(step).squareRoot()),\"lr\":0.001,\"skipped_nonfinite\":0,\"step\":\(step),\"type\":\"step\"}\n"
            if step % 500 == 0 {
                let cer = [0.3, 0.2, 0.15, 0.18][step / 500 - 1]
                log +=
                    "{\"best\":\(cer == 0.15),\"elapsed\":\(Double(step) * 0.1),\"epoch\":\(step / 500 - 1),\"step\":\(step),\"type\":\"epoch\",\"valid_cer\":\(cer),\"valid_wer\":\(cer * 2)}\n"
            }
        }
        log += "{\"elapsed\":200.1,\"epoch\":4,\"frames_per_s\":10"  // a line cut short by a kill
        try log.write(to: dir.appendingPathComponent("train.log.jsonl"), atomically: true, encoding: .utf8)
        let report = try TrainingReport(runDirectory: dir.path)
        XCTAssertEqual(report.steps.count, 2000)
        XCTAssertEqual(report.epochs.count, 4)
        XCTAssertEqual(report.bestEpoch?.epoch, 2)
        XCTAssertTrue(report.notes.contains { $0.contains("skipped") && $0.contains("line 2005") }, "\(report.notes)")
        let page = try PageOutline.parse(report.html())
        for id in ["curves", "validation", "options"] { XCTAssertTrue(page.ids.contains(id), id) }
        XCTAssertEqual(page.svgs, 5, "loss, learning rate, gradient norm, throughput, validation")
        XCTAssertTrue(page.text.contains("best: epoch 3"), "counted from 1, as hark train prints epochs")
        XCTAssertTrue(page.text.contains("CTC loss") && page.text.contains("Gradient norm") && page.text.contains("Throughput"))
        // 2000 steps are averaged into at most 800 points per curve.
        let (line, band) = TrainingReport.bucketed(report.steps.map { (Double($0.step), Double($0.loss!)) })
        XCTAssertLessThanOrEqual(line.count, TrainingReport.maxPoints)
        XCTAssertEqual(line.count, band.count)
        XCTAssertTrue(zip(line, band).allSatisfy { $0.y >= $1.low && $0.y <= $1.high })
    }

    func testTrainingReportErrorsNameTheProblem() throws {
        XCTAssertThrowsError(try TrainingReport(runDirectory: dir.appendingPathComponent("none").path)) {
            XCTAssertTrue("\($0)".contains("not a directory"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingReport(runDirectory: dir.path)) { XCTAssertTrue("\($0)".contains("no training log"), "\($0)") }
        try "garbage\n\u{0}\u{1}\n".write(to: dir.appendingPathComponent("train.log.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingReport(runDirectory: dir.path)) { XCTAssertTrue("\($0)".contains("no training events"), "\($0)") }
    }

    func testEvaluationReportRanksAlignsAndEmbeds() throws {
        let utterances = [
            EvaluationReport.Utterance(path: "ok.wav", reference: "YES", hypothesis: "YES"),
            EvaluationReport.Utterance(path: "one.wav", reference: "GO NOW", hypothesis: "GO NO"),
            EvaluationReport.Utterance(path: "worst.wav", reference: "A B C D", hypothesis: "A X C E F"),
            EvaluationReport.Utterance(path: "del.wav", reference: "STOP IT", hypothesis: "IT")
        ]
        var report = EvaluationReport(
            title: "test <eval>", facts: ["model m"], utterances: utterances,
            failed: [(path: "bad & broken.wav", message: "truncated")], worst: 2)
        report.replications = 500
        XCTAssertEqual(report.ranked.map(\.path), ["worst.wav", "del.wav", "one.wav"])
        let figure = try AudioFigure.make(
            samples: (0..<8000).map { Float(sin(Double($0) * 0.3)) * 0.3 }, sampleRate: 16_000,
            transcriber: nil, title: "x", width: 600)
        let png = try figure.render(.png)
        var asked: [String] = []
        let html = report.html { u in
            asked.append(u.path)
            return .init(figurePNG: png, wav: wavFile(samples: [0, 0.5, -0.5], sampleRate: 16_000))
        }
        XCTAssertEqual(asked, ["worst.wav", "del.wav"], "media only for the worst")
        let page = try PageOutline.parse(html)
        for id in ["summary", "utterances", "confusions", "failures", "utt-1", "utt-3"] { XCTAssertTrue(page.ids.contains(id), id) }
        // Marked cells: each edit in both rows, plus the legend's sample.
        // worst.wav: A, B→X, C, +E, D→F; one.wav: NOW→NO; del.wav: STOP deleted.
        XCTAssertEqual(page.classes["S"], 1 + 2 * 2 + 2)
        XCTAssertEqual(page.classes["I"].map { $0 - 1 }, 2, "one insertion, in both rows")
        XCTAssertEqual(page.classes["D"].map { $0 - 1 }, 2, "one deletion, in both rows")
        XCTAssertEqual(page.images.count, 2)
        let decoded = try RasterImage(png: XCTUnwrap(PageOutline.bytes(ofDataURI: page.images[0])))
        XCTAssertEqual(decoded.width, 600)
        XCTAssertEqual(page.audio.count, 2)
        XCTAssertEqual(PageOutline.bytes(ofDataURI: page.audio[0]).map { Array($0.prefix(4)) }, Array("RIFF".utf8))
        XCTAssertTrue(page.text.contains("bad & broken.wav"), "escaped and shown")
        XCTAssertTrue(page.text.contains("test <eval>"))
        XCTAssertTrue(page.text.contains("95% interval"))
        // Confusions: B heard as X; the deleted STOP's characters under ∅.
        let table = report.confusions
        XCTAssertEqual(table["B"]?["X"], 1)
        XCTAssertEqual(table["S"]?["∅"], 1)
        XCTAssertEqual(table["W"]?["∅"], 1, "NOW → NO")
        // Word errors, commonest first; no per-word accuracy for sentences.
        XCTAssertTrue(page.ids.contains("words"))
        XCTAssertFalse(report.isolatedWords)
        let errors = report.wordErrors
        XCTAssertEqual(errors.count, 5)
        XCTAssertTrue(errors.contains { $0 == ("STOP", "∅", 1) } && errors.contains { $0 == ("∅", "E", 1) })
        XCTAssertFalse(page.text.contains("Accuracy per word"))
    }

    /// Isolated words (digits): which word goes wrong most, and as what.
    func testEvaluationReportOfIsolatedWords() throws {
        var utterances: [EvaluationReport.Utterance] = []
        for _ in 0..<3 { utterances.append(.init(path: "six.wav", reference: "SIX", hypothesis: "FIVE")) }
        utterances.append(.init(path: "six2.wav", reference: "SIX", hypothesis: "SIX"))
        for _ in 0..<4 { utterances.append(.init(path: "two.wav", reference: "TWO", hypothesis: "TWO")) }
        utterances.append(.init(path: "two2.wav", reference: "TWO", hypothesis: "ZERO"))
        var report = EvaluationReport(title: "digits", facts: [], utterances: utterances, worst: 0)
        report.replications = 100
        XCTAssertTrue(report.isolatedWords)
        XCTAssertEqual(report.wordErrors.first.map { [$0.reference, $0.hypothesis, "\($0.count)"] }, ["SIX", "FIVE", "3"])
        XCTAssertEqual(report.wordAccuracy.map(\.word), ["SIX", "TWO"], "least accurate first")
        XCTAssertEqual(report.wordAccuracy.first.map { [$0.said, $0.right] }, [4, 1])
        let page = try PageOutline.parse(report.html { _ in .init() })
        XCTAssertTrue(page.text.contains("Accuracy per word"))
        XCTAssertTrue(page.text.contains("25.0%"))
    }

    func testWAVFileHeader() {
        let wav = wavFile(samples: [0, 1, -1, 0.5], sampleRate: 8000)
        XCTAssertEqual(wav.count, 44 + 8)
        XCTAssertEqual(Array(wav[0..<4]), Array("RIFF".utf8))
        XCTAssertEqual(Array(wav[8..<16]), Array("WAVEfmt ".utf8))
        XCTAssertEqual(Int(wav[24]) | Int(wav[25]) << 8, 8000)
        XCTAssertEqual(Int16(bitPattern: UInt16(wav[46]) | UInt16(wav[47]) << 8), 32767, "1.0 clips to the largest sample")
        XCTAssertEqual(Int16(bitPattern: UInt16(wav[48]) | UInt16(wav[49]) << 8), -32768)
    }
}

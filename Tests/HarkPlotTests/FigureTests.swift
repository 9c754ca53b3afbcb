import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkPlot

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The `hark plot` figure drawn from known signals: the picture decodes with
/// the size its layout says, and energy shows where it must (pixel rows of a
/// tone and a chirp, columns of silence and sound).
final class FigureTests: XCTestCase {
    let rate = 16_000

    /// `silence` seconds of silence, then a tone (or a chirp from `f0` to `f1`) of `seconds`.
    func signal(silence: Double, seconds: Double, f0: Double, f1: Double? = nil, amplitude: Float = 0.5) -> [Float] {
        let n0 = Int(silence * Double(rate)), n = Int(seconds * Double(rate))
        var out = [Float](repeating: 0, count: n0)
        let k = ((f1 ?? f0) - f0) / seconds  // Hz per second
        for i in 0..<n {
            let t = Double(i) / Double(rate)
            out.append(amplitude * Float(sin(2 * Double.pi * (f0 * t + k * t * t / 2))))
        }
        return out
    }

    func figure(_ samples: [Float], width: Int = 1000) throws -> AudioFigure {
        try AudioFigure.make(samples: samples, sampleRate: rate, transcriber: nil, title: "test", width: width)
    }

    func luminance(_ c: Color) -> Double { 0.299 * c.r + 0.587 * c.g + 0.114 * c.b }

    /// The mel bin drawn brightest in pixel column x of the spectrogram panel.
    func brightestBin(_ image: RasterImage, _ layout: AudioFigure.Layout, x: Int) -> (bin: Int, luminance: Double) {
        var best = (bin: -1, luminance: -1.0)
        let r = layout.spectrogram
        for y in Int(r.y.rounded(.up)) + 1..<Int(r.maxY) - 1 {
            let l = luminance(image.pixel(x, y))
            if l > best.luminance, let b = layout.bin(atY: Double(y) + 0.5) { best = (b, l) }
        }
        return best
    }

    func mel(_ f: Double) -> Double { 1127 * log(1 + f / 700) }

    func testPNGDecodesWithTheLayoutsSize() throws {
        for width in [400, 1000, 1777] {
            let f = try figure(signal(silence: 0.2, seconds: 0.5, f0: 440), width: width)
            let image = try RasterImage(png: f.render(.png))
            XCTAssertEqual(image.width, width)
            XCTAssertEqual(image.width, f.layout.width)
            XCTAssertEqual(image.height, f.layout.height)
        }
    }

    func testToneShowsAtItsFrequencyAndOnlyWhereItSounds() throws {
        for tone in [500.0, 1000, 3000, 6000] {
            let f = try figure(signal(silence: 1, seconds: 1, f0: tone))
            let l = f.layout
            let image = try RasterImage(png: f.render(.png))
            let centers = f.binFrequencies
            // Mel bins are evenly spaced in mel: the tone's bin is the one whose centre is nearest in mel.
            let expected = centers.indices.min { abs(mel(centers[$0]) - mel(tone)) < abs(mel(centers[$1]) - mel(tone)) }!
            for t in stride(from: 1.1, through: 1.9, by: 0.1) {
                let (bin, lum) = brightestBin(image, l, x: Int(l.x(t)))
                XCTAssertLessThanOrEqual(
                    abs(bin - expected), 1, "\(tone) Hz at \(t) s: brightest bin \(bin) (\(centers[bin]) Hz), expected \(expected)")
                XCTAssertGreaterThan(lum, 0.8, "the tone is the loudest thing: the top of the colour scale")
            }
            // Digital silence before the tone: the bottom of the scale everywhere.
            for t in stride(from: 0.1, through: 0.8, by: 0.1) {
                XCTAssertLessThan(brightestBin(image, l, x: Int(l.x(t))).luminance, 0.15, "silence at \(t) s")
            }
        }
    }

    /// 330 s of frames are more than cairo's 32767-pixel image width: they are pooled into columns.
    func testLongRecordingsArePooledNotDropped() throws {
        let f = try figure(signal(silence: 10, seconds: 320, f0: 1000), width: 800)
        XCTAssertGreaterThan(f.spectrogram.rows, 32_767)
        let l = f.layout
        let image = try RasterImage(png: f.render(.png))
        let centers = f.binFrequencies
        let expected = centers.indices.min { abs(mel(centers[$0]) - mel(1000)) < abs(mel(centers[$1]) - mel(1000)) }!
        for t in [20.0, 100, 200, 320] {
            let (bin, lum) = brightestBin(image, l, x: Int(l.x(t)))
            XCTAssertLessThanOrEqual(abs(bin - expected), 1, "at \(t) s")
            XCTAssertGreaterThan(lum, 0.8)
        }
        XCTAssertLessThan(brightestBin(image, l, x: Int(l.x(5))).luminance, 0.15, "the silence")
    }

    func testChirpRisesAcrossTheSpectrogram() throws {
        let (f0, f1, seconds) = (200.0, 7000.0, 2.0)
        let f = try figure(signal(silence: 0, seconds: seconds, f0: f0, f1: f1))
        let l = f.layout
        let image = try RasterImage(png: f.render(.png))
        let centers = f.binFrequencies
        let spacing = (mel(centers.last!) - mel(centers.first!)) / Double(centers.count - 1)
        var previous = -1
        for t in stride(from: 0.1, through: 1.9, by: 0.15) {
            let instantaneous = f0 + (f1 - f0) * t / seconds
            let (bin, _) = brightestBin(image, l, x: Int(l.x(t)))
            XCTAssertLessThanOrEqual(
                abs(mel(centers[bin]) - mel(instantaneous)), 1.5 * spacing,
                "at \(t) s the chirp is at \(instantaneous) Hz; brightest \(centers[bin]) Hz")
            XCTAssertGreaterThanOrEqual(bin, previous, "the chirp only rises")
            previous = bin
        }
    }

    func testWaveformIsDrawnWhereTheSoundIs() throws {
        // 2 kHz: every point column (about 36 samples) holds whole periods, so reaches both peaks.
        let f = try figure(signal(silence: 1, seconds: 1, f0: 2000, amplitude: 0.5))
        let l = f.layout
        let image = try RasterImage(png: f.render(.png))
        let background = Color(hex: 0xFAFAFA)
        /// The vertical extent, in pixels, of the waveform's colour in column x.
        func extent(_ x: Int) -> Int {
            let ys = (Int(l.waveform.y) + 2..<Int(l.waveform.maxY) - 2).filter {
                let c = image.pixel(x, $0)
                return c != background && c.b > c.r + 0.2  // the waveform's blue, not the grey centre line
            }
            return (ys.max() ?? 0) - (ys.min() ?? 0)
        }
        let half = (l.waveform.height / 2 - 2)
        for t in stride(from: 0.1, through: 0.9, by: 0.1) { XCTAssertLessThanOrEqual(extent(Int(l.x(t))), 2, "silence at \(t) s") }
        for t in stride(from: 1.1, through: 1.9, by: 0.1) {
            // Amplitude 0.5 spans half the panel's height above and below the centre.
            XCTAssertEqual(Double(extent(Int(l.x(t)))), half, accuracy: 4, "tone at \(t) s")
        }
    }

    func testPosteriorgramOutlinesTheDecodedPath() throws {
        // Four tokens, 50 frames of 30 ms: blank everywhere except token 2 on frames 10…14 and token 3 on 30…32.
        let (T, K, spf) = (50, 4, 0.03)
        var lp = Matrix(rows: T, cols: K)
        for t in 0..<T {
            let k = (10...14).contains(t) ? 2 : ((30...32).contains(t) ? 3 : 0)
            for j in 0..<K { lp[t, j] = j == k ? log(0.97) : log(0.01) }
        }
        var f = try figure([Float](repeating: 0, count: Int(Double(T) * spf * Double(rate))))
        f.posteriors = .init(
            logProbabilities: lp, tokens: ["<blank>", " ", "A", "B"], secondsPerFrame: spf,
            path: [(2, 10, 14), (3, 30, 32)], words: [(word: "AB", start: 0.3, end: 0.99)])
        let l = f.layout
        let post = try XCTUnwrap(l.posteriorgram)
        let image = try RasterImage(png: f.render(.png))
        let rowHeight = post.height / Double(K)
        func isAccent(_ c: Color) -> Bool { c.r > 0.8 && c.g < 0.55 && c.b < 0.45 }
        // Token 2's outline: its top edge over frames 10…14, not over frames 20…25.
        let top = Int(post.y + 2 * rowHeight)
        let inside = (Int(l.x(0.33))...Int(l.x(0.42))).filter { x in (top - 1...top + 1).contains { isAccent(image.pixel(x, $0)) } }
        XCTAssertGreaterThan(inside.count, Int(l.x(0.42)) - Int(l.x(0.33)) - 3)
        let outside = (Int(l.x(0.62))...Int(l.x(0.75))).filter { x in (top - 1...top + 1).contains { isAccent(image.pixel(x, $0)) } }
        XCTAssertEqual(outside.count, 0)
        // A probable cell is dark, an improbable one light.
        let dark = luminance(image.pixel(Int(l.x(0.36)), Int(post.y + 2.5 * rowHeight)))
        let light = luminance(image.pixel(Int(l.x(0.36)), Int(post.y + 1.5 * rowHeight)))
        XCTAssertLessThan(dark, 0.3)
        XCTAssertGreaterThan(light, 0.9)
        // The word's boundaries are dashed lines through the panel at 0.3 s and 0.99 s.
        for t in [0.3, 0.99] {
            let x = Int(l.x(t).rounded(.down))
            let marked = stride(from: Int(post.y) + 2, to: Int(post.maxY) - 2, by: 1).filter { y in
                (x - 1...x + 1).contains { isAccent(image.pixel($0, y)) }
            }
            XCTAssertGreaterThan(marked.count, Int(post.height) / 4, "boundary at \(t) s")
        }
    }

    func testSVGIsWellFormedAndSized() throws {
        let f = try figure(signal(silence: 0.1, seconds: 0.4, f0: 800), width: 900)
        let bytes = try f.render(.svg)
        final class Root: NSObject, XMLParserDelegate {
            var name: String?, attributes: [String: String] = [:], images = 0
            func parser(
                _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if name == nil { name = element; self.attributes = attributes }
                if element == "image" { images += 1 }
            }
        }
        let root = Root()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = root
        XCTAssertTrue(parser.parse(), "\(parser.parserError as Any)")
        XCTAssertEqual(root.name, "svg")
        XCTAssertEqual(Double(root.attributes["width"]!.filter { $0.isNumber || $0 == "." }), 900)
        XCTAssertEqual(Double(root.attributes["height"]!.filter { $0.isNumber || $0 == "." }), Double(f.layout.height))
        XCTAssertGreaterThanOrEqual(root.images, 1, "the spectrogram is an embedded image")
    }

    /// A window skipped to by seeking holds exactly the samples a full read has there.
    func testWindowOfAFileEqualsTheSameSamplesReadWhole() throws {
        let path = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path
        let whole = try AudioFigure.read(path: path, transcriber: nil)
        let window = try AudioFigure.read(path: path, transcriber: nil, start: 0.5, end: 1.0)
        XCTAssertEqual(window.startTime, 0.5)
        XCTAssertEqual(window.samples, Array(whole.samples[8000..<16000]))
        XCTAssertThrowsError(try AudioFigure.read(path: path, transcriber: nil, start: 5)) {
            XCTAssertTrue("\($0)".contains("no audio in the window from 5.0 s (the recording is 1.50 s long)"), "\($0)")
        }
    }

    func testEscapingKeepsPagesWellFormed() {
        XCTAssertEqual(escapeHTML("a<b>&\"c'\u{1}\u{7F}\u{FFFF}\td"), "a&lt;b&gt;&amp;&quot;c&#39;\u{FFFD}\u{FFFD}\u{FFFD}\td")
    }

    func testPictureFormatFromTheFileName() {
        XCTAssertEqual(PictureFormat(path: "a/b.PNG"), .png)
        XCTAssertEqual(PictureFormat(path: "x.svg"), .svg)
        XCTAssertNil(PictureFormat(path: "x.jpg"))
        XCTAssertNil(PictureFormat(path: "png"))
    }

    func testTooLargeAPictureIsRefused() {
        XCTAssertThrowsError(try Canvas(width: 100_000, height: 100_000, format: .png))
        XCTAssertThrowsError(try Canvas(width: 0, height: 10, format: .png))
    }
}

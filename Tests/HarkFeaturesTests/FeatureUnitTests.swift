import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkFeatures

/// Small hand-checked cases for each stage of the feature pipeline.
final class FeatureUnitTests: XCTestCase {
    func testWindowsAtKnownPoints() {
        // Length 5: a = 2π/4, so cos(a·i) = 1, 0, −1, 0, 1.
        let hann = WindowType.hanning.coefficients(length: 5)
        XCTAssertEqual(hann, [0, 0.5, 1, 0.5, 0], accuracy: 1e-7)
        let hamming = WindowType.hamming.coefficients(length: 5)
        XCTAssertEqual(hamming, [0.08, 0.54, 1, 0.54, 0.08], accuracy: 1e-6)
        let povey = WindowType.povey.coefficients(length: 5)
        XCTAssertEqual(povey, [0, Float(pow(0.5, 0.85)), 1, Float(pow(0.5, 0.85)), 0], accuracy: 1e-6)
        XCTAssertEqual(WindowType.rectangular.coefficients(length: 3), [1, 1, 1])
        // Blackman with c = 0.42 at i = 2 (middle): 0.42 + 0.5 + 0.08 = 1.
        XCTAssertEqual(WindowType.blackman.coefficients(length: 5)[2], 1, accuracy: 1e-6)
    }

    func testFrameCountsAndPositions() {
        var o = FrameOptions()  // 400-sample frames, 160-sample shift at 16 kHz
        XCTAssertEqual(o.windowSize, 400)
        XCTAssertEqual(o.windowShift, 160)
        XCTAssertEqual(o.paddedWindowSize, 512)
        XCTAssertEqual(o.frameCount(sampleCount: 399), 0)
        XCTAssertEqual(o.frameCount(sampleCount: 400), 1)
        XCTAssertEqual(o.frameCount(sampleCount: 16_000), 98)
        o.snipEdges = false
        XCTAssertEqual(o.frameCount(sampleCount: 16_000), 100)
        XCTAssertEqual(o.frameCount(sampleCount: 79), 0)
        XCTAssertEqual(o.frameCount(sampleCount: 80), 1)
        XCTAssertEqual(o.firstSample(ofFrame: 0), 80 - 200)
        o.roundToPowerOfTwo = false
        XCTAssertEqual(o.paddedWindowSize, 400)
    }

    func testDeltaFiltersAreKaldis() {
        // A single impulse shows the filters: order 1 = [-2 -1 0 1 2]/10 (time-reversed
        // in the output), order 2 = that filter convolved with itself.
        var x = Matrix(rows: 21, cols: 1)
        x[10, 0] = 1
        let d = addDeltas(x, order: 2, window: 2)
        XCTAssertEqual(d.cols, 3)
        let delta = (8...12).map { d[$0, 1] }
        XCTAssertEqual(delta, [0.2, 0.1, 0, -0.1, -0.2], accuracy: 1e-6)
        let accel = (6...14).map { d[$0, 2] }
        XCTAssertEqual(accel, [4, 4, 1, -4, -10, -4, 1, 4, 4].map { Float($0) / 100 }, accuracy: 1e-6)
        // A constant signal has zero deltas everywhere (edges are clamped, not zero-padded).
        let flat = addDeltas(Matrix(rows: 5, cols: 2, data: [Float](repeating: 3, count: 10)), order: 2)
        for t in 0..<5 { for c in 2..<6 { XCTAssertEqual(flat[t, c], 0, accuracy: 1e-6) } }
    }

    func testCmvn() {
        var m = Matrix([[1, 10], [2, 20], [3, 30], [6, 60]])
        var mean = m
        applyCmvn(&mean, mode: .mean)
        XCTAssertEqual(mean.data, [-2, -20, -1, -10, 0, 0, 3, 30], accuracy: 1e-5)
        applyCmvn(&m, mode: .meanvar)
        for c in 0..<2 {
            let col = (0..<4).map { m[$0, c] }
            XCTAssertEqual(col.reduce(0, +) / 4, 0, accuracy: 1e-6)
            XCTAssertEqual(col.map { $0 * $0 }.reduce(0, +) / 4, 1, accuracy: 1e-5)
        }
        // A constant column: variance floored, no NaN.
        var flat = Matrix(rows: 3, cols: 1, data: [2, 2, 2])
        applyCmvn(&flat, mode: .meanvar)
        XCTAssertEqual(flat.data, [0, 0, 0])
    }

    func testMelBanksCoverTheBand() throws {
        var mel = MelOptions()
        mel.numBins = 23
        let banks = try MelBanks(options: mel, sampleFrequency: 16_000, paddedWindowSize: 512)
        XCTAssertEqual(banks.count, 23)
        // Filters are ordered, within bins 0..<256, and peak at most 1.
        for m in 0..<23 {
            XCTAssertLessThanOrEqual(banks.offsets[m] + banks.weights[m].count, 256)
            XCTAssertLessThanOrEqual(banks.weights[m].max()!, 1)
            if m > 0 { XCTAssertGreaterThanOrEqual(banks.offsets[m], banks.offsets[m - 1]) }
        }
        mel.numBins = 200
        XCTAssertThrowsError(try MelBanks(options: mel, sampleFrequency: 8_000, paddedWindowSize: 256)) { error in
            XCTAssertTrue("\(error)".contains("num-mel-bins"), "\(error)")
        }
        mel.numBins = 23
        mel.highFreq = 9_000
        XCTAssertThrowsError(try MelBanks(options: mel, sampleFrequency: 16_000, paddedWindowSize: 512)) { error in
            XCTAssertTrue("\(error)".contains("8000"), "the message names the Nyquist frequency: \(error)")
        }
    }

    func testDitherIsSeededAndIndependentOfThreads() throws {
        var opts = MfccOptions()
        opts.frame.dither = 1
        opts.frame.ditherSeed = 7
        let samples = (0..<16_000).map { Float(sin(Double($0) * 0.01)) * 0.1 }
        let a = try FeatureExtractor(FeatureOptions(kind: .mfcc(opts)))
        let one = a.compute(samples, threads: 1)
        XCTAssertEqual(one, a.compute(samples, threads: 2))
        opts.frame.ditherSeed = 8
        let other = try FeatureExtractor(FeatureOptions(kind: .mfcc(opts))).compute(samples, threads: 1)
        XCTAssertNotEqual(one, other)
    }

    func testSilenceIsFlooredNotMinusInfinity() throws {
        var opts = FeatureOptions.fbank
        opts.frame.dither = 0
        let m = try FeatureExtractor(opts).compute([Float](repeating: 0, count: 1600))
        XCTAssertEqual(m.rows, 8)
        XCTAssertTrue(m.data.allSatisfy { $0 == logf(Float.ulpOfOne) })
    }

    func testShortInputGivesNoFrames() throws {
        let m = try FeatureExtractor(.mfcc).compute([Float](repeating: 0.1, count: 100))
        XCTAssertEqual(m.shape, [0, 13])
    }

    func testOptionsJSONRoundTripAndErrors() throws {
        var o = FbankOptions()
        o.mel.numBins = 80
        o.frame.snipEdges = false
        let opts = FeatureOptions(kind: .fbank(o), cmvn: .meanvar, deltas: 2)
        let json = try JSONEncoder().encode(opts)
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertTrue(text.contains("\"num_mel_bins\":80"), text)
        XCTAssertEqual(try JSONDecoder().decode(FeatureOptions.self, from: json), opts)
        XCTAssertEqual(opts.dimension, 240)
        let typo = Data(#"{"type": "mfcc", "num_mel_binz": 40}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: typo)) { error in
            XCTAssertTrue("\(error)".contains("num_mel_binz"), "\(error)")
        }
        let fbankOnly = Data(#"{"type": "mfcc", "use_power": false}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: fbankOnly))
    }

    func testInvalidOptionsAreNamed() {
        var o = MfccOptions()
        o.numCeps = 30
        XCTAssertThrowsError(try FeatureExtractor(FeatureOptions(kind: .mfcc(o)))) { XCTAssertTrue("\($0)".contains("num-ceps"), "\($0)") }
        o = MfccOptions()
        o.frame.frameShift = 0
        XCTAssertThrowsError(try FeatureExtractor(FeatureOptions(kind: .mfcc(o)))) {
            XCTAssertTrue("\($0)".contains("frame-shift"), "\($0)")
        }
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}

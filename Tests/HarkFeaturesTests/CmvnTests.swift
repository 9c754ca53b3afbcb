import Foundation
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkFeatures

/// CMVN statistics over the speech frames only (`--cmvn-frames speech`): the
/// features of an utterance do not change when silence is put around it, as
/// they do with Kaldi's statistics over every frame.
final class CmvnTests: XCTestCase {
    let rate = 16_000

    func speech() throws -> [Float] {
        try AudioLoader.load(
            repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path,
            options: AudioLoadOptions(targetSampleRate: rate)
        ).waveform.samples
    }

    /// 1 s of near-silence (white noise at −80 dBFS) before and after: 100 frame shifts each.
    func padded(_ x: [Float]) -> [Float] {
        var rng = SeededGenerator(seed: 2)
        let pad = { (0..<self.rate).map { _ in 1e-4 * rng.nextGaussian() } }
        return pad() + x + pad()
    }

    func options(_ type: FeatureType, _ frames: CmvnFrames, energy: Bool = false) -> FeatureOptions {
        var o = FeatureOptions(type: type)
        o.cmvn = .meanvar
        o.cmvnFrames = frames
        switch o.kind {
        case .fbank(var f): f.mel.numBins = 40; f.useEnergy = energy; o.kind = .fbank(f)
        case .mfcc(var m): m.useEnergy = energy; o.kind = .mfcc(m)
        }
        return o
    }

    func testSpeechFramesIgnoreSilenceAroundTheUtterance() throws {
        let x = try speech(), y = padded(x)
        for (type, energy) in [(FeatureType.fbank, false), (.fbank, true), (.mfcc, true), (.mfcc, false)] {
            let speech = try FeatureExtractor(options(type, .speech, energy: energy))
            let a = speech.compute(x), b = speech.compute(y)
            let D = a.cols
            // Frame t of the clip is frame t + 100 of the padded recording: the same samples.
            let inside = Array(b.data[(100 * D)..<((100 + a.rows) * D)])
            XCTAssertEqual(inside, a.data, "\(type), energy \(energy): speech-frame CMVN moved with the silence")
            // Kaldi's statistics over all frames do move (what this option is for).
            let all = try FeatureExtractor(options(type, .all, energy: energy))
            let c = all.compute(x), d = all.compute(y)
            let moved = compare(Array(d.data[(100 * D)..<((100 + c.rows) * D)]), c.data, absolute: 0.1)
            XCTAssertNotNil(moved.firstBad, "\(type): all-frame CMVN should change with 2 s of silence added; \(moved)")
        }
    }

    /// The streamed computation (two passes, statistics by level) gives the
    /// whole computation's features bit for bit.
    func testStreamedSpeechFrameCmvnEqualsTheWholeComputation() throws {
        let y = padded(try speech())
        for type in FeatureType.allCases {
            let extractor = try FeatureExtractor(options(type, .speech))
            var position = 0, rows: [Float] = []
            try extractor.computeStreaming(
                read: {
                    guard position < y.count else { return nil }
                    let n = min(3000, y.count - position)
                    defer { position += n }
                    return Array(y[position..<(position + n)])
                }, rewind: { position = 0 }, emit: { rows += $0.data })
            XCTAssertEqual(rows, extractor.compute(y).data, "\(type)")
        }
    }

    /// Frames within 40 dB of the loudest count: a tone at −20 dBFS with a
    /// −50 dBFS stretch (30 dB down, counted) and a −70 dBFS one (50 dB down, not).
    func testTheSpeechRangeIsFortyDecibels() throws {
        func tone(_ seconds: Double, _ db: Float) -> [Float] {
            (0..<Int(seconds * Double(rate))).map { i in powf(10, db / 20) * 1.4142 * sinf(2 * .pi * 500 * Float(i) / Float(rate)) }
        }
        var o = options(.fbank, .speech)
        o.cmvn = .mean
        let extractor = try FeatureExtractor(o)
        let withQuiet = extractor.computeBase(tone(0.5, -20) + tone(0.5, -50))
        let withQuieter = extractor.computeBase(tone(0.5, -20) + tone(0.5, -70))
        var a = CmvnStatistics(options: o, dimension: withQuiet.cols), b = CmvnStatistics(options: o, dimension: withQuieter.cols)
        a.add(withQuiet)
        b.add(withQuieter)
        // Against the loud half followed by digital silence (never counted): the
        // −70 dBFS half is left out too, the −50 dBFS half is not.
        let alone = extractor.computeBase(tone(0.5, -20) + [Float](repeating: 0, count: rate / 2))
        var c = CmvnStatistics(options: o, dimension: alone.cols)
        c.add(alone)
        let expected = c.transform().offset, got = b.transform().offset
        XCTAssertLessThan(zip(expected, got).map { abs($0 - $1) }.max()!, 0.05)
        XCTAssertGreaterThan(zip(expected, a.transform().offset).map { abs($0 - $1) }.max()!, 1)
    }
}

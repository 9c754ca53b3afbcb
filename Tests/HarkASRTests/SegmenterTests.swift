import Foundation
import HarkCore
import XCTest

@testable import HarkASR

/// `Segmenter` and `VoiceActivityDetector` on synthetic signals whose
/// boundaries are known: tone bursts ("speech") at −20 dBFS between
/// stretches of faint noise (−80 dBFS) or a noise floor, at 16 kHz, decided
/// every 10 ms, utterances starting on a 30 ms grid.
final class SegmenterTests: XCTestCase {
    let rate = 16_000, frame = 160, grid = 480

    /// A signal assembled from parts; `bursts` are the true speech spans (samples).
    struct Signal {
        var samples: [Float] = []
        var bursts: [Range<Int>] = []
        var rng = SeededGenerator(seed: 7)

        mutating func tone(_ seconds: Double, rate: Int, decibels: Float = -20, hertz: Float = 440, syllables: Bool = false) {
            let n = Int(seconds * Double(rate)), start = samples.count
            let amplitude = powf(10, decibels / 20) * Float(2).squareRoot()
            for i in 0..<n {
                let t = Float(i) / Float(rate)
                // Syllables: 4 Hz bursts of 200 ms with 50 ms gaps between them.
                let gate: Float = syllables && (t.truncatingRemainder(dividingBy: 0.25) >= 0.2) ? 0 : 1
                samples.append(gate * amplitude * sinf(2 * .pi * hertz * t) + 1e-4 * rng.nextGaussian())
            }
            bursts.append(start..<(start + n))
        }

        mutating func noise(_ seconds: Double, rate: Int, decibels: Float = -80) {
            let sigma = powf(10, decibels / 20)
            samples += (0..<Int(seconds * Double(rate))).map { _ in sigma * rng.nextGaussian() }
        }
    }

    func segmenter(_ configure: (inout SegmenterOptions) -> Void = { _ in }) throws -> Segmenter {
        var o = SegmenterOptions()
        configure(&o)
        return try Segmenter(options: o, sampleRate: rate, frameSamples: frame, gridSamples: grid)
    }

    func cut(_ s: Segmenter, _ samples: [Float], blocks: [Int] = [4096]) -> [AudioSegment] {
        var out: [AudioSegment] = [], position = 0, i = 0
        while position < samples.count {
            let n = min(blocks[i % blocks.count], samples.count - position)
            out += s.feed(Array(samples[position..<(position + n)]))
            position += n
            i += 1
        }
        return out + s.finish()
    }

    func testBurstsBetweenPausesAreCutWhereTheyAre() throws {
        var x = Signal()
        x.noise(1.0, rate: rate)
        x.tone(0.6, rate: rate)
        x.noise(1.2, rate: rate)  // longer than the endpoint: a cut
        x.tone(0.5, rate: rate, hertz: 300)
        x.noise(0.4, rate: rate)  // shorter: the same utterance
        x.tone(0.7, rate: rate, hertz: 600)
        x.noise(1.0, rate: rate)
        let segments = cut(try segmenter(), x.samples)
        XCTAssertEqual(segments.count, 2, "\(segments.map { ($0.start, $0.end) })")
        let spans = [x.bursts[0], x.bursts[1].lowerBound..<x.bursts[2].upperBound]
        let pad = Int(0.2 * Double(rate))
        for (s, truth) in zip(segments, spans) {
            // Speech starts and ends within a frame of the truth.
            XCTAssertEqual(Double(s.speechStart), Double(truth.lowerBound), accuracy: Double(frame))
            XCTAssertEqual(Double(s.speechEnd), Double(truth.upperBound), accuracy: Double(frame))
            // The padding around it, the start rounded down to the grid.
            XCTAssertEqual(s.start % grid, 0)
            XCTAssertTrue(
                s.speechStart - pad - grid < s.start && s.start <= s.speechStart - pad, "\(s.start) for speech at \(s.speechStart)")
            XCTAssertEqual(s.end, s.speechEnd + pad)
            XCTAssertEqual(s.samples, Array(x.samples[s.start..<s.end]))
        }
    }

    func testCutsDoNotDependOnBlockSizes() throws {
        var x = Signal()
        for k in 0..<6 {
            x.noise(0.3 + 0.25 * Double(k), rate: rate)
            x.tone(0.2 + 0.1 * Double(k), rate: rate, hertz: 200 + 50 * Float(k))
        }
        x.noise(0.5, rate: rate)
        let reference = cut(try segmenter(), x.samples, blocks: [x.samples.count])
        XCTAssertGreaterThanOrEqual(reference.count, 3)
        for blocks in [[1, 159, 161, 3000], [160], [7, 4096]] {
            XCTAssertEqual(cut(try segmenter(), x.samples, blocks: blocks), reference, "blocks \(blocks)")
        }
    }

    /// Speech on a noise floor 25 dB below it (white noise at −45 dBFS):
    /// the floor is tracked, the bursts are still found.
    func testANoiseFloorIsTracked() throws {
        var x = Signal()
        x.noise(2.0, rate: rate, decibels: -45)
        x.tone(0.8, rate: rate)
        x.noise(1.5, rate: rate, decibels: -45)
        x.tone(0.8, rate: rate)
        x.noise(1.0, rate: rate, decibels: -45)
        let segments = cut(try segmenter(), x.samples)
        XCTAssertEqual(segments.count, 2)
        for (s, truth) in zip(segments, x.bursts) {
            XCTAssertEqual(Double(s.speechStart), Double(truth.lowerBound), accuracy: Double(frame))
            XCTAssertEqual(Double(s.speechEnd), Double(truth.upperBound), accuracy: Double(frame))
        }
    }

    /// A clip cut tight around loud speech, with no quiet moment to take the
    /// floor from: its speech starts at its first sample.
    func testSpeechFromTheFirstSample() throws {
        var x = Signal()
        x.tone(0.5, rate: rate)
        x.noise(0.2, rate: rate)
        for blocks in [[x.samples.count], [100]] {
            let segments = cut(try segmenter(), x.samples, blocks: blocks)
            XCTAssertEqual(segments.count, 1)
            XCTAssertEqual(segments.first?.start, 0)
            XCTAssertEqual(segments.first?.speechStart, 0)
            XCTAssertEqual(Double(segments.first?.speechEnd ?? 0), Double(x.bursts[0].upperBound), accuracy: Double(frame))
        }
        // Shorter than the 0.3 s decided together.
        var short = Signal()
        short.tone(0.2, rate: rate)
        XCTAssertEqual(cut(try segmenter(), short.samples).map(\.speechStart), [0])
    }

    func testClicksAndSilenceMakeNoUtterance() throws {
        var x = Signal()
        x.noise(1, rate: rate)
        x.tone(0.03, rate: rate, decibels: -10)  // a 30 ms click: less than minSpeech
        x.noise(2, rate: rate)
        XCTAssertEqual(cut(try segmenter(), x.samples), [])
        // Digital silence, a DC offset, faint hiss below the floor.
        for samples in [[Float](repeating: 0, count: 48_000), [Float](repeating: 0.3, count: 48_000)] {
            XCTAssertEqual(cut(try segmenter(), samples), [])
        }
        var hiss = Signal()
        hiss.noise(3, rate: rate, decibels: -60)
        XCTAssertEqual(cut(try segmenter(), hiss.samples), [])
    }

    /// Speech that never pauses for the endpoint is cut at the longest
    /// utterance, in a gap between syllables, and goes on in the next.
    func testLongSpeechIsCutAtAQuietMoment() throws {
        var x = Signal()
        x.noise(0.5, rate: rate)
        x.tone(7, rate: rate, syllables: true)
        x.noise(1, rate: rate)
        let segments = cut(try segmenter { $0.maxUtterance = 2 }, x.samples)
        XCTAssertGreaterThanOrEqual(segments.count, 4)
        for (a, b) in zip(segments, segments.dropFirst()) {
            XCTAssertEqual(a.end, b.start, "contiguous: nothing lost between cuts")
            // The cut falls in a 50 ms gap between syllables: its sample is quiet.
            XCTAssertLessThan(abs(x.samples[a.end]), 0.01, "cut at \(a.end) in a syllable")
        }
        for s in segments { XCTAssertLessThanOrEqual(s.samples.count, 2 * rate) }
    }

    /// Between utterances only the padding is held, however long the silence.
    func testMemoryIsBoundedBetweenUtterances() throws {
        let s = try segmenter()
        var x = Signal()
        for _ in 0..<20 {
            x.samples = []
            x.noise(1, rate: rate)
            XCTAssertEqual(s.feed(x.samples), [])
            XCTAssertLessThanOrEqual(s.bufferedSamples, Int(0.2 * Double(rate)) + grid + frame)
        }
        XCTAssertEqual(s.samplesFed, 20 * rate)
    }

    func testOptionsAreChecked() {
        for bad: (inout SegmenterOptions) -> Void in [
            { $0.endpointSilence = 0 }, { $0.endpointSilence = .nan },
            { $0.speechPad = 0.5 }, { $0.maxUtterance = 0.5 },
            { $0.voiceActivity.threshold = -1 }, { $0.minSpeech = .infinity }
        ] {
            XCTAssertThrowsError(try segmenter(bad))
        }
    }
}

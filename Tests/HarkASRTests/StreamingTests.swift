import Foundation
import HarkAudio
import HarkCore
import HarkFeatures
import HarkTestSupport
import XCTest

@testable import HarkASR
@testable import HarkCTC

/// Streaming — audio in blocks, features as samples arrive, the network window
/// by window, decoding as log-probabilities arrive — gives exactly what
/// processing the whole recording at once gives.
final class StreamingTests: XCTestCase {
    /// A deterministic signal: two tones and seeded noise, in [-1, 1].
    func signal(_ n: Int) -> [Float] {
        var rng = SeededGenerator(seed: 7)
        return (0..<n).map { i in
            let t = Float(i) / 16_000
            return 0.3 * sinf(2 * .pi * 440 * t) + 0.2 * sinf(2 * .pi * 1234 * t) + 0.05 * rng.nextGaussian()
        }
    }

    /// Feeds `samples` in irregular blocks (1 sample to 5000).
    func streamed(_ extractor: FeatureExtractor, _ samples: [Float], threads: Int = 1) throws -> Matrix {
        let sizes = [1, 4096, 17, 400, 5000, 160, 3]
        var position = 0, block = 0, rows: [Float] = [], count = 0
        func read() -> [Float]? {
            guard position < samples.count else { return nil }
            let n = min(sizes[block % sizes.count], samples.count - position)
            block += 1
            defer { position += n }
            return Array(samples[position..<(position + n)])
        }
        try extractor.computeStreaming(
            threads: threads, read: read,
            rewind: {
                position = 0; block = 0
            }
        ) { m in
            rows += m.data
            count += m.rows
        }
        return Matrix(rows: count, cols: extractor.options.dimension, data: rows)
    }

    func testFeatureStreamEqualsWholeComputation() throws {
        var reflect = FbankOptions()
        reflect.frame.snipEdges = false
        reflect.mel.numBins = 40
        var dithered = MfccOptions()
        dithered.frame.dither = 1
        dithered.frame.ditherSeed = 3
        let cases: [(String, FeatureOptions)] = [
            ("mfcc", .mfcc),
            ("fbank, edges reflected, meanvar CMVN, 2 deltas", FeatureOptions(kind: .fbank(reflect), cmvn: .meanvar, deltas: 2)),
            ("mfcc, dither, mean CMVN, 1 delta of window 3", FeatureOptions(kind: .mfcc(dithered), cmvn: .mean, deltas: 1, deltaWindow: 3))
        ]
        for (name, options) in cases {
            let extractor = try FeatureExtractor(options)
            // Lengths: no frame at all, a few frames (shorter than the delta reach), many.
            for n in [100, 700, 1_000, 48_123] {
                let x = signal(n)
                let whole = extractor.compute(x)
                let stream = try streamed(extractor, x)
                XCTAssertEqual(stream.shape, whole.shape, "\(name), \(n) samples")
                let c = compare(stream.data, whole.data)
                XCTAssertNil(c.firstBad, "\(name), \(n) samples: bit for bit; \(c)")
                // On three threads (one long file's frames over the cores): the same bits.
                let threaded = try streamed(extractor, x, threads: 3)
                XCTAssertEqual(threaded.data.map(\.bitPattern), whole.data.map(\.bitPattern), "\(name), \(n) samples, 3 threads")
            }
        }
    }

    /// The default model on the bundled recording repeated: streaming through
    /// windows (small ones here, to have many) gives the whole computation's
    /// log-probabilities and transcript, greedy and beam, and "ENTER SEVEN"
    /// for the recording itself.
    func testTranscriberStreamEqualsWholeComputation() throws {
        let model = try AcousticModel.load(directory: repositoryRoot.appendingPathComponent("models/an4-blstm"))
        let path = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path
        let audio = try AudioLoader.load(path, options: AudioLoadOptions(targetSampleRate: model.config.sampleRate))
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let twice = dir.appendingPathComponent("twice.wav").path
        let samples = audio.waveform.samples + audio.waveform.samples
        XCTAssertTrue(FileManager.default.createFile(atPath: twice, contents: Data(WavBuilder.float32(samples))))

        let runs: [(DecoderOptions, [(Int, Int)])] = [(.greedy, [(1000, 100), (20, 5)]), (.beam(width: 16), [(7, 0)])]
        for (decoding, windows) in runs {
            let t = Transcriber(model: model, decoding: decoding)
            XCTAssertEqual(try t.transcribe(path: path).0.text, "ENTER SEVEN")
            t.segmentation = nil  // one utterance through the windows
            XCTAssertEqual(try t.transcribe(path: path).0.text, "ENTER SEVEN")
            for (chunk, context) in windows {
                t.chunkFrames = chunk
                t.contextFrames = context
                let lpWhole = t.logProbabilities(samples)
                let expected = t.decode(lpWhole, duration: Double(samples.count) / 16_000, activity: t.activity(samples))
                let (got, lp, _) = try t.transcribe(path: twice)
                XCTAssertEqual(lp.shape, lpWhole.shape)
                XCTAssertTrue(lp.data == lpWhole.data, "windows \(chunk)+\(context): the log-probabilities differ")
                XCTAssertEqual(got, expected, "windows \(chunk)+\(context), \(decoding)")
            }
        }
    }

    /// Compacting the beam's prefix tree and emission chain changes nothing,
    /// however often it happens, and the search is the same fed in blocks.
    func testBeamSearchCompactionChangesNothing() {
        var rng = SeededGenerator(seed: 11)
        let T = 600, K = 6
        var lp = Matrix(rows: T, cols: K)
        for t in 0..<T {
            // Peaky rows, as a CTC network's are: one class likely, blank often.
            let hot = rng.nextGaussian() > 0.3 ? Int(abs(rng.nextGaussian() * 10)) % K : 0
            var row = (0..<K).map { k in (k == hot ? 4 : 0) + rng.nextGaussian() }
            let m = row.max() ?? 0
            let z = logf(row.map { expf($0 - m) }.reduce(0, +)) + m
            row = row.map { $0 - z }
            for k in 0..<K { lp[t, k] = row[k] }
        }
        let options = BeamSearchOptions(width: 8, nBest: 4)
        func run(interval: Int, blocks: Int) -> [Hypothesis] {
            let s = PrefixBeamSearch(options).stream()
            s.compactionInterval = interval
            var start = 0
            while start < T {
                let end = min(T, start + blocks)
                s.consume(lp, rows: start..<end)
                start = end
            }
            return s.finish()
        }
        let reference = run(interval: Int.max, blocks: T)
        XCTAssertEqual(reference.count, 4)
        XCTAssertGreaterThan(reference[0].tokens.count, 50)
        for (interval, blocks) in [(100, T), (7, 333), (2, 50)] {
            let got = run(interval: interval, blocks: blocks)
            XCTAssertEqual(got.map(\.tokens), reference.map(\.tokens), "compaction every \(interval) frames")
            XCTAssertEqual(got.map(\.logProbability), reference.map(\.logProbability))
        }
        XCTAssertEqual(PrefixBeamSearch(options).decode(lp).map(\.tokens), reference.map(\.tokens))
    }

    /// A toy word LM whose scores depend on its state (the length of the last word).
    struct LastWordLM: WordLanguageModel {
        var beginSentence: Int { 0 }
        func score(_ state: Int, _ word: String) -> (log10: Float, next: Int, isUnknown: Bool) {
            (-Float(word.count % 3) - 0.5 * Float(state % 2), word.count, !words.contains(word))
        }
        func endSentence(_ state: Int) -> Float { -0.25 * Float(state) }
        var words: [String] { ["AB", "CAD", "BAD", "DA"] }
    }

    /// The same with a word scorer: compaction keeps every prefix's scorer
    /// state right, so scores and tokens are exactly those without it.
    func testBeamSearchCompactionWithWordScorerChangesNothing() {
        var rng = SeededGenerator(seed: 12)
        let tokens = ["<blank>", " ", "A", "B", "C", "D"]
        let T = 600, K = tokens.count
        var lp = Matrix(rows: T, cols: K)
        for t in 0..<T {
            let hot = rng.nextGaussian() > 0.3 ? Int(abs(rng.nextGaussian() * 10)) % K : 0
            var row = (0..<K).map { k in (k == hot ? 4 : 0) + rng.nextGaussian() }
            let m = row.max() ?? 0
            let z = logf(row.map { expf($0 - m) }.reduce(0, +)) + m
            row = row.map { $0 - z }
            for k in 0..<K { lp[t, k] = row[k] }
        }
        var words = WordDecodingOptions()
        words.hotwords = ["CAD": 1.5]
        let scorer = WordScorer(lm: LastWordLM(), options: words, tokens: tokens, space: 1)
        let options = BeamSearchOptions(width: 8, nBest: 4, tokenThreshold: -6, scorer: scorer)
        func run(interval: Int, blocks: Int) -> [Hypothesis] {
            let s = PrefixBeamSearch(options).stream()
            s.compactionInterval = interval
            var start = 0
            while start < T {
                let end = min(T, start + blocks)
                s.consume(lp, rows: start..<end)
                start = end
            }
            return s.finish()
        }
        let reference = run(interval: Int.max, blocks: T)
        XCTAssertEqual(reference.count, 4)
        XCTAssertGreaterThan(reference[0].tokens.count, 50)
        XCTAssertNotEqual(reference[0].scorerScore, 0)
        for (interval, blocks) in [(100, T), (7, 333), (2, 50)] {
            let got = run(interval: interval, blocks: blocks)
            XCTAssertEqual(got.map(\.tokens), reference.map(\.tokens), "compaction every \(interval) frames")
            XCTAssertEqual(got.map(\.score), reference.map(\.score))
            XCTAssertEqual(got.map(\.scorerScore), reference.map(\.scorerScore))
        }
    }
}

import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkASR

/// Each augmentation does what it says on a known signal; augmented training
/// is deterministic and resumes exactly.
final class AugmentationTests: XCTestCase {
    let rate = 16_000

    func tone(_ hz: Double, seconds: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { amplitude * Float(sin(2 * Double.pi * hz * Double($0) / Double(16_000))) }
    }

    func power(_ x: [Float]) -> Double { x.reduce(0) { $0 + Double($1 * $1) } / Double(max(x.count, 1)) }

    /// Power of x between two frequencies, by a DFT of its first n samples (Hann window).
    func bandPower(_ x: [Float], from lo: Double, to hi: Double, n: Int = 2048) -> Double {
        var total = 0.0
        let w = (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)) }
        for k in 0...(n / 2) {
            let f = Double(k) * Double(rate) / Double(n)
            guard f >= lo && f < hi else { continue }
            var re = 0.0, im = 0.0
            for t in 0..<n {
                let a = 2 * Double.pi * Double(k * t) / Double(n)
                re += Double(x[t]) * w[t] * cos(a)
                im -= Double(x[t]) * w[t] * sin(a)
            }
            total += re * re + im * im
        }
        return total
    }

    func testSpeedChangesDurationByTheFactor() throws {
        let x = tone(440, seconds: 1)
        for factor in [0.9, 1.1] {
            let y = try Augmentation().changeSpeed(x, by: factor, sampleRate: rate)
            XCTAssertEqual(Double(y.count), Double(x.count) / factor, accuracy: Double(x.count) * 0.002, "factor \(factor)")
        }
    }

    func testMixedSignalHasTheDrawnSNR() {
        var rng = SeededGenerator(seed: 3)
        let x = tone(300, seconds: 0.5)
        for kind in Augmentation.NoiseKind.allCases where kind != .babble {
            let n = Augmentation().generateNoise(kind, count: x.count, sources: .init(), rng: &rng)
            for snr in [-3.0, 10.0, 20.0] {
                let y = Augmentation().mix(x, n, snrDecibels: snr)
                let added = zip(y, x).map { $0 - $1 }
                XCTAssertEqual(10 * log10(power(x) / power(added)), snr, accuracy: 0.1, "\(kind) at \(snr) dB")
            }
        }
    }

    func testNoiseKindsHaveTheirSlopes() {
        var rng = SeededGenerator(seed: 5)
        func highFraction(_ kind: Augmentation.NoiseKind) -> Double {
            let n = Augmentation().generateNoise(kind, count: 2048, sources: .init(), rng: &rng)
            return bandPower(n, from: 2000, to: 8000) / bandPower(n, from: 50, to: 8000)
        }
        let white = highFraction(.white), pink = highFraction(.pink), brown = highFraction(.brown)
        XCTAssertEqual(white, 0.75, accuracy: 0.1, "white: flat, so 2–8 kHz holds 3/4 of the power")
        XCTAssertLessThan(pink, white / 2)
        XCTAssertLessThan(brown, pink / 2)
        // Babble is other utterances summed (from different places: uncorrelated, so their powers add).
        let speech = rng.gaussians(count: 3_200)
        let babble = Augmentation().generateNoise(.babble, count: 1000, sources: .init { _ in speech }, rng: &rng)
        XCTAssertGreaterThan(power(babble), power(speech))
    }

    func testTelephoneBandRemovesEnergyAbove4kHz() throws {
        var rng = SeededGenerator(seed: 1)
        let x = (0..<rate).map { _ in rng.nextGaussian() * 0.1 }
        var a = Augmentation()
        a.telephoneProbability = 1
        let y = try a.apply(x, sampleRate: rate, noise: .init(), rng: &rng)
        XCTAssertEqual(y.count, x.count, accuracy: 2)
        let segment = Array(y[4000..<6048]), original = Array(x[4000..<6048])
        XCTAssertLessThan(bandPower(segment, from: 4300, to: 8000) / bandPower(original, from: 4300, to: 8000), 1e-3)
        XCTAssertEqual(bandPower(segment, from: 300, to: 3400) / bandPower(original, from: 300, to: 3400), 1, accuracy: 0.1)
    }

    func testTelephoneRateDrawnFromItsRangeSetsTheBandEdge() throws {
        var rng = SeededGenerator(seed: 2)
        let x = (0..<rate).map { _ in rng.nextGaussian() * 0.1 }
        var a = Augmentation()
        a.telephoneProbability = 1
        a.telephoneRates = [6000, 6000]
        let y = try a.apply(x, sampleRate: rate, noise: .init(), rng: &rng)
        let segment = Array(y[4000..<6048]), original = Array(x[4000..<6048])
        XCTAssertLessThan(bandPower(segment, from: 3300, to: 8000) / bandPower(original, from: 3300, to: 8000), 1e-3, "nothing above 3 kHz")
        XCTAssertEqual(bandPower(segment, from: 300, to: 2200) / bandPower(original, from: 300, to: 2200), 1, accuracy: 0.1)
        // A range draws a rate per utterance: the edge moves (SoX's resampler passes
        // about 91% of the band below half the rate, and stops everything above it).
        a.telephoneRates = [6000, 8000]
        var edges: Set<Int> = []
        for seed in 0..<12 {
            var r = SeededGenerator(seed: UInt64(seed))
            let z = try a.apply(x, sampleRate: rate, noise: .init(), rng: &r)
            let s = Array(z[4000..<6048])
            let kept = bandPower(s, from: 3100, to: 3400) / bandPower(original, from: 3100, to: 3400)
            edges.insert(kept > 0.5 ? 1 : 0)
        }
        XCTAssertEqual(edges, [0, 1], "some draws keep 3.1–3.4 kHz, some cut it")
        a.telephoneRates = [3000, 8000]
        XCTAssertThrowsError(try a.validate())
    }

    func testReverberationDecaysAtTheDrawnRT60() {
        var rng = SeededGenerator(seed: 9)
        var impulse = [Float](repeating: 0, count: rate)
        impulse[0] = 1
        for rt60 in [0.3, 0.6] {
            let y = Augmentation().reverberate(impulse, rt60: rt60, sampleRate: rate, rng: &rng)
            XCTAssertEqual(power(y), power(impulse), accuracy: power(impulse) * 1e-3, "the level is kept")
            // Schroeder's backward integration; T20 (−5 to −25 dB) × 3 estimates RT60.
            var edc = [Double](repeating: 0, count: y.count), sum = 0.0
            for i in stride(from: y.count - 1, through: 1, by: -1) { sum += Double(y[i] * y[i]); edc[i] = sum }
            let db = edc.map { 10 * log10(max($0, 1e-30) / edc[1]) }
            // The tail after the direct path (sample 0).
            let t5 = db.indices.dropFirst().first { db[$0] <= -5 }!, t25 = db.indices.dropFirst().first { db[$0] <= -25 }!
            let estimate = 3 * Double(t25 - t5) / Double(rate)
            XCTAssertEqual(estimate, rt60, accuracy: rt60 * 0.15, "RT60 \(rt60)")
        }
    }

    func testSilenceIsTrimmedOrPaddedToTheDrawnLength() {
        var rng = SeededGenerator(seed: 2)
        let silence = [Float](repeating: 0, count: rate / 2)
        let x = silence + tone(500, seconds: 0.5) + silence
        let y = Augmentation().recutSilence(x, sampleRate: rate, leading: 0.1, trailing: 0.25, rng: &rng)
        XCTAssertEqual(Double(y.count) / Double(rate), 0.1 + 0.5 + 0.25, accuracy: 0.011)
        let lead = Array(y[0..<1500]), speech = Array(y[1700..<3000])
        XCTAssertLessThan(power(lead), power(speech) * 1e-5, "the new silence is faint")
        // A tightly trimmed clip gets silence added.
        let padded = Augmentation().recutSilence(tone(500, seconds: 0.5), sampleRate: rate, leading: 0.3, trailing: 0, rng: &rng)
        XCTAssertEqual(padded.count, rate / 2 + Int(0.3 * Double(rate)))
    }

    func testVolumeAndDeterminism() throws {
        var a = Augmentation()
        a.volumeDecibels = [6, 6]
        var rng = SeededGenerator(seed: 1)
        let x = tone(100, seconds: 0.1)
        let y = try a.apply(x, sampleRate: rate, noise: .init(), rng: &rng)
        for (u, v) in zip(x, y) { XCTAssertEqual(v, u * powf(10, 6 / 20), accuracy: 1e-6) }
        let all = Augmentation.recommended
        var r1 = SeededGenerator(seed: 4), r2 = SeededGenerator(seed: 4), r3 = SeededGenerator(seed: 5)
        let speech = tone(220, seconds: 1)
        let a1 = try all.apply(speech, sampleRate: rate, noise: .init(), rng: &r1)
        XCTAssertEqual(a1, try all.apply(speech, sampleRate: rate, noise: .init(), rng: &r2))
        XCTAssertNotEqual(a1, try all.apply(speech, sampleRate: rate, noise: .init(), rng: &r3))
    }

    func testBadSettingsAreNamed() {
        var a = Augmentation()
        a.noiseProbability = 2
        XCTAssertThrowsError(try a.validate()) { XCTAssertTrue("\($0)".contains("--noise-prob 2.0 must be a probability"), "\($0)") }
        a = Augmentation()
        a.speedFactors = [0]
        XCTAssertThrowsError(try a.validate())
        a = Augmentation()
        a.rt60Seconds = [0.8, 0.2]
        XCTAssertThrowsError(try a.validate()) { XCTAssertTrue("\($0)".contains("--rt60 0.8:0.2"), "\($0)") }
        a = Augmentation()
        a.snrDecibels = [.nan, 3]
        XCTAssertThrowsError(try a.validate())
    }

    /// New silence at a drawn floor under the speech, or digital silence.
    func testSilenceFloorsAreDrawn() {
        let speech = tone(300, seconds: 0.5)
        var a = Augmentation()
        a.silenceFloorDecibels = [-40, -40]
        var rng = SeededGenerator(seed: 1)
        let padded = a.recutSilence(speech, sampleRate: rate, leading: 1, trailing: 0, floorDecibels: a.silenceFloor(&rng), rng: &rng)
        let lead = Array(padded.prefix(rate)), rms = Augmentation.rms(speech)
        XCTAssertEqual(20 * log10(Double(Augmentation.rms(lead) / rms)), -40, accuracy: 0.5, "the new silence is 40 dB under the speech")
        a.digitalSilenceProbability = 1
        let zeros = a.recutSilence(speech, sampleRate: rate, leading: 1, trailing: 1, floorDecibels: a.silenceFloor(&rng), rng: &rng)
        XCTAssertEqual(Array(zeros.prefix(rate)), [Float](repeating: 0, count: rate))
        XCTAssertEqual(Array(zeros.suffix(rate)), [Float](repeating: 0, count: rate))
        // Unset, the floor is the old −60 dB and nothing is drawn for it.
        var b = Augmentation(), r1 = SeededGenerator(seed: 2), r2 = r1
        XCTAssertEqual(b.silenceFloor(&r1), -60)
        XCTAssertEqual(r1.next(), r2.next())
        b.vtlnWarps = nil
        XCTAssertNil(b.drawWarp(&r1))
    }

    /// Utterances joined with pauses of the drawn length at the drawn floor.
    func testJoinedUtterancesHavePausesBetweenThem() {
        var a = Augmentation()
        a.pauseSeconds = [0.5, 0.5]
        a.silenceFloorDecibels = [-30, -30]
        var rng = SeededGenerator(seed: 3)
        let x = tone(200, seconds: 0.4), y = tone(400, seconds: 0.3)
        let joined = a.join([x, y, x], sampleRate: rate, rng: &rng)
        XCTAssertEqual(joined.count, x.count + y.count + x.count + 2 * rate / 2)
        XCTAssertEqual(Array(joined.prefix(x.count)), x)
        XCTAssertEqual(Array(joined[(x.count + rate / 2)..<(x.count + rate / 2 + y.count)]), y)
        let pause = Array(joined[x.count..<(x.count + rate / 2)])
        XCTAssertEqual(20 * log10(Double(Augmentation.rms(pause) / Augmentation.rms(x + y))), -30, accuracy: 0.5)
        // Warps come in hundredths, within the range; join counts within 2…joinMax.
        a.vtlnWarps = [0.9, 1.1]
        a.joinProbability = 1
        for _ in 0..<50 {
            let w = a.drawWarp(&rng)!
            XCTAssertTrue((0.9...1.1).contains(w))
            XCTAssertEqual(w * 100, (w * 100).rounded(), accuracy: 1e-9)
            XCTAssertTrue((2...3).contains(a.drawJoinCount(&rng)))
        }
    }

    /// Training with every augmentation on: interrupted after two steps and
    /// resumed from the checkpoint, it reaches the weights of a straight run.
    func testAugmentedTrainingResumesExactly() throws {
        for preset in [Augmentation.recommended, .recordings] {
            try checkResume(preset)
        }
    }

    func checkResume(_ preset: Augmentation) throws {
        let fixtures = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures/torch-model")
        func trainer(_ out: URL) throws -> Trainer {
            let model = try AcousticModel.load(directory: fixtures)
            var rng = SeededGenerator(seed: 8)
            let utterances = ["AB", "BA A", "B", "A B"].map { text -> Utterance in
                let samples = (0..<24_000).map { i in 0.3 * Float(sin(Double(i) * 0.05)) + 0.05 * rng.nextGaussian() }
                let features = model.extractor.compute(samples)
                return Utterance(
                    path: text, text: text, labels: model.vocabulary.encode(text)!, features: features,
                    inputFrames: features.rows / model.config.stackFrames, samples: samples)
            }
            var options = TrainingOptions()
            options.batchSize = 2
            options.augmentation = preset
            options.augmentation!.noiseProbability = 1
            return Trainer(model: model, options: options, train: utterances, valid: [], outDirectory: out, threads: 2)
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = try trainer(dir.appendingPathComponent("a"))
        let plain = straight.train.map(\.features)
        for batch in [[0, 1], [2, 3], [1, 3], [0, 2]] { _ = straight.step(batch: batch) }
        XCTAssertNotEqual(
            straight.batchExamples([0, 1], step: 0).map(\.features.data), [plain[0].data, plain[1].data], "audio is augmented")
        if preset.joinProbability > 0 {
            // Some examples are joined utterances: their labels hold a space between two transcripts.
            let space = straight.model.vocabulary.tokens.firstIndex(of: " ")!
            let examples = (0..<8).flatMap { straight.batchExamples([0, 2], step: $0) }
            XCTAssertTrue(examples.contains { $0.labels.count > 4 && $0.labels.contains(space) }, "no example was joined")
        }

        let first = try trainer(dir.appendingPathComponent("b"))
        for batch in [[0, 1], [2, 3]] { _ = first.step(batch: batch) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("b"), withIntermediateDirectories: true)
        try first.saveCheckpoint()
        let resumed = try trainer(dir.appendingPathComponent("b"))
        try resumed.resume()
        for batch in [[1, 3], [0, 2]] { _ = resumed.step(batch: batch) }
        XCTAssertEqual(resumed.model.parameters.map(\.value), straight.model.parameters.map(\.value))
    }
}

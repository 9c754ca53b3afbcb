import Foundation
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkASR

/// Reliability bins, the expected calibration error, and temperature
/// scaling of word confidences, on confidences whose truth is known.
final class CalibrationTests: XCTestCase {
    func testExpectedCalibrationErrorOfKnownBins() {
        var bins = ReliabilityBins()
        // Bin 9: 10 words at 0.95, 9 right (accuracy 0.9: off by 0.05).
        for i in 0..<10 { bins.add(confidence: 0.95, correct: i < 9) }
        // Bin 5: 10 words at 0.55, 2 right (accuracy 0.2: off by 0.35).
        for i in 0..<10 { bins.add(confidence: 0.55, correct: i < 2) }
        XCTAssertEqual(bins.words, 20)
        XCTAssertEqual(bins.expectedCalibrationError!, 0.5 * 0.05 + 0.5 * 0.35, accuracy: 1e-12)
        XCTAssertEqual(bins.diagram.map(\.lower), [0.5, 0.9])
        XCTAssertEqual(ReliabilityBins.bin(1), 9)
        XCTAssertEqual(ReliabilityBins.bin(0), 0)
        XCTAssertNil(ReliabilityBins().expectedCalibrationError)
        var merged = ReliabilityBins()
        merged.add(bins)
        merged.add(bins)
        XCTAssertEqual(merged.expectedCalibrationError!, bins.expectedCalibrationError!, accuracy: 1e-12)
    }

    /// Words whose true chance of being right is p, reported with the
    /// over-confident σ(2·logit p): the fitted temperature is about 2, and the
    /// scaled confidences are calibrated.
    func testTemperatureScalingUndoesOverConfidence() throws {
        var rng = SeededGenerator(seed: 6)
        var words: [(confidence: Double, correct: Bool)] = []
        for _ in 0..<20_000 {
            let p = 0.05 + 0.9 * Double(rng.nextUniform())
            let logit = log(p / (1 - p))
            words.append((1 / (1 + exp(-2 * logit)), Double(rng.nextUniform()) < p))
        }
        var before = ReliabilityBins()
        for w in words { before.add(confidence: w.confidence, correct: w.correct) }
        let fitted = try XCTUnwrap(Calibration.fit(words))
        XCTAssertEqual(fitted.temperature, 2, accuracy: 0.15)
        var after = ReliabilityBins()
        for w in words { after.add(confidence: fitted.apply(w.confidence), correct: w.correct) }
        XCTAssertGreaterThan(before.expectedCalibrationError!, 0.08)
        XCTAssertLessThan(after.expectedCalibrationError!, 0.02)
        // The order of confidences does not change, and T = 1 changes nothing.
        XCTAssertLessThan(fitted.apply(0.3), fitted.apply(0.6))
        XCTAssertEqual(Calibration(temperature: 1).apply(0.73), 0.73, accuracy: 1e-12)
    }

    /// A model directory's calibration is read and applied to word
    /// confidences; a directory without one reads as before.
    func testModelCalibrationScalesWordConfidences() throws {
        let directory = repositoryRoot.appendingPathComponent("models/an4-blstm")
        let plain = try AcousticModel.load(directory: directory)
        XCTAssertNil(plain.config.calibration)
        let samples = try HarkAudio.AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        let t = Transcriber(model: plain).transcribeUtterance(samples)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = plain.config
        config.calibration = Calibration(temperature: 1.5)
        try plain.save(to: dir)
        try JSONEncoder().encode(config).write(to: dir.appendingPathComponent(AcousticModel.configFile))
        let scaled = Transcriber(model: try AcousticModel.load(directory: dir)).transcribeUtterance(samples)
        XCTAssertEqual(scaled.text, t.text)
        for (a, b) in zip(t.words, scaled.words) {
            XCTAssertEqual(b.confidence!, Calibration(temperature: 1.5).apply(a.confidence!), accuracy: 1e-9)
            XCTAssertEqual(a.start, b.start)
        }
        config.calibration = Calibration(temperature: 0)
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("calibration.temperature"), "\($0)") }
    }

    /// Words whose chance of being right is a step function of their
    /// confidence that no temperature can match (right 30% of the time below
    /// 0.8, 97% above): the map fitted by binned isotonic regression is
    /// monotone and calibrates them, where the best temperature does not.
    func testIsotonicMapCalibratesWhatATemperatureCannot() throws {
        var rng = SeededGenerator(seed: 9)
        var words: [(confidence: Double, correct: Bool)] = []
        for _ in 0..<5_000 {
            let c = 0.5 + 0.5 * Double(rng.nextUniform())
            words.append((c, Double(rng.nextUniform()) < (c < 0.8 ? 0.3 : 0.97)))
        }
        func ece(_ calibration: Calibration) -> Double {
            var bins = ReliabilityBins()
            for w in words { bins.add(confidence: calibration.apply(w.confidence), correct: w.correct) }
            return bins.expectedCalibrationError!
        }
        let map = try XCTUnwrap(Calibration.fitMap(words))
        let points = try XCTUnwrap(map.map)
        XCTAssertNoThrow(try map.validate())
        for (a, b) in zip(points, points.dropFirst()) {
            XCTAssertLessThan(a[0], b[0])
            XCTAssertLessThanOrEqual(a[1], b[1])
        }
        XCTAssertLessThan(ece(map), 0.02)
        XCTAssertGreaterThan(ece(try XCTUnwrap(Calibration.fit(words))), 0.1)
        XCTAssertEqual(map.apply(0.6), 0.3, accuracy: 0.06)
        XCTAssertEqual(map.apply(0.95), 0.97, accuracy: 0.03)
        XCTAssertNil(Calibration.fitMap(Array(words.prefix(49))), "two bins of words at least")
    }

    /// The map: linear between its points, flat beyond them, after the
    /// temperature; config.json without a temperature means 1; a map that
    /// falls, or holds a value outside 0…1, is refused with its place.
    func testMapIsAppliedAndChecked() throws {
        let c = Calibration(map: [[0.2, 0.1], [0.6, 0.5], [0.9, 0.95]])
        XCTAssertEqual(c.apply(0.1), 0.1, accuracy: 1e-12)
        XCTAssertEqual(c.apply(0.4), 0.3, accuracy: 1e-9)
        XCTAssertEqual(c.apply(0.75), 0.725, accuracy: 1e-9)
        XCTAssertEqual(c.apply(0.99), 0.95, accuracy: 1e-12)
        let decoded = try JSONDecoder().decode(Calibration.self, from: Data(#"{"map": [[0.2, 0.1], [0.6, 0.5], [0.9, 0.95]]}"#.utf8))
        XCTAssertEqual(decoded, c)
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: Data(#"{"temperature": 1.5}"#.utf8)), Calibration(temperature: 1.5))
        for (map, place) in [
            ([[0.2, 0.5], [0.6, 0.4]], "map[1]"), ([[0.2, 0.1], [0.2, 0.5]], "map[1]"), ([[0.2, 1.5], [0.6, 0.4]], "map[0]"),
            ([[0.2, 0.1]], "2 to 1000")
        ] {
            XCTAssertThrowsError(try Calibration(map: map).validate()) { XCTAssertTrue("\($0)".contains(place), "\($0)") }
        }
    }
}

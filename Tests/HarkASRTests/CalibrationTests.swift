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
}

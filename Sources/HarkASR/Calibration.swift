import Foundation
import HarkCore

/// How well word confidences say how often words are right: confidences in
/// ten equal bins over [0, 1], each with its words' mean confidence and the
/// share of them that were right (a reliability diagram), and the expected
/// calibration error (Guo et al., 2017)
///
///     ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|.
///
/// A word is right when the minimum-edit alignment of the hypothesis with
/// the reference matches it (`Evaluator.wordCorrectness`).
public struct ReliabilityBins: Codable, Equatable, Sendable {
    public static let binCount = 10
    /// Per bin: words, the sum of their confidences, and those that were right.
    public private(set) var counts = [Int](repeating: 0, count: binCount)
    public private(set) var confidenceSums = [Double](repeating: 0, count: binCount)
    public private(set) var correct = [Int](repeating: 0, count: binCount)

    public init() {}

    /// The bin of a confidence: [0, 0.1) → 0, …, [0.9, 1] → 9.
    public static func bin(_ confidence: Double) -> Int {
        min(binCount - 1, max(0, Int((confidence * Double(binCount)).rounded(.down))))
    }

    public mutating func add(confidence: Double, correct right: Bool) {
        guard confidence.isFinite else { return }
        let b = Self.bin(confidence)
        counts[b] += 1
        confidenceSums[b] += confidence
        if right { correct[b] += 1 }
    }

    public mutating func add(_ other: ReliabilityBins) {
        for b in 0..<Self.binCount {
            counts[b] += other.counts[b]
            confidenceSums[b] += other.confidenceSums[b]
            correct[b] += other.correct[b]
        }
    }

    /// Words counted.
    public var words: Int { counts.reduce(0, +) }

    /// Per non-empty bin: (its range's lower edge, mean confidence, accuracy, words).
    public var diagram: [(lower: Double, confidence: Double, accuracy: Double, words: Int)] {
        (0..<Self.binCount).filter { counts[$0] > 0 }.map { b in
            (Double(b) / Double(Self.binCount), confidenceSums[b] / Double(counts[b]), Double(correct[b]) / Double(counts[b]), counts[b])
        }
    }

    /// The expected calibration error; nil without words.
    public var expectedCalibrationError: Double? {
        let n = words
        guard n > 0 else { return nil }
        return diagram.reduce(0) { $0 + Double($1.words) / Double(n) * abs($1.accuracy - $1.confidence) }
    }
}

/// Temperature scaling of word confidences (after Guo et al., 2017, on the
/// word's confidence rather than on every frame), stored in a model's
/// `config.json` as `"calibration": {"temperature": T}`:
///
///     c_T = σ(logit(c) / T) = c^(1/T) / (c^(1/T) + (1 − c)^(1/T)),
///
/// for a word's confidence c (the mean posterior of its characters). T > 1
/// softens an over-confident model, T < 1 sharpens an under-confident one;
/// the order of confidences and the decoded text do not change.
public struct Calibration: Codable, Equatable, Sendable {
    public var temperature: Double

    public init(temperature: Double) {
        self.temperature = temperature
    }

    /// Throws a message naming the bad value.
    public func validate() throws {
        guard temperature.isFinite && (0.05...20).contains(temperature) else {
            throw ModelError(problem: "calibration.temperature \(temperature) must be between 0.05 and 20")
        }
    }

    /// c_T.
    public func apply(_ confidence: Double) -> Double {
        let c = min(max(confidence, 1e-9), 1 - 1e-9)
        let a = pow(c, 1 / temperature), b = pow(1 - c, 1 / temperature)
        return a / (a + b)
    }

    /// The temperature, among 0.25 … 8 in steps of 2^(1/16), whose
    /// confidences give `words` (confidence, whether right) the lowest
    /// negative log-likelihood; nil without words.
    public static func fit(_ words: [(confidence: Double, correct: Bool)]) -> Calibration? {
        guard !words.isEmpty else { return nil }
        var best: (Double, Double)?
        for k in -32...48 {
            let c = Calibration(temperature: pow(2, Double(k) / 16))
            var nll = 0.0
            for w in words {
                let p = min(max(c.apply(w.confidence), 1e-9), 1 - 1e-9)
                nll -= w.correct ? log(p) : log(1 - p)
            }
            if best.map({ nll < $0.1 }) ?? true { best = (c.temperature, nll) }
        }
        return best.map { Calibration(temperature: $0.0) }
    }
}

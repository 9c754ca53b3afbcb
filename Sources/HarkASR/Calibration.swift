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
    /// The number of bins, each 0.1 wide.
    public static let binCount = 10
    /// Per bin: words, the sum of their confidences, and those that were right.
    public private(set) var counts = [Int](repeating: 0, count: binCount)
    /// Per bin: the sum of its words' confidences.
    public private(set) var confidenceSums = [Double](repeating: 0, count: binCount)
    /// Per bin: the words that were right.
    public private(set) var correct = [Int](repeating: 0, count: binCount)

    /// Empty bins.
    public init() {}

    /// The bin of a confidence: [0, 0.1) → 0, …, [0.9, 1] → 9.
    public static func bin(_ confidence: Double) -> Int {
        min(binCount - 1, max(0, Int((confidence * Double(binCount)).rounded(.down))))
    }

    /// Counts one word of the given confidence, right or wrong; a confidence that is not finite is ignored.
    public mutating func add(confidence: Double, correct right: Bool) {
        guard confidence.isFinite else { return }
        let b = Self.bin(confidence)
        counts[b] += 1
        confidenceSums[b] += confidence
        if right { correct[b] += 1 }
    }

    /// Adds another set of bins' counts (another rank's or file's).
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

/// The calibration of word confidences, stored in a model's `config.json`
/// as `"calibration": {"temperature": T, "map": [[c, p], …]}` (either part
/// optional; a missing temperature is 1). For a word's confidence c (the
/// mean posterior of its characters), first temperature scaling (after Guo
/// et al., 2017, on the word's confidence rather than on every frame):
///
///     c_T = σ(logit(c) / T) = c^(1/T) / (c^(1/T) + (1 − c)^(1/T)),
///
/// where T > 1 softens an over-confident model and T < 1 sharpens an
/// under-confident one; then, with a map, the piecewise-linear function
/// through its points (c increasing, p non-decreasing; flat beyond the
/// first and last), fitted by isotonic regression (`fitMap`). Neither
/// changes the order of confidences or the decoded text.
public struct Calibration: Codable, Equatable, Sendable {
    /// T, the temperature; 1 leaves confidences as they are.
    public var temperature: Double
    /// Points (confidence, calibrated confidence) of the monotone map; nil: none.
    public var map: [[Double]]?

    /// A calibration of the given temperature and map (by default: none, confidences unchanged).
    public init(temperature: Double = 1, map: [[Double]]? = nil) {
        self.temperature = temperature
        self.map = map
    }

    enum CodingKeys: String, CodingKey { case temperature, map }

    /// Decodes the `"calibration"` object; a missing temperature is 1, a missing map none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? 1
        map = try c.decodeIfPresent([[Double]].self, forKey: .map)
    }

    /// Throws a message naming the bad value.
    public func validate() throws {
        guard temperature.isFinite && (0.05...20).contains(temperature) else {
            throw ModelError(problem: "calibration.temperature \(temperature) must be between 0.05 and 20")
        }
        guard let map else { return }
        guard (2...1000).contains(map.count) else {
            throw ModelError(problem: "calibration.map has \(map.count) points; it needs 2 to 1000")
        }
        for (i, point) in map.enumerated() {
            guard point.count == 2, point.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
                throw ModelError(problem: "calibration.map[\(i)] must be a pair [confidence, calibrated] of numbers in 0…1")
            }
            if i > 0 && !(point[0] > map[i - 1][0] && point[1] >= map[i - 1][1]) {
                throw ModelError(
                    problem: "calibration.map[\(i)]: confidences must increase and calibrated values must not decrease")
            }
        }
    }

    /// The calibrated confidence of `confidence`: c_T, then the map.
    public func apply(_ confidence: Double) -> Double {
        var c = min(max(confidence, 1e-9), 1 - 1e-9)
        let a = pow(c, 1 / temperature), b = pow(1 - c, 1 / temperature)
        c = a / (a + b)
        guard let map else { return c }
        if c <= map[0][0] { return map[0][1] }
        for i in 1..<map.count where c <= map[i][0] {
            let (x0, y0, x1, y1) = (map[i - 1][0], map[i - 1][1], map[i][0], map[i][1])
            return y0 + (y1 - y0) * (c - x0) / (x1 - x0)
        }
        return map[map.count - 1][1]
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

    /// A map fitted to `words` (confidence, whether right) by binned isotonic
    /// regression: the words sorted by confidence and cut into bins of
    /// `binSize` (the last takes the rest), each bin a point (its mean
    /// confidence, its share right), then pool-adjacent-violators merges
    /// neighbouring points, weighted by their words, until the shares no
    /// longer decrease. Values rounded to 4 decimals. Nil with fewer than two
    /// bins of words or when the fitted map is flat.
    public static func fitMap(_ words: [(confidence: Double, correct: Bool)], binSize: Int = 25) -> Calibration? {
        let sorted = words.filter { $0.confidence.isFinite }.sorted { $0.confidence < $1.confidence }
        guard sorted.count >= 2 * binSize, binSize > 0 else { return nil }
        // (sum of confidences, words right, words) per pooled block.
        var blocks: [(confidence: Double, right: Double, words: Double)] = []
        var start = 0
        while start < sorted.count {
            let end = sorted.count - start < 2 * binSize ? sorted.count : start + binSize
            let bin = sorted[start..<end]
            var block = (confidence: 0.0, right: 0.0, words: Double(bin.count))
            for w in bin {
                block.confidence += w.confidence
                if w.correct { block.right += 1 }
            }
            blocks.append(block)
            // Pool while the share right decreases from the block before.
            while blocks.count > 1,
                blocks[blocks.count - 2].right / blocks[blocks.count - 2].words > blocks[blocks.count - 1].right
                    / blocks[blocks.count - 1].words
            {
                let last = blocks.removeLast()
                blocks[blocks.count - 1].confidence += last.confidence
                blocks[blocks.count - 1].right += last.right
                blocks[blocks.count - 1].words += last.words
            }
            start = end
        }
        func rounded(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
        var map: [[Double]] = []
        for b in blocks {
            let point = [rounded(b.confidence / b.words), rounded(b.right / b.words)]
            // Rounding may make two mean confidences equal: the later block's point wins.
            if let last = map.last, point[0] <= last[0] {
                map[map.count - 1] = [last[0], max(last[1], point[1])]
            } else {
                map.append(point)
            }
        }
        // Inside a flat run only its ends matter.
        map = map.indices.filter { i in i == 0 || i == map.count - 1 || map[i - 1][1] != map[i][1] || map[i][1] != map[i + 1][1] }.map {
            map[$0]
        }
        guard map.count >= 2 else { return nil }
        return Calibration(map: map)
    }
}

import Foundation
import HarkCore

/// One emitted token of a decoding, with where it was heard.
public struct DecodedToken: Equatable, Sendable, Codable {
    /// The class index.
    public var token: Int
    /// The first and last frame of the run of frames that emitted it.
    public var firstFrame: Int
    /// The last frame of that run (inclusive).
    public var lastFrame: Int
    /// Its mean posterior probability over those frames.
    public var confidence: Float
}

/// The best path: arg-max per frame, repeats merged, blanks dropped.
public struct GreedyDecoding: Equatable, Sendable {
    /// The emitted tokens in order, with their frames and confidences.
    public var tokens: [DecodedToken]
    /// log P(best path) = Σₜ maxₖ lp[t, k].
    public var pathLogProbability: Float

    /// The tokens' class indices.
    public var labels: [Int] { tokens.map(\.token) }
}

/// Greedy (best-path) CTC decoding of whole utterances.
public enum GreedyDecoder {
    /// Decodes one utterance.
    ///
    /// - Shapes: logProbs [T, K] (log-probabilities of one utterance; rows
    ///   beyond `length` are ignored).
    public static func decode(_ logProbs: Matrix, length: Int? = nil, blank: Int = 0) -> GreedyDecoding {
        var stream = GreedyStream(blank: blank)
        stream.consume(logProbs, rows: 0..<min(length ?? logProbs.rows, logProbs.rows))
        return stream.decoding
    }

    /// Decodes every utterance of a batch.
    ///
    /// - Shapes: logProbs [T·B, K].
    public static func decode(batch logProbs: SequenceBatch, blank: Int = 0) -> [GreedyDecoding] {
        (0..<logProbs.batch).map { decode(logProbs.sequence($0), blank: blank) }
    }
}

/// The best path over log-probabilities that arrive in blocks (a long
/// recording, window by window): arg-max per frame, repeats merged, blanks
/// dropped; a token's run may continue into the next block. Consuming all
/// rows at once is `GreedyDecoder.decode`.
public struct GreedyStream: Sendable {
    /// The class index of the CTC blank.
    public let blank: Int
    /// The tokens so far (the last one's run may still grow).
    public private(set) var tokens: [DecodedToken] = []
    /// Σₜ maxₖ lp[t, k] so far.
    public private(set) var pathLogProbability: Float = 0
    /// Frames consumed.
    public private(set) var frames = 0
    /// The previous frame's arg-max, and the sum of the current run's posteriors.
    private var previous: Int
    private var sum: Float = 0

    /// An empty stream for a blank at class `blank`.
    public init(blank: Int = 0) {
        self.blank = blank
        previous = blank
    }

    /// Consumes rows `rows` of `logProbs` (all by default) as the next frames.
    ///
    /// - Shapes: logProbs [t, K].
    public mutating func consume(_ logProbs: Matrix, rows: Range<Int>? = nil) {
        let K = logProbs.cols
        for r in rows ?? 0..<logProbs.rows {
            let t = frames
            var best = 0
            var bestValue = -Float.infinity
            for k in 0..<K where logProbs[r, k] > bestValue {
                best = k
                bestValue = logProbs[r, k]
            }
            pathLogProbability += bestValue
            if best != blank && best == previous {
                // The same token continues: extend its run.
                sum += expf(bestValue)
                tokens[tokens.count - 1].lastFrame = t
                tokens[tokens.count - 1].confidence = sum / Float(t - tokens[tokens.count - 1].firstFrame + 1)
            } else if best != blank {
                sum = expf(bestValue)
                tokens.append(DecodedToken(token: best, firstFrame: t, lastFrame: t, confidence: sum))
            }
            previous = best
            frames += 1
        }
    }

    /// The decoding of the frames consumed so far.
    public var decoding: GreedyDecoding { GreedyDecoding(tokens: tokens, pathLogProbability: pathLogProbability) }
}

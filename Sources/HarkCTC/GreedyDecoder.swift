import Foundation
import HarkCore

/// One emitted token of a decoding, with where it was heard.
public struct DecodedToken: Equatable, Sendable, Codable {
    /// The class index.
    public var token: Int
    /// The first and last frame of the run of frames that emitted it.
    public var firstFrame: Int
    public var lastFrame: Int
    /// Its mean posterior probability over those frames.
    public var confidence: Float
}

/// The best path: arg-max per frame, repeats merged, blanks dropped.
public struct GreedyDecoding: Equatable, Sendable {
    public var tokens: [DecodedToken]
    /// log P(best path) = Σₜ maxₖ lp[t, k].
    public var pathLogProbability: Float

    public var labels: [Int] { tokens.map(\.token) }
}

public enum GreedyDecoder {
    /// Decodes one utterance.
    ///
    /// - Shapes: logProbs [T, K] (log-probabilities of one utterance; rows
    ///   beyond `length` are ignored).
    public static func decode(_ logProbs: Matrix, length: Int? = nil, blank: Int = 0) -> GreedyDecoding {
        let T = min(length ?? logProbs.rows, logProbs.rows), K = logProbs.cols
        var tokens: [DecodedToken] = []
        var pathLogProbability: Float = 0
        var previous = blank
        var sum: Float = 0
        for t in 0..<T {
            var best = 0
            var bestValue = -Float.infinity
            for k in 0..<K where logProbs[t, k] > bestValue {
                best = k
                bestValue = logProbs[t, k]
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
        }
        return GreedyDecoding(tokens: tokens, pathLogProbability: pathLogProbability)
    }

    /// Decodes every utterance of a batch.
    ///
    /// - Shapes: logProbs [T·B, K].
    public static func decode(batch logProbs: SequenceBatch, blank: Int = 0) -> [GreedyDecoding] {
        (0..<logProbs.batch).map { decode(logProbs.sequence($0), blank: blank) }
    }
}

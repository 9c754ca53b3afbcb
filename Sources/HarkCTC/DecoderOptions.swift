import HarkCore

/// How log-probabilities become tokens: a value, as whisper.cpp's decoding
/// strategy plus parameters.
public enum DecoderOptions: Sendable {
    /// The best path: arg-max per frame, repeats merged, blanks dropped.
    case greedy
    /// CTC prefix beam search.
    case beam(BeamSearchOptions)

    /// Beam search of this width with the other settings at their defaults.
    public static func beam(width: Int) -> DecoderOptions { .beam(BeamSearchOptions(width: width)) }
}

/// The settings of `PrefixBeamSearch`.
public struct BeamSearchOptions: Sendable {
    /// Prefixes kept after every frame.
    public var width: Int
    /// Hypotheses returned, best first.
    public var nBest: Int
    /// Pruning: tokens whose log-probability at a frame is below this are not
    /// tried there (−∞: every token is tried).
    public var tokenThreshold: Float
    /// Pruning: after every frame, prefixes whose score is more than this
    /// below the best one's are dropped (pyctcdecode's `beam_prune_logp`);
    /// −∞ keeps all `width` of them.
    public var scorePruning: Float
    /// Added to the ranking as hypotheses grow (a language model); nil: acoustic score only.
    public var scorer: (any PrefixScorer)?

    /// Settings of the given width and n-best, by default without pruning or scorer.
    public init(
        width: Int = BeamSearchOptions.defaultWidth, nBest: Int = 1, tokenThreshold: Float = -.infinity, scorePruning: Float = -.infinity,
        scorer: (any PrefixScorer)? = nil
    ) {
        self.width = width
        self.nBest = nBest
        self.tokenThreshold = tokenThreshold
        self.scorePruning = scorePruning
        self.scorer = scorer
    }
}

extension BeamSearchOptions {
    /// The beam width when none is given: the library's, the command line's,
    /// the server's and a model's `decoder` without `"beam"`.
    public static let defaultWidth = 32
    /// With words (a vocabulary or a language model), tokens below this
    /// log-probability at a frame are not tried there (pyctcdecode's
    /// `token_min_logp`): a word search tries every token otherwise.
    public static let wordTokenThreshold: Float = -8
    /// With words, prefixes more than this below the best are dropped after
    /// each frame (pyctcdecode's `beam_prune_logp`).
    public static let wordScorePruning: Float = -10
}

/// One decoding result: tokens with where they were heard, and its scores.
public struct Hypothesis: Sendable {
    /// The emitted tokens in order, with their frames and confidences.
    public var tokens: [DecodedToken]
    /// log P(tokens | audio): the best path's for greedy, summed over the
    /// alignments the search kept for beam.
    public var logProbability: Float
    /// What the scorer added (0 without one).
    public var scorerScore: Float
    /// The ranking score: logProbability + scorerScore.
    public var score: Float

    /// The tokens' class indices.
    public var labels: [Int] { tokens.map(\.token) }

    /// A hypothesis of the given scores; `score` nil: logProbability + scorerScore.
    public init(tokens: [DecodedToken], logProbability: Float, scorerScore: Float = 0, score: Float? = nil) {
        self.tokens = tokens
        self.logProbability = logProbability
        self.scorerScore = scorerScore
        self.score = score ?? logProbability + scorerScore
    }
}

/// Runs the decoding `options` describe.
public struct Decoder: Sendable {
    /// Greedy decoding or beam search, with its settings.
    public var options: DecoderOptions
    /// The class index of the CTC blank.
    public var blank: Int

    /// A decoder of the given kind for a blank at class `blank`.
    public init(_ options: DecoderOptions, blank: Int = 0) {
        self.options = options
        self.blank = blank
    }

    /// The hypotheses of one utterance, best first (one for greedy, up to n-best for beam).
    ///
    /// - Shapes: logProbs [T, K] (rows beyond `length` are ignored).
    public func decode(_ logProbs: Matrix, length: Int? = nil) -> [Hypothesis] {
        switch options {
        case .greedy:
            let d = GreedyDecoder.decode(logProbs, length: length, blank: blank)
            return [Hypothesis(tokens: d.tokens, logProbability: d.pathLogProbability)]
        case .beam(let beam):
            return PrefixBeamSearch(beam, blank: blank).decode(logProbs, length: length)
        }
    }

    /// Every utterance of a batch.
    ///
    /// - Shapes: logProbs [T·B, K].
    public func decode(_ batch: SequenceBatch) -> [[Hypothesis]] {
        (0..<batch.batch).map { decode(batch.sequence($0)) }
    }
}

import Foundation
import HarkCTC
import HarkCore

/// Scores a model's transcripts against references: what training
/// validation and `hark eval` both compute, in one place.
///
/// Both sides are normalised as the model's `text` settings say (so no
/// leading, trailing or repeated spaces); characters and words are aligned by
/// Levenshtein distance.
public struct Evaluator {
    /// The model whose transcripts are scored, and whose text settings normalise both sides.
    public let model: AcousticModel
    /// The decoder of the model's log-probabilities.
    public let decoder: Decoder

    /// An evaluator of the model's output, decoded greedily unless told otherwise.
    public init(model: AcousticModel, decoding: DecoderOptions = .greedy) {
        self.model = model
        decoder = Decoder(decoding, blank: model.config.blank)
    }

    /// One utterance's result.
    public struct Score: Sendable {
        /// The normalised reference.
        public var reference: String
        /// The normalised hypothesis.
        public var hypothesis: String
        /// Character edits (spaces count as characters).
        public var characters: EditCounts
        /// Word edits.
        public var words: EditCounts

        /// Whether the normalised hypothesis differs from the normalised
        /// reference (the rule `Totals.add` counts sentence errors by).
        public var isWrong: Bool { characters.errors > 0 }
    }

    /// Totals over utterances.
    public struct Totals: Sendable {
        /// Character edits, summed.
        public var characters = EditCounts()
        /// Word edits, summed.
        public var words = EditCounts()
        /// Utterances added.
        public var utterances = 0
        /// Utterances whose hypothesis is not exactly the reference (Kaldi's
        /// `compute-wer` counts these for its sentence error rate, %SER).
        public var wrongUtterances = 0
        /// The CTC losses per label summed over the utterances scored with labels
        /// (`evaluate(_ utterances:)`), and how many they were.
        public var lossSum = 0.0
        /// The number of utterances whose loss is in `lossSum` (those whose loss was finite).
        public var lossCount = 0

        /// Empty totals.
        public init() {}

        /// The mean CTC loss per label (PyTorch's 'mean' reduction); nil without any.
        public var meanLoss: Double? { lossCount > 0 ? lossSum / Double(lossCount) : nil }

        /// Adds one utterance's counts.
        public mutating func add(_ s: Score) { add(characters: s.characters, words: s.words) }

        /// One utterance's counts (as another rank sends them).
        public mutating func add(characters c: EditCounts, words w: EditCounts) {
            characters = characters + c
            words = words + w
            utterances += 1
            if c.errors > 0 { wrongUtterances += 1 }
        }

        /// wrongUtterances / utterances (0 with no utterance).
        public var sentenceErrorRate: Double { utterances > 0 ? Double(wrongUtterances) / Double(utterances) : 0 }
    }

    /// Compares `hypothesis` (text) with `reference`, both normalised.
    public func score(reference: String, hypothesis: String) -> Score {
        let r = model.config.text.normalize(reference), h = model.config.text.normalize(hypothesis)
        return Score(
            reference: r, hypothesis: h, characters: .characters(reference: r, hypothesis: h),
            words: .words(reference: r, hypothesis: h))
    }

    /// For each word of `hypothesis`, whether the minimum-edit alignment with
    /// `reference` (both normalised) matches it: what word confidences are
    /// calibrated against (`ReliabilityBins`).
    public func wordCorrectness(reference: String, hypothesis: String) -> [Bool] {
        let r = model.config.text.normalize(reference).split(separator: " "),
            h = model.config.text.normalize(hypothesis).split(separator: " ")
        guard let pairs = EditCounts.alignment(reference: r, hypothesis: h) else { return h.map { _ in false } }
        return pairs.filter { $0.hypothesis != nil }.map { $0.operation == .match }
    }

    /// Decodes log-probabilities [T, K] and scores the text.
    public func score(reference: String, logProbabilities lp: Matrix) -> Score {
        let best = decoder.decode(lp).first?.labels ?? []
        return score(reference: reference, hypothesis: model.vocabulary.decode(best))
    }

    /// Scores utterances with precomputed features (training validation), on `threads` threads.
    /// Scores training utterances, and their CTC loss per label (an utterance
    /// whose labels cannot fit its frames adds none).
    public func evaluate(_ utterances: [Utterance], threads: Int) -> Totals {
        var totals = Totals()
        let ctc = CTCLoss(blank: model.config.blank, reduction: .none)
        processInOrder(
            utterances, threads: threads,
            work: { u -> (Score, Float) in
                let lp = model.logProbabilities(stackFrames(u.features, by: model.config.stackFrames))
                let nll = ctc(logProbs: SequenceBatch(single: lp), targets: [u.labels]).losses[0] / Float(max(1, u.labels.count))
                return (score(reference: u.text, logProbabilities: lp), nll)
            },
            emit: { _, _, r in
                totals.add(r.0)
                if r.1.isFinite { totals.lossSum += Double(r.1); totals.lossCount += 1 }
            }, failed: { _, _, _ in })
        return totals
    }
}

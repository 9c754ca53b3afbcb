import Foundation
import HarkCore

/// Prefix beam search for CTC (Hannun et al., 2014, lexicon-free), with an
/// optional `PrefixScorer` fused into the ranking. Every prefix keeps the
/// frames that emitted its tokens, so beam results carry token times and
/// confidences as greedy ones do.
///
/// A prefix ℓ (the tokens so far, repeats and blanks collapsed) has two
/// probabilities at frame t: p_b(ℓ), of the alignments that end in a blank,
/// and p_nb(ℓ), of those that end in ℓ's last token ℓₑ. The search starts
/// from the empty prefix (p_b = 1, p_nb = 0) and, for each frame with token
/// probabilities y, takes every prefix of the beam to frame t + 1
/// (`BeamSearchState.step`):
///
///     (1) p_b′(ℓ)    += (p_b(ℓ) + p_nb(ℓ)) · y_blank                 a blank
///     (2) p_nb′(ℓ)   += p_nb(ℓ) · y_ℓₑ                               ℓₑ again: its run goes on
///     (3) p_nb′(ℓ+k) += (k = ℓₑ ? p_b(ℓ) : p_b(ℓ) + p_nb(ℓ)) · y_k   a token k ≠ blank
///
/// (a repeated token needs a blank between, hence p_b alone in (3) for
/// k = ℓₑ). Only tokens with log y_k ≥ `tokenThreshold` are tried in (3). A
/// new prefix ℓ+k gets the scorer's weight once: extra(ℓ+k) = extra(ℓ) +
/// scorer(ℓ, k). The next beam is the `width` prefixes with the highest
/// log(p_b + p_nb) + extra, none more than `scorePruning` below the best
/// (`BeamSearchState.select`); at the end the scorer's `finish` is added and
/// the `nBest` best are returned. All of it in log space.
public struct PrefixBeamSearch {
    /// The beam's settings, scorer included.
    public var options: BeamSearchOptions
    /// The class index of the CTC blank.
    public var blank: Int

    /// A search with the given settings; the width and n-best must be at least 1.
    public init(_ options: BeamSearchOptions, blank: Int = 0) {
        precondition(options.width >= 1 && options.nBest >= 1, "beam width and n-best must be at least 1")
        self.options = options
        self.blank = blank
    }

    /// The n best hypotheses of one utterance, best first.
    ///
    /// - Shapes: logProbs [T, K] (rows beyond `length` are ignored).
    public func decode(_ logProbs: Matrix, length: Int? = nil) -> [Hypothesis] {
        let search = stream()
        search.consume(logProbs, rows: 0..<min(length ?? logProbs.rows, logProbs.rows))
        return search.finish()
    }

    /// A search over log-probabilities that arrive in blocks (a long
    /// recording, window by window). Memory stays flat: every
    /// `compactionInterval` frames, prefixes and emissions no beam entry can
    /// reach any more are dropped, and the tokens every entry shares are set
    /// aside. The result equals `decode` of all the rows at once.
    public func stream() -> BeamSearchStream {
        let states = options.scorer?.makeStates() ?? NoScorer().makeStates()
        return BeamSearchStream(BeamSearchBox(BeamSearchState(options: options, blank: blank, states: states)))
    }
}

/// An ongoing prefix beam search: `consume` rows of log-probabilities as they
/// come, then `finish` for the n best hypotheses.
public final class BeamSearchStream {
    private let state: BeamSearchBox

    init(_ state: BeamSearchBox) { self.state = state }

    /// Frames searched so far.
    public var frames: Int { state.frame }

    /// Frames between compactions (tests set it to show that compaction changes nothing).
    var compactionInterval: Int {
        get { state.compactionInterval }
        set { state.compactionInterval = max(1, newValue) }
    }

    /// Searches rows `rows` of `logProbs` (all of them by default) as the next frames.
    ///
    /// - Shapes: logProbs [t, K].
    public func consume(_ logProbs: Matrix, rows: Range<Int>? = nil) {
        state.consume(logProbs, rows: rows ?? 0..<logProbs.rows)
    }

    /// The n best hypotheses, best first.
    public func finish() -> [Hypothesis] { state.finish() }
}

/// Holds a `BeamSearchState` (a value, so that the search's arrays are
/// reached without the run-time exclusivity checks a class's properties get).
final class BeamSearchBox {
    var search: BeamSearchState
    /// Frames between compactions of the prefix tree and the emission chain.
    var compactionInterval = 256

    init(_ search: BeamSearchState) { self.search = search }

    var frame: Int { search.frame }
    func consume(_ logProbs: Matrix, rows: Range<Int>) {
        search.consume(logProbs, rows: rows, compactionInterval: compactionInterval)
    }
    func finish() -> [Hypothesis] { search.finish() }
}

import Foundation
import HarkCore

/// A score added to a hypothesis as it grows, token by token — the hook for
/// a language model. A word LM keeps the words so far and the partial word
/// in its `State`, returns its weighted log-probability when `token` ends a
/// word (0 or a partial-word estimate otherwise), and the end-of-sentence
/// score in `finish`. Hark's own, words from a vocabulary or an n-gram model
/// with hotwords, is `WordScorer` (HarkASR, which knows the model's tokens).
public protocol PrefixScorer: Sendable {
    associatedtype State
    /// The state of the empty prefix.
    var initialState: State { get }
    /// The state after appending `token`, and the log-weight that adds to the hypothesis's score.
    func advance(_ state: State, token: Int) -> (state: State, score: Float)
    /// The same in place: `state` becomes the state after `token`; returns
    /// the log-weight. The search calls this one (a scorer with a large
    /// `State` implements it, and the other in its terms, to spare copies).
    func advance(_ state: inout State, token: Int) -> Float
    /// The log-weight added when a hypothesis ends in `state`.
    func finish(_ state: State) -> Float
    /// The store the search keeps this scorer's states in. The default,
    /// `ScorerStateArray(self)`, is generic code the search runs without
    /// knowing `State`; a scorer whose module knows its concrete type returns
    /// a non-generic store there (see `ScorerStateArray`).
    func makeStates() -> any PrefixScorerStates
}

extension PrefixScorer {
    /// The default store: `ScorerStateArray(self)`.
    public func makeStates() -> any PrefixScorerStates { ScorerStateArray(self) }

    /// The in-place `advance` in terms of the copying one.
    public func advance(_ state: inout State, token: Int) -> Float {
        let (next, score) = advance(state, token: token)
        state = next
        return score
    }
}

/// A scorer's states held for the search, by index (state 0: the empty
/// prefix's). The search calls it once per new prefix, and so never handles
/// a `State` itself: a search generic over `State` would run as unspecialised
/// generic code (the scorer comes as `any PrefixScorer`), every field reached
/// through run-time type metadata.
public protocol PrefixScorerStates: AnyObject {
    /// States held.
    var count: Int { get }
    /// Appends the state after `token` from state `index`; its index and the score added.
    func advance(_ index: Int, token: Int) -> (index: Int, score: Float)
    /// The end-of-sentence score of state `index`.
    func finish(_ index: Int) -> Float
    /// Keeps the states whose `renumber` entry is not −1, in order, and writes their new indices there.
    func compact(_ renumber: inout [Int32])
}

/// The states of a `PrefixScorer` in an array. Its methods are inlinable, so
/// that a module that knows the scorer's concrete type can wrap one in a
/// final class of its own and get code specialised for that type.
public final class ScorerStateArray<S: PrefixScorer>: PrefixScorerStates {
    @usableFromInline let scorer: S
    /// Reached only through this store's methods, one search at a time: no run-time exclusivity checks.
    @exclusivity(unchecked) @usableFromInline var states: [S.State]

    /// A store holding the scorer's initial state as state 0.
    @inlinable public init(_ scorer: S) {
        self.scorer = scorer
        states = [scorer.initialState]
        states.reserveCapacity(8192)
    }

    /// States held.
    @inlinable public var count: Int { states.count }

    /// Appends the state after `token` from state `index`; its index and the score added.
    @inlinable public func advance(_ index: Int, token: Int) -> (index: Int, score: Float) {
        states.append(states[index])
        let score = scorer.advance(&states[states.count - 1], token: token)
        return (states.count - 1, score)
    }

    /// The end-of-sentence score of state `index`.
    @inlinable public func finish(_ index: Int) -> Float { scorer.finish(states[index]) }

    /// Keeps the states whose `renumber` entry is not −1, in order, and writes their new indices there.
    @inlinable public func compact(_ renumber: inout [Int32]) {
        var kept: [S.State] = []
        kept.reserveCapacity(max(1024, renumber.count / 2))
        for old in renumber.indices where renumber[old] >= 0 { renumber[old] = Int32(kept.count); kept.append(states[old]) }
        states = kept
    }
}

/// No scorer: every extension adds 0.
struct NoScorer: PrefixScorer {
    var initialState: Void { () }
    func advance(_ state: Void, token: Int) -> (state: Void, score: Float) { ((), 0) }
    func finish(_ state: Void) -> Float { 0 }
}

import HarkCore

/// CTC forced alignment: the single most likely path of a known label
/// sequence through the network's log-probabilities (Viterbi over CTC's
/// topology), as `torchaudio.functional.forced_align` computes it.
///
/// Shapes: log-probabilities lp [T, K]; labels l (length L, no blank); the
/// extended sequence l′ = (blank, l₁, blank, l₂, …, l_L, blank) of S = 2L + 1
/// states, state s emitting l′_s. With δₜ(s) the best log-probability of a
/// path that is in state s at frame t:
///
///     δ₀(0) = lp[0, blank],  δ₀(1) = lp[0, l₁],  δ₀(s) = −∞ otherwise
///     δₜ(s) = max(δₜ₋₁(s), δₜ₋₁(s − 1), δₜ₋₁(s − 2)) + lp[t, l′_s]
///
/// where the skip from s − 2 is allowed only into a label state (s odd, s ≥ 3)
/// whose label differs from the one before it (between repeats the blank is
/// required). The path ends in S − 1 (a final blank) or S − 2 (the last
/// label) and is traced back through the argmax of each step.
///
/// Ties are broken as torchaudio's CPU kernel breaks them
/// (`forced_align_impl` in `libtorchaudio/forced_align/cpu/compute.cpp`):
/// the skip only if strictly greater than both others, then the step from
/// s − 1 only if strictly greater than both others, else staying; at the end
/// S − 1 only if δ_{T−1}(S − 1) > δ_{T−1}(S − 2). Arithmetic is in Float as
/// there, so a float32 input gives torchaudio's path exactly (tested against
/// a committed fixture).
public enum ForcedAlignment {
    /// The aligned path.
    public struct Path: Equatable, Sendable {
        /// The state of l′ at every frame [T]: even = blank, odd 2i + 1 = label i.
        public var states: [Int]
        /// The class emitted at every frame [T] (torchaudio's first output).
        public var labels: [Int]
        /// lp[t, labels[t]] [T] (torchaudio's second output).
        public var scores: [Float]

        /// The number of labels aligned, L.
        public var labelCount: Int

        /// For each label i of the sequence, the frames its state holds,
        /// first ..< last + 1 (every label holds at least one frame).
        public var labelSpans: [Range<Int>] {
            var spans = [Range<Int>](repeating: 0..<0, count: labelCount)
            for (t, s) in states.enumerated() where s % 2 == 1 {
                let i = s / 2
                spans[i] = spans[i].isEmpty ? t..<(t + 1) : spans[i].lowerBound..<(t + 1)
            }
            return spans
        }
    }

    /// The most cells (T × S) one alignment may take: its back-pointers are a
    /// byte per cell, so this bounds its memory at 128 MiB.
    public static let maxCells = 1 << 27

    /// Aligns `labels` to `logProbs` [T, K].
    ///
    /// With `banded`, a recording too long for `maxCells` is aligned within a
    /// band of states around the diagonal (state ≈ t·(S − 1)/(T − 1)), as
    /// wide as `maxCells` allows: a long recording read at a steady pace
    /// against its whole transcript. The path is the full alignment's when it
    /// stays within the band.
    ///
    /// - Throws: `AlignmentError` when a label is the blank or out of range,
    ///   when T is shorter than L plus the repeats (no CTC path exists), when
    ///   T × S exceeds `maxCells` and `banded` is false, or when no path stays
    ///   within the band.
    public static func align(
        _ logProbs: Matrix, labels: [Int], blank: Int, banded: Bool = false,
        maxCells: Int = ForcedAlignment.maxCells
    ) throws -> Path {
        let T = logProbs.rows, K = logProbs.cols, L = labels.count, S = 2 * L + 1
        guard (0..<K).contains(blank) else { throw AlignmentError("the blank \(blank) is not one of the \(K) classes") }
        if let bad = labels.first(where: { $0 == blank || !(0..<K).contains($0) }) {
            throw AlignmentError(bad == blank ? "the labels contain the blank" : "label \(bad) is not one of the \(K) classes")
        }
        let repeats = L < 2 ? 0 : (1..<L).filter { labels[$0] == labels[$0 - 1] }.count
        guard T >= L + repeats else {
            throw AlignmentError("\(T) frames cannot hold \(L) labels with \(repeats) repeats (a CTC path needs \(L + repeats))")
        }
        // The states kept at each frame: all of them, or a band of W around the diagonal.
        let W = min(S, maxCells / max(T, 1))
        guard W == S || (banded && W >= 8) else {
            throw AlignmentError("\(T) frames × \(S) states is more than one alignment may hold (\(maxCells) cells); align shorter pieces")
        }
        /// The band's first state at frame t.
        func low(_ t: Int) -> Int {
            guard W < S, T > 1 else { return 0 }
            let centre = Int((Double(t) * Double(S - 1) / Double(T - 1)).rounded())
            return min(max(0, centre - W / 2), S - W)
        }
        /// l′_s.
        func emitted(_ s: Int) -> Int { s % 2 == 0 ? blank : labels[s / 2] }
        /// Whether state s may be entered from s − 2.
        func canSkip(_ s: Int) -> Bool { s % 2 == 1 && s >= 3 && labels[s / 2] != labels[s / 2 - 1] }

        // previous[j], current[j]: δ of state low(t) + j.
        var previous = [Float](repeating: -.infinity, count: W), current = previous
        // back[t·W + j] = how many states back the best predecessor of (t, low(t) + j) is: 0, 1 or 2.
        var back = [UInt8](repeating: 0, count: T * W)
        var lowPrevious = 0
        logProbs.data.withUnsafeBufferPointer { lp in
            previous[0] = lp[blank]
            if S > 1 { previous[1] = lp[labels[0]] }
            for t in 1..<max(1, T) {
                let row = t * K, lo = low(t)
                /// δₜ₋₁(s), −∞ outside the previous band.
                func before(_ s: Int) -> Float {
                    let j = s - lowPrevious
                    return s >= 0 && j >= 0 && j < W ? previous[j] : -.infinity
                }
                for j in 0..<W {
                    let s = lo + j
                    // δₜ(s) = max(δₜ₋₁(s), δₜ₋₁(s − 1), δₜ₋₁(s − 2)) + lp[t, l′_s]
                    let stay = before(s)
                    let step = before(s - 1)
                    let skip = canSkip(s) ? before(s - 2) : -Float.infinity
                    let best: Float, from: UInt8
                    if skip > step && skip > stay {
                        (best, from) = (skip, 2)
                    } else if step > stay && step > skip {
                        (best, from) = (step, 1)
                    } else {
                        (best, from) = (stay, 0)
                    }
                    current[j] = best + lp[row + emitted(s)]
                    back[t * W + j] = from
                }
                swap(&previous, &current)
                lowPrevious = lo
            }
        }
        let lastLow = low(T - 1)
        let final = previous[S - 1 - lastLow], beforeFinal = S > 1 ? previous[S - 2 - lastLow] : -Float.infinity
        guard final > -.infinity || beforeFinal > -.infinity else {
            throw AlignmentError(
                "no alignment stays within the band of \(W) states around a steady pace; the transcript may not match the recording, or align shorter pieces"
            )
        }
        var s = S > 1 && !(final > beforeFinal) ? S - 2 : S - 1
        var states = [Int](repeating: 0, count: T)
        for t in stride(from: T - 1, through: 0, by: -1) {
            states[t] = s
            if t > 0 { s -= Int(back[t * W + s - low(t)]) }
        }
        let path = states.map(emitted)
        let scores = path.enumerated().map { t, k in logProbs.data[t * K + k] }
        return Path(states: states, labels: path, scores: scores, labelCount: L)
    }
}

/// An alignment that cannot be made; the message says why.
public struct AlignmentError: Error, CustomStringConvertible, Sendable {
    /// Why the alignment cannot be made, in words.
    public var message: String
    /// An error with the given message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

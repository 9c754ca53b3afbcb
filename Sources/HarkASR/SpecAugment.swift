import HarkCore

/// SpecAugment-style masking (Park et al., 2019) without time warping: a few
/// bands of feature channels and a few spans of frames are set to 0 (the
/// mean, after CMVN).
public struct SpecAugment: Codable, Equatable, Sendable {
    /// Frequency bands masked per utterance.
    public var frequencyMasks = 2
    /// Widest frequency band, in feature channels.
    public var maxFrequencyWidth = 8
    /// Time spans masked per utterance.
    public var timeMasks = 2
    /// Widest time span, in frames (before stacking).
    public var maxTimeWidth = 20
    /// No time span is wider than this fraction of the utterance.
    public var maxTimeFraction: Float = 0.15

    /// Two frequency masks up to 8 channels wide and two time masks up to 20 frames (at most 15% of the utterance).
    public init() {}

    /// Masks `x` [T, F] in place. `channels`: the channels a frequency band
    /// may cover (the static features, not deltas: each band is repeated in
    /// every delta block).
    public func apply(_ x: inout Matrix, channels: Int, rng: inout SeededGenerator) {
        let T = x.rows, F = x.cols
        guard T > 0, channels > 0 else { return }
        let blocks = F / channels
        for _ in 0..<frequencyMasks {
            let width = Int(rng.next() % UInt64(maxFrequencyWidth + 1))
            guard width > 0 && width < channels else { continue }
            let start = Int(rng.next() % UInt64(channels - width + 1))
            for t in 0..<T { for blk in 0..<blocks { for f in start..<(start + width) { x[t, blk * channels + f] = 0 } } }
        }
        let widest = min(maxTimeWidth, Int(Float(T) * maxTimeFraction))
        for _ in 0..<timeMasks {
            guard widest > 0 else { break }
            let width = Int(rng.next() % UInt64(widest + 1))
            guard width > 0 else { continue }
            let start = Int(rng.next() % UInt64(T - width + 1))
            for t in start..<(start + width) { for f in 0..<F { x[t, f] = 0 } }
        }
    }
}

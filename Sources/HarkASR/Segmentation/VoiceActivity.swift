import Foundation

/// Whether each 10 ms of a signal is speech, from its level against a noise
/// floor tracked over the last seconds: the voice-activity decision that
/// `Segmenter` cuts recordings and streams with.
///
/// Frame t is the samples t·h ..< (t+1)·h (h = `frameSamples`, the feature
/// frame shift). With x̄ the frame's mean (DC is not sound),
///
///     L_t = 10·log₁₀(mean((x − x̄)²))                   the frame's level, dBFS
///     S_t = 10·log₁₀(mean(10^(L_τ/10), τ = t−4 … t))    smoothed over five frames
///     N_t = min(S_τ, τ = t−W+1 … t)                     the noise floor over W frames
///     speech_t  ⇔  L_t ≥ max(absoluteFloor, N_t + threshold)
///
/// The floor follows the smoothed level, so that one quiet frame inside a
/// word does not pull it down; the decision takes the frame's own level, so
/// that speech starts and ends where the frames say, not 40 ms later.
///
/// The first 0.3 s are decided together once they have all arrived, against
/// the lowest S among them, capped at `initialFloor` (their S values enter
/// the floor window capped so): a recording that starts in steady noise does
/// not take the noise for speech, and a clip cut tight around loud speech,
/// with no quiet moment to take the floor from, still has its speech.
///
/// Decisions depend on the frame and the frames before it (and, for the first
/// 0.3 s, on those 0.3 s) only: a stream fed in blocks of any size and the
/// same samples as a file get the same decisions.
public struct VoiceActivityOptions: Codable, Equatable, Sendable {
    /// dB above the noise floor that a frame must reach to be speech.
    public var threshold: Float = 12
    /// dBFS below which a frame is never speech: digital silence, a DC
    /// offset, faint hiss. Speech sits around −40 to −10 dBFS.
    public var absoluteFloor: Float = -55
    /// Seconds of history the noise floor is the minimum of.
    public var floorWindow: Double = 3
    /// The highest floor the first 0.3 s can have, dBFS.
    public var initialFloor: Float = -50

    /// The defaults: 12 dB above a floor over 3 s, never below −55 dBFS, an initial floor of at most −50 dBFS.
    public init() {}

    /// Throws a message naming the first bad value.
    public func validate() throws {
        guard threshold.isFinite && (0...60).contains(threshold) else {
            throw SegmentationError("the speech threshold must be 0 to 60 dB above the noise floor (got \(threshold))")
        }
        guard absoluteFloor.isFinite && (-120...0).contains(absoluteFloor) else {
            throw SegmentationError("the silence floor must be between -120 and 0 dBFS (got \(absoluteFloor))")
        }
        guard floorWindow.isFinite && (0.5...60).contains(floorWindow) else {
            throw SegmentationError("the noise-floor window must be 0.5 to 60 s (got \(floorWindow))")
        }
        guard initialFloor.isFinite && (-120...0).contains(initialFloor) else {
            throw SegmentationError("the initial noise floor must be between -120 and 0 dBFS (got \(initialFloor))")
        }
    }
}

/// The frame-by-frame decisions of `VoiceActivityOptions`, for frames that
/// arrive one at a time. Memory: the W smoothed levels of the floor window.
public struct VoiceActivityDetector: Sendable {
    /// One frame's decision, its level L_t and its smoothed level S_t, dBFS.
    public struct Decision: Sendable, Equatable {
        /// Whether the frame is speech.
        public var speech: Bool
        /// The frame's level L_t, dBFS.
        public var level: Float
        /// The frame's level smoothed over five frames, S_t, dBFS.
        public var smoothedLevel: Float
    }

    /// Seconds at the start decided together.
    static let warmUpSeconds = 0.3
    /// The decision's settings.
    public let options: VoiceActivityOptions
    /// Samples per frame.
    public let frameSamples: Int
    /// Frames in the floor window and in the warm-up.
    private let window: Int, warmUp: Int
    /// The last five frames' mean squares (the smoothing), oldest first.
    private var recentPower: [Float] = []
    /// S over the floor window, a ring buffer, and where the next goes.
    private var smoothed: [Float]
    private var next = 0
    /// The warm-up's frames (L_t, S_t) until it is complete.
    private var pending: [(level: Float, smoothed: Float)] = []
    private var frames = 0

    /// - Parameters:
    ///   - frameSamples: samples per frame (the feature frame shift, 10 ms as a rule).
    public init(options: VoiceActivityOptions = VoiceActivityOptions(), sampleRate: Int, frameSamples: Int) {
        self.options = options
        self.frameSamples = max(1, frameSamples)
        let perSecond = Double(sampleRate) / Double(self.frameSamples)
        window = max(1, Int((options.floorWindow * perSecond).rounded()))
        warmUp = min(window, max(1, Int((Self.warmUpSeconds * perSecond).rounded())))
        smoothed = [Float](repeating: .infinity, count: window)
    }

    /// Measures the next frame (`frameSamples` samples); returns the
    /// decisions now made, oldest first: none during the warm-up, then the
    /// warm-up's all at once, then one per frame.
    public mutating func push(_ frame: ArraySlice<Float>) -> [Decision] {
        let power = LevelMeter.meanSquare(frame)
        if recentPower.isEmpty { recentPower = [Float](repeating: power, count: 5) }
        recentPower.removeFirst()
        recentPower.append(power)
        let level = 10 * log10f(max(power, 1e-30))
        let s = 10 * log10f(max(recentPower.reduce(0, +) / 5, 1e-30))
        frames += 1
        smoothed[next] = frames <= warmUp ? min(s, options.initialFloor) : s
        next = (next + 1) % window
        if frames < warmUp {
            pending.append((level, s))
            return []
        }
        if frames == warmUp {
            pending.append((level, s))
            return flush()
        }
        return [decide(level, s)]
    }

    /// The warm-up's decisions when the signal ended within it.
    public mutating func flush() -> [Decision] {
        defer { pending = [] }
        return pending.map { decide($0.level, $0.smoothed) }
    }

    private func decide(_ level: Float, _ smoothedLevel: Float) -> Decision {
        let floor = smoothed.min()!
        return Decision(
            speech: level >= max(options.absoluteFloor, floor + options.threshold), level: level,
            smoothedLevel: smoothedLevel)
    }
}

/// A segmentation setting that cannot be used; the message names it.
public struct SegmentationError: Error, CustomStringConvertible, Sendable {
    /// The setting and its accepted range, in words.
    public var message: String
    /// An error with the given message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

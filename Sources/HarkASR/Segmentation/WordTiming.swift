import Foundation
import HarkCore

/// Where speech is in one utterance, 10 ms at a time: the decisions of a
/// `VoiceActivityDetector` run over its samples, with a rule made to hear
/// the quiet ends of words (a fricative's hiss, a final stop's burst) that a
/// cut between utterances does not need.
public struct SpeechActivity: Sendable {
    /// Samples per frame (the feature shift).
    public let frameSamples: Int
    /// Whether each frame is speech.
    public let speech: [Bool]
    /// Each frame's smoothed level S_t, dBFS: where a word boundary inside
    /// continuous speech falls (its quietest moment).
    public let levels: [Float]

    /// Sensitive to the quiet ends of words: 9 dB above the tracked floor,
    /// with no absolute floor (the utterance is known to hold speech).
    public static var wordBoundaries: VoiceActivityOptions {
        var o = VoiceActivityOptions()
        o.threshold = 9
        o.absoluteFloor = -120
        return o
    }

    /// The activity of an utterance's samples, in frames of `frameSamples` samples (a trailing partial frame is
    /// not decided).
    public init(samples: [Float], sampleRate: Int, frameSamples: Int, options: VoiceActivityOptions = wordBoundaries) {
        var builder = Builder(sampleRate: sampleRate, frameSamples: frameSamples, options: options)
        builder.feed(samples)
        self = builder.finish()
    }

    init(frameSamples: Int, speech: [Bool], levels: [Float]) {
        self.frameSamples = frameSamples
        self.speech = speech
        self.levels = levels
    }

    /// The activity of samples that arrive in blocks (a recording read as a
    /// stream): five bytes per frame are kept, not the samples.
    public struct Builder: Sendable {
        private var detector: VoiceActivityDetector
        private var pending: [Float] = []
        private var speech: [Bool] = [], levels: [Float] = []

        /// A builder for frames of `frameSamples` samples at `sampleRate` Hz.
        public init(sampleRate: Int, frameSamples: Int, options: VoiceActivityOptions = SpeechActivity.wordBoundaries) {
            detector = VoiceActivityDetector(options: options, sampleRate: sampleRate, frameSamples: frameSamples)
        }

        /// Adds samples; whole frames are decided, the rest waits for the next block.
        public mutating func feed(_ samples: [Float]) {
            let h = detector.frameSamples
            pending += samples
            var start = 0
            while start + h <= pending.count {
                for d in detector.push(pending[start..<(start + h)]) {
                    speech.append(d.speech)
                    levels.append(d.smoothedLevel)
                }
                start += h
            }
            pending.removeFirst(start)
        }

        /// The activity of the samples fed (a trailing partial frame is not decided).
        public mutating func finish() -> SpeechActivity {
            for d in detector.flush() {
                speech.append(d.speech)
                levels.append(d.smoothedLevel)
            }
            return SpeechActivity(frameSamples: detector.frameSamples, speech: speech, levels: levels)
        }
    }
}

/// Word times on the speech, not on CTC's spikes.
///
/// A CTC network emits each character on a frame or two somewhere inside it
/// and blanks around it, so times read off the emitting frames start and end
/// early or late: the first word of a recording "starts" at its first frame,
/// and a word's end is its last character's spike, not where its sound stops.
/// The aligned frames of each word (its tokens' first to last frame, from the
/// decoder or a forced alignment) are only anchors here:
///
/// 1. A word's anchor is its tokens' frames. When none of them is speech, the
///    nearest speech frame within `reach` of them is (none: the CTC times stay).
/// 2. Its core is the run of frames through its anchor that are speech and
///    within `range` dB of the loudest speech frame around the anchor: a
///    clip's own room noise, quiet next to its speech, and the click where
///    the clip was cut are not taken for the word's start when silence
///    fainter still surrounds the clip (the detector calls them speech
///    against that silence).
/// 3. From the core the word grows over such frames, across gaps of at most
///    `bridge` (a stop's closure inside a word), never into another word's
///    core and never past the anchors of the words beside it.
/// 4. Where two words then meet or overlap — continuous speech — the
///    boundary is the quietest frame between their anchors.
public struct WordTiming: Sendable {
    /// Frames a word's anchor may move to find speech (150 ms).
    public var reach = 15
    /// The longest gap in speech a word grows across (80 ms).
    public var bridge = 8
    /// dB under the loudest frame of a word's core that still count as its
    /// speech (the room noise of AN4's clips sits 30–60 dB under their speech).
    public var range: Float = 35

    /// The defaults: a reach of 15 frames, a bridge of 8, a range of 35 dB.
    public init() {}

    /// - Parameters:
    ///   - anchors: each word's aligned frames, in activity frames, in order (first ..< end).
    /// - Returns: each word's span, in activity frames.
    public func refine(_ anchors: [Range<Int>], activity: SpeechActivity) -> [Range<Int>] {
        let speech = activity.speech, n = speech.count
        guard n > 0, !anchors.isEmpty else { return anchors }
        func isSpeech(_ t: Int) -> Bool { t >= 0 && t < n && speech[t] }
        func limits(_ i: Int) -> (Int, Int) {
            (i > 0 ? anchors[i - 1].upperBound : 0, i + 1 < anchors.count ? anchors[i + 1].lowerBound : n)
        }
        // 1–2. Each word's core, nil when no speech is within reach.
        var owner = [Int?](repeating: nil, count: n)
        var floors = [Float](repeating: -.infinity, count: anchors.count)
        let cores: [Range<Int>?] = anchors.indices.map { i in
            let anchor = anchors[i], (left, right) = limits(i)
            var first = anchor.first { isSpeech($0) }, last = anchor.last { isSpeech($0) }
            if first == nil {
                for d in 1...reach {
                    if anchor.lowerBound - d >= left, isSpeech(anchor.lowerBound - d) { first = anchor.lowerBound - d; break }
                    if anchor.upperBound - 1 + d < right, isSpeech(anchor.upperBound - 1 + d) { first = anchor.upperBound - 1 + d; break }
                }
                last = first
            }
            guard let speechFrame = first, var lo = first, var hi = last else { return nil }
            while lo - 1 >= left && isSpeech(lo - 1) { lo -= 1 }
            while hi + 1 < right && isSpeech(hi + 1) { hi += 1 }
            // Within `range` of the run's loudest frame: the loud run through the anchor's speech frame (through
            // the loudest frame when that one is faint).
            let floor = (lo...hi).map { activity.levels[$0] }.max()! - range
            var seed = speechFrame
            if activity.levels[seed] < floor { seed = (lo...hi).max { activity.levels[$0] < activity.levels[$1] }! }
            var a = seed, b = seed
            while a - 1 >= lo && activity.levels[a - 1] >= floor { a -= 1 }
            while b + 1 <= hi && activity.levels[b + 1] >= floor { b += 1 }
            (lo, hi) = (a, b)
            floors[i] = floor
            for t in lo...hi where owner[t] == nil { owner[t] = i }
            return lo..<(hi + 1)
        }
        // 3. Growth across short gaps, into speech no other word holds.
        var spans: [Range<Int>] = []
        for (i, core) in cores.enumerated() {
            guard let core else {
                spans.append(anchors[i])
                continue
            }
            let (left, right) = limits(i)
            func free(_ t: Int) -> Bool { isSpeech(t) && activity.levels[t] >= floors[i] && (owner[t] == nil || owner[t] == i) }
            var lo = core.lowerBound, hi = core.upperBound - 1
            let loud = { (t: Int) in isSpeech(t) && activity.levels[t] >= floors[i] }
            while let step = (1...(bridge + 1)).first(where: { lo - $0 >= left && loud(lo - $0) }), free(lo - step) { lo -= step }
            while let step = (1...(bridge + 1)).first(where: { hi + $0 < right && loud(hi + $0) }), free(hi + step) { hi += step }
            spans.append(lo..<(hi + 1))
        }
        // 4. Words that meet: split at the quietest frame between their anchors.
        let levels = activity.levels
        for i in spans.indices.dropFirst() where spans[i].lowerBound <= spans[i - 1].upperBound {
            let from = min(anchors[i - 1].upperBound, levels.count - 1), to = min(anchors[i].lowerBound, levels.count)
            var cut = from
            for t in from..<max(from, to) where levels[t] < levels[cut] { cut = t }
            spans[i - 1] = spans[i - 1].lowerBound..<max(spans[i - 1].lowerBound + 1, cut)
            spans[i] = cut..<max(cut + 1, spans[i].upperBound)
        }
        return spans
    }
}

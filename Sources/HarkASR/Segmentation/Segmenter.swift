import Foundation

/// How a recording or a stream is cut into utterances at its pauses.
///
/// Peers: faster-whisper's `vad_filter` (speech padding, minimum silence and
/// maximum speech duration), Kaldi's online endpointer (trailing silence
/// after speech ends an utterance; a maximum length cuts one without a pause),
/// Vosk's endpointer built on it.
public struct SegmenterOptions: Codable, Equatable, Sendable {
    /// Seconds without speech that end an utterance (the endpoint).
    public var endpointSilence: Double = 0.8
    /// Seconds of audio kept before an utterance's first and after its last
    /// speech frame (at most half of the pause on each side of it).
    public var speechPad: Double = 0.2
    /// An utterance with fewer seconds of speech frames is a click or a
    /// breath, not speech, and is dropped.
    public var minSpeech: Double = 0.1
    /// The longest utterance, seconds: a longer stretch without a pause is
    /// cut at its quietest moment in the last quarter.
    public var maxUtterance: Double = 20
    /// The per-frame decision.
    public var voiceActivity = VoiceActivityOptions()

    /// The defaults: 0.8 s endpoint, 0.2 s padding, 0.1 s shortest speech, 20 s longest utterance.
    public init() {}

    /// The defaults, with the given endpoint silence and longest utterance (seconds).
    public init(endpointSilence: Double, maxUtterance: Double) {
        self.endpointSilence = endpointSilence
        self.maxUtterance = maxUtterance
    }

    /// Throws a message naming the first bad value.
    public func validate() throws {
        guard endpointSilence.isFinite && endpointSilence >= 0.1 && endpointSilence <= 30 else {
            throw SegmentationError("the endpoint silence must be between 0.1 and 30 s (got \(endpointSilence))")
        }
        guard speechPad.isFinite && speechPad >= 0 && speechPad <= endpointSilence / 2 else {
            throw SegmentationError(
                "the speech padding must be between 0 and half the endpoint silence, \(endpointSilence / 2) s (got \(speechPad))")
        }
        guard minSpeech.isFinite && minSpeech >= 0 && minSpeech <= 10 else {
            throw SegmentationError("the shortest speech must be between 0 and 10 s (got \(minSpeech))")
        }
        guard maxUtterance.isFinite && maxUtterance >= 1 && maxUtterance <= Limits.maxStreamUtteranceSeconds else {
            throw SegmentationError(
                "the longest utterance must be between 1 and \(Int(Limits.maxStreamUtteranceSeconds)) s (got \(maxUtterance))")
        }
        try voiceActivity.validate()
    }
}

/// One utterance cut from a recording: its samples and where they were.
public struct AudioSegment: Sendable, Equatable {
    /// The samples, `start ..< start + samples.count` of the recording.
    public var samples: [Float]
    /// Sample index in the recording of `samples[0]`: a multiple of the
    /// segmenter's grid (the network's frame), so that every segment's
    /// network frames fall on the recording's frame grid.
    public var start: Int
    /// The first and last-plus-one sample of its speech frames (without padding).
    public var speechStart: Int, speechEnd: Int

    /// The sample index in the recording just past `samples`.
    public var end: Int { start + samples.count }
}

/// Cuts audio that arrives in blocks into utterances at pauses, as it
/// arrives: the one voice-activity and endpointing component behind
/// `Transcriber` (files), `StreamingRecognizer` (live audio, `hark serve`'s
/// streams) and so `hark eval`.
///
/// Frames are `frameSamples` long (the feature shift, 10 ms); each is speech
/// or not (`VoiceActivityDetector`). An utterance opens at a speech frame and
/// closes once `endpointSilence` has passed without one:
///
///     start = first speech frame − pad,   end = last speech frame + 1 + pad
///
/// (pad = `speechPad`; the start rounded down to the grid and never before
/// the previous utterance's end). One that reaches `maxUtterance` without a
/// pause is cut at the quietest frame of its last quarter, and the rest goes
/// on as the next. Utterances with less than `minSpeech` of speech frames are
/// dropped. Only the open utterance (at most `maxUtterance` + pad) and the
/// pad before speech are held: memory does not grow with the recording.
///
/// The cuts depend on the samples only, not on how they are split into
/// blocks: the same recording as a file and as a stream is cut alike.
public final class Segmenter {
    /// How the audio is cut.
    public let options: SegmenterOptions
    /// Samples per voice-activity frame and per grid step.
    public let frameSamples: Int, gridSamples: Int
    private var detector: VoiceActivityDetector

    /// Samples from `bufferStart` on (the pad before speech, or the open utterance).
    private var buffer: [Float] = []
    private var bufferStart = 0
    /// Samples fed so far, those measured by the detector (whole frames) and
    /// those it has decided (the warm-up is decided late).
    public private(set) var samplesFed = 0
    private var measured = 0, classified = 0

    /// The open utterance, in samples of the recording; nil between utterances.
    private var openStart: Int?
    private var lastSpeechEnd = 0, firstSpeech = 0, speechFrames = 0
    /// The smoothed level of each frame of the open utterance (to find its quietest moment).
    private var levels: [Float] = []
    /// Where the previous utterance ended: the next one never starts before.
    private var previousEnd = 0

    private let endpointFrames: Int, padSamples: Int, minSpeechFrames: Int, maxSamples: Int

    /// - Parameters:
    ///   - frameSamples: samples per decision (the feature frame shift).
    ///   - gridSamples: utterances start at multiples of this (the network's frame).
    public init(options: SegmenterOptions = SegmenterOptions(), sampleRate: Int, frameSamples: Int, gridSamples: Int) throws {
        try options.validate()
        self.options = options
        self.frameSamples = max(1, frameSamples)
        self.gridSamples = max(1, gridSamples)
        precondition(self.gridSamples % self.frameSamples == 0, "the grid \(gridSamples) must be whole frames of \(frameSamples)")
        detector = VoiceActivityDetector(options: options.voiceActivity, sampleRate: sampleRate, frameSamples: self.frameSamples)
        let rate = Double(sampleRate), frame = Double(self.frameSamples)
        endpointFrames = max(1, Int((options.endpointSilence * rate / frame).rounded()))
        padSamples = Int((options.speechPad * rate).rounded())
        minSpeechFrames = Int((options.minSpeech * rate / frame).rounded())
        maxSamples = max(self.gridSamples, Int((options.maxUtterance * rate).rounded()))
    }

    /// Whether an utterance is open (speech has started and not yet ended).
    public var inUtterance: Bool { openStart != nil }

    /// The open utterance so far: its samples up to the last classified
    /// frame, and its start (nil between utterances).
    public var openUtterance: (samples: [Float], start: Int)? {
        guard let start = openStart else { return nil }
        return (Array(buffer[(start - bufferStart)..<(classified - bufferStart)]), start)
    }

    /// Samples held.
    public var bufferedSamples: Int { buffer.count }

    /// Feeds the next samples; returns the utterances they complete, in order.
    public func feed(_ samples: [Float]) -> [AudioSegment] {
        buffer.append(contentsOf: samples)
        samplesFed += samples.count
        var done: [AudioSegment] = []
        while measured + frameSamples <= samplesFed {
            let lo = measured - bufferStart
            let decisions = detector.push(buffer[lo..<(lo + frameSamples)])
            measured += frameSamples
            done += apply(decisions)
        }
        trim()
        return done
    }

    /// Runs the endpointing rules over decisions, frame after frame.
    private func apply(_ decisions: [VoiceActivityDetector.Decision]) -> [AudioSegment] {
        var done: [AudioSegment] = []
        for d in decisions {
            let frameStart = classified
            classified += frameSamples
            if let segment = step(frameStart: frameStart, speech: d.speech, level: d.smoothedLevel) { done.append(segment) }
        }
        return done
    }

    /// The end of the audio: the open utterance, if any, ends with it.
    public func finish() -> [AudioSegment] {
        var done = apply(detector.flush())
        defer {
            buffer = []
            bufferStart = samplesFed
            measured = samplesFed
            classified = samplesFed
        }
        if openStart != nil, let last = close(at: min(samplesFed, lastSpeechEnd + padSamples)) { done.append(last) }
        return done
    }

    /// One frame's decision.
    private func step(frameStart: Int, speech: Bool, level: Float) -> AudioSegment? {
        let frameEnd = frameStart + frameSamples
        guard let start = openStart else {
            guard speech else { return nil }
            // Speech opens an utterance `pad` earlier, on the grid, not before the last one's end.
            let padded = max(previousEnd, frameStart - padSamples)
            var s = padded / gridSamples * gridSamples
            if s < previousEnd { s += gridSamples }
            s = min(s, frameStart / gridSamples * gridSamples)
            openStart = max(s, bufferStart)
            firstSpeech = frameStart
            lastSpeechEnd = frameEnd
            speechFrames = 1
            levels = [Float](repeating: level, count: (frameEnd - openStart!) / frameSamples)
            return nil
        }
        levels.append(level)
        if speech {
            lastSpeechEnd = frameEnd
            speechFrames += 1
        } else if (frameEnd - lastSpeechEnd) / frameSamples >= endpointFrames {
            return close(at: lastSpeechEnd + padSamples)
        }
        if frameEnd - start >= maxSamples {
            // No pause within the longest utterance: cut at the quietest frame of its last quarter.
            let count = levels.count, from = count - max(1, count / 4)
            var quietest = from
            for i in from..<count where levels[i] < levels[quietest] { quietest = i }
            let cut = max(start + gridSamples, (start + quietest * frameSamples) / gridSamples * gridSamples)
            return close(at: cut, keepOpen: true)
        }
        return nil
    }

    /// Ends the open utterance at sample `end` (exclusive). With `keepOpen`,
    /// the audio from `end` on starts the next utterance at once (a cut
    /// without a pause). Nil when it held too little speech.
    private func close(at end: Int, keepOpen: Bool = false) -> AudioSegment? {
        guard let start = openStart else { return nil }
        let stop = max(start, min(end, classified))
        let samples = Array(buffer[(start - bufferStart)..<(stop - bufferStart)])
        let segment = AudioSegment(
            samples: samples, start: start, speechStart: min(stop, max(start, firstSpeech)),
            speechEnd: max(start, min(stop, lastSpeechEnd)))
        let enough = speechFrames >= max(1, minSpeechFrames) && stop > start
        previousEnd = stop
        if keepOpen && lastSpeechEnd > stop {
            // Speech goes on past the cut: it opens the next utterance there.
            levels.removeFirst(min((stop - start) / frameSamples, levels.count))
            openStart = stop
            firstSpeech = stop
            speechFrames = (lastSpeechEnd - stop) / frameSamples
        } else {
            openStart = nil
            levels = []
        }
        return enough ? segment : nil
    }

    /// Drops samples no utterance can use: all but the pad before the next
    /// frame when none is open, everything before the open one's start.
    private func trim() {
        let keepFrom = openStart ?? max(previousEnd, classified - padSamples - gridSamples)
        let drop = keepFrom - bufferStart
        if drop > 0 {
            buffer.removeFirst(drop)
            bufferStart = keepFrom
        }
    }
}

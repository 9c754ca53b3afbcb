import Foundation
import HarkCore
import HarkFeatures
import HarkNN

/// How live audio is cut into utterances and how often partial results come.
public struct StreamingOptions: Sendable, Equatable {
    /// Seconds of audio between partial results.
    public var partialInterval: Double = 0.5
    /// How the stream is cut into utterances: the same segmenter, with the
    /// same defaults, as `Transcriber.segmentation` for files.
    public var segmentation = SegmenterOptions()

    /// Seconds without speech that end an utterance (`segmentation.endpointSilence`).
    public var endpointSilence: Double {
        get { segmentation.endpointSilence }
        set { segmentation.endpointSilence = newValue }
    }
    /// The longest utterance (`segmentation.maxUtterance`): memory and the
    /// cost of a partial stay bounded.
    public var maxUtterance: Double {
        get { segmentation.maxUtterance }
        set { segmentation.maxUtterance = newValue }
    }

    /// Options with the given partial interval (seconds) and segmenter.
    public init(partialInterval: Double = 0.5, segmentation: SegmenterOptions = SegmenterOptions()) {
        self.partialInterval = partialInterval
        self.segmentation = segmentation
    }

    /// Options with the given partial interval, endpoint silence and longest utterance (seconds), the segmenter's
    /// other options at their defaults.
    public init(
        partialInterval: Double = 0.5, endpointSilence: Double = SegmenterOptions().endpointSilence,
        maxUtterance: Double = SegmenterOptions().maxUtterance
    ) {
        self.partialInterval = partialInterval
        segmentation = SegmenterOptions(endpointSilence: endpointSilence, maxUtterance: maxUtterance)
    }

    /// Throws a message naming the first bad value.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw StreamingError(message: message) } }
        try check(
            partialInterval.isFinite && partialInterval >= 0.05 && partialInterval <= 10,
            "the partial interval must be between 0.05 and 10 s (got \(partialInterval))")
        do { try segmentation.validate() } catch let e as SegmentationError { throw StreamingError(message: e.message) }
        try check(maxUtterance > 2 * partialInterval, "the longest utterance must exceed two partial intervals")
    }
}

/// Streaming options that cannot be used.
public struct StreamingError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, in words.
    public var message: String
    /// The message.
    public var description: String { message }
    /// An error with the given message.
    public init(message: String) { self.message = message }
}

/// One message of a live transcription: a partial result (the current
/// utterance so far; the next partial or final replaces it) or a final one
/// (an utterance is over). Times are seconds from the start of the stream.
public struct StreamResult: Codable, Equatable, Sendable {
    /// A partial result (replaced by the next one) or a final one.
    public enum Kind: String, Codable, Sendable { case partial, final }
    /// Whether the result is partial or final.
    public var type: Kind
    /// The utterance's text so far.
    public var text: String
    /// The utterance's start, in seconds from the start of the stream.
    public var start: Double
    /// The end of the audio the result covers, in seconds from the start of the stream.
    public var end: Double
    /// The words with their times (seconds from the start of the stream) and confidences.
    public var words: [Word]

    /// One JSON line: `{"end", "start", "text", "type", "words"}`, times in ms precision.
    public var jsonLine: String {
        var r = self
        func ms(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        r.start = ms(start)
        r.end = ms(end)
        r.words = words.map { w in
            Word(
                word: w.word, start: w.start.map(ms), end: w.end.map(ms),
                confidence: w.confidence.map { ($0 * 10000).rounded() / 10000 })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self)
    }
}

/// Live recognition: samples go in as they arrive, in blocks of any size;
/// partial results come out every `partialInterval` of an utterance's audio
/// and a final result at the end of each utterance.
///
/// The stream is cut into utterances by a `Segmenter` — the one that cuts
/// files for `Transcriber`, with the same options — and each utterance's
/// final result is `Transcriber.transcribeUtterance` of its samples: so the
/// finals of a stream are the segments of `Transcriber.transcribe` of the
/// same audio as a file, word for word and time for time. Audio between
/// utterances is dropped but for the padding kept before speech; memory is
/// bounded by `maxUtterance`.
///
/// A partial runs the pipeline over the utterance so far: a bidirectional
/// model sees no audio beyond the newest sample (its look-ahead is what has
/// arrived), so a partial may still change; the final fixes it. Results do
/// not depend on how the audio is split into blocks: the segmenter decides
/// frame by frame, and partials fall on the first frame boundary at or after
/// each multiple of `partialInterval` from the utterance's start.
///
/// Latency: a partial is due `partialInterval` after the audio it covers (plus
/// its computation, a few ms); a final `endpointSilence` after the last word.
///
/// Incremental work: the MFCC/fbank frames of an utterance are computed once,
/// as its samples arrive (each frame depends on its own samples only; with
/// dither or `snip_edges=false` they are recomputed). CMVN, stacking and a
/// bidirectional network then run over the utterance so far. A
/// unidirectional model without CMVN or deltas carries its recurrent state
/// from one partial to the next and runs only the new frames: the
/// log-probabilities equal one run over the whole utterance.
public final class StreamingRecognizer {
    /// The pipeline each utterance runs through.
    public let transcriber: Transcriber
    /// The stream's options.
    public let options: StreamingOptions
    private let segmenter: Segmenter
    /// Samples received so far.
    public private(set) var samplesReceived = 0
    /// Samples held: the open utterance, or the padding before the next.
    public var bufferedSamples: Int { segmenter.bufferedSamples }

    private let rate: Int
    private let interval: Int
    /// The open utterance's start (stream samples) and where its next partial falls.
    private var utteranceStart: Int?
    private var nextPartial = 0

    /// Base features (before CMVN and deltas) of the open utterance: `baseFrames` rows, flat.
    private var base: [Float] = []
    private var baseFrames = 0
    /// Whether frames can be computed once each (no dither, frames inside the signal).
    private let incremental: Bool
    /// Whether the network can continue from its state (unidirectional, no CMVN, no deltas).
    public let carriesState: Bool
    /// The carried state, the network frames already run and their log-probabilities [stackedDone, K].
    private var state: RecurrentState?
    private var stackedDone = 0
    private var carriedLogProbs: [Float] = []

    /// A recognizer for one stream; throws when the options are out of range or the segmenter cannot be made.
    public init(transcriber: Transcriber, options: StreamingOptions = StreamingOptions()) throws {
        try options.validate()
        self.transcriber = transcriber
        self.options = options
        segmenter = try transcriber.makeSegmenter(options.segmentation)
        let config = transcriber.model.config
        rate = config.sampleRate
        interval = max(1, Int((options.partialInterval * Double(rate)).rounded()))
        let frame = config.features.frame
        incremental = frame.snipEdges && frame.dither == 0
        carriesState =
            incremental && !config.network.bidirectional && config.features.cmvn == .none && config.features.deltas == 0
            && config.frontend == nil
    }

    /// Seconds of audio received.
    public var secondsReceived: Double { Double(samplesReceived) / Double(rate) }

    /// Feeds samples (mono, in [-1, 1], at the model's rate); returns the
    /// results they complete, in order.
    public func accept(_ samples: [Float]) -> [StreamResult] {
        var results: [StreamResult] = []
        let frame = segmenter.frameSamples
        var rest = samples[...]
        while !rest.isEmpty {
            // Up to the next frame boundary, so that every decision is seen as it is made.
            let take = min(rest.count, frame - samplesReceived % frame)
            samplesReceived += take
            for segment in segmenter.feed(Array(rest.prefix(take))) { results += finalResult(segment) }
            rest = rest.dropFirst(take)
            results += partialIfDue()
        }
        return results
    }

    /// Ends the stream: the final result of the utterance still open.
    public func finish() -> [StreamResult] {
        segmenter.finish().flatMap(finalResult)
    }

    /// A partial result when the open utterance has reached its next interval.
    private func partialIfDue() -> [StreamResult] {
        guard let open = segmenter.openUtterance else { return [] }
        if open.start != utteranceStart {
            restartUtterance()
            utteranceStart = open.start
        }
        guard open.samples.count >= nextPartial + interval else { return [] }
        nextPartial = open.samples.count / interval * interval
        let logProbs = logProbabilitiesSoFar(open.samples)
        let t = transcriber.decode(
            logProbs, duration: Double(open.samples.count) / Double(rate),
            activity: transcriber.activity(open.samples))
        guard !t.text.isEmpty else { return [] }
        return [result(.partial, t, start: open.start, samples: open.samples.count)]
    }

    /// The final result of a finished utterance; empty when it has no words.
    private func finalResult(_ segment: AudioSegment) -> [StreamResult] {
        restartUtterance()
        let t = transcriber.transcribeUtterance(segment.samples)
        return t.text.isEmpty ? [] : [result(.final, t, start: segment.start, samples: segment.samples.count)]
    }

    /// A new utterance: its frames and state start again.
    private func restartUtterance() {
        utteranceStart = nil
        nextPartial = 0
        base = []
        baseFrames = 0
        state = nil
        stackedDone = 0
        carriedLogProbs = []
    }

    /// Log-probabilities [T, K] of `samples`, the open utterance so far.
    private func logProbabilitiesSoFar(_ samples: [Float]) -> Matrix {
        guard incremental else { return transcriber.logProbabilities(samples) }
        let model = transcriber.model, extractor = model.extractor
        let frame = model.config.features.frame
        let shift = frame.windowShift, size = frame.windowSize
        // The new frames only: frame t covers samples t·shift ..< t·shift + size.
        let total = frame.frameCount(sampleCount: samples.count)
        if total > baseFrames {
            let lo = baseFrames * shift, hi = (total - 1) * shift + size
            base += extractor.computeBase(Array(samples[lo..<hi])).data
            baseFrames = total
        }
        let F = extractor.baseDimension, k = model.config.stackFrames, K = model.config.tokens.count
        // From here on, the offline pipeline's own steps (`AcousticModel.networkInput`, `logProbabilities`).
        guard carriesState else {
            return transcriber.logProbabilities(input: model.networkInput(base: Matrix(rows: baseFrames, cols: F, data: base)))
        }
        let stacked = baseFrames / k
        if stacked > stackedDone {
            let rows = Matrix(rows: (stacked - stackedDone) * k, cols: F, data: Array(base[(stackedDone * k * F)..<(stacked * k * F)]))
            carriedLogProbs += model.logProbabilities(continuing: model.networkInput(base: rows), state: &state).data
            stackedDone = stacked
        }
        return Matrix(rows: stackedDone, cols: K, data: carriedLogProbs)
    }

    private func result(_ kind: StreamResult.Kind, _ t: Transcript, start: Int, samples: Int) -> StreamResult {
        let offset = Double(start) / Double(rate)
        let words = t.words.map { w in
            Word(word: w.word, start: w.start.map { $0 + offset }, end: w.end.map { $0 + offset }, confidence: w.confidence)
        }
        return StreamResult(type: kind, text: t.text, start: offset, end: offset + Double(samples) / Double(rate), words: words)
    }
}

import Foundation
import HarkCore
import HarkFeatures
import HarkNN

/// How live audio is cut into utterances and how often partial results come.
public struct StreamingOptions: Sendable, Equatable {
    /// Seconds of audio between partial results (and endpoint checks).
    public var partialInterval: Double = 0.5
    /// An utterance ends once the network has emitted a token and then only
    /// blanks for this many seconds.
    public var endpointSilence: Double = 0.8
    /// An utterance is cut at this many seconds even without a pause, so
    /// memory and the cost of a partial stay bounded.
    public var maxUtterance: Double = 20

    public init(partialInterval: Double = 0.5, endpointSilence: Double = 0.8, maxUtterance: Double = 20) {
        self.partialInterval = partialInterval
        self.endpointSilence = endpointSilence
        self.maxUtterance = maxUtterance
    }

    /// Throws a message naming the first bad value.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw StreamingError(message: message) } }
        try check(partialInterval.isFinite && partialInterval >= 0.05 && partialInterval <= 10,
                  "the partial interval must be between 0.05 and 10 s (got \(partialInterval))")
        try check(endpointSilence.isFinite && endpointSilence >= 0.1 && endpointSilence <= 30,
                  "the endpoint silence must be between 0.1 and 30 s (got \(endpointSilence))")
        try check(maxUtterance.isFinite && maxUtterance >= 1 && maxUtterance <= Limits.maxStreamUtteranceSeconds,
                  "the longest utterance must be between 1 and \(Int(Limits.maxStreamUtteranceSeconds)) s (got \(maxUtterance))")
        try check(maxUtterance > 2 * partialInterval, "the longest utterance must exceed two partial intervals")
    }
}

public struct StreamingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// One message of a live transcription: a partial result (the current
/// utterance so far; the next partial or final replaces it) or a final one
/// (an utterance is over). Times are seconds from the start of the stream.
public struct StreamResult: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case partial, final }
    public var type: Kind
    public var text: String
    public var start: Double
    public var end: Double
    public var words: [Word]

    /// One JSON line: `{"end", "start", "text", "type", "words"}`, times in ms precision.
    public var jsonLine: String {
        var r = self
        func ms(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        r.start = ms(start)
        r.end = ms(end)
        r.words = words.map { w in
            Word(word: w.word, start: w.start.map(ms), end: w.end.map(ms),
                 confidence: w.confidence.map { ($0 * 10000).rounded() / 10000 })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(r)) ?? Data(), as: UTF8.self)
    }
}

/// Live recognition: samples go in as they arrive, in blocks of any size;
/// partial results come out every `partialInterval` of audio and a final
/// result at the end of each utterance.
///
/// The stream is cut into utterances at pauses: once the network has emitted
/// a token over audio above the silence floor (`Transcriber.silenceFloorDecibels`),
/// `endpointSilence` seconds without such a frame end the utterance
/// (the cut falls half-way into the pause); `maxUtterance` cuts a long one
/// without a pause. Audio before any speech is dropped but for the last
/// `endpointSilence` seconds. Memory is bounded by `maxUtterance`.
///
/// Each final result is exactly what `Transcriber.transcribe(samples:)` (and
/// so `hark transcribe`) gives for that segment as a file: the segment goes
/// through the whole pipeline, per-utterance CMVN included. A partial runs the
/// pipeline over the utterance so far: a bidirectional model sees no audio
/// beyond the newest sample (its look-ahead is what has arrived), so a
/// partial may still change; the final fixes it. Results do not depend on how
/// the audio is split into blocks: analysis points fall at fixed sample counts
/// from each utterance's start.
///
/// Latency: a partial is due `partialInterval` after the audio it covers (plus
/// its computation, a few ms); a final `endpointSilence` to
/// `endpointSilence + partialInterval` after the last word.
///
/// Incremental work: the MFCC/fbank frames of an utterance are computed once,
/// as its samples arrive (each frame depends on its own samples only; with
/// dither or `snip_edges=false` they are recomputed). CMVN, stacking and a
/// bidirectional network then run over the utterance so far. A
/// unidirectional model without CMVN or deltas carries its recurrent state
/// from one partial to the next and runs only the new frames: the
/// log-probabilities equal one run over the whole utterance.
public final class StreamingRecognizer {
    public let transcriber: Transcriber
    public let options: StreamingOptions
    /// The current utterance's samples at the model's rate.
    private var buffer: [Float] = []
    /// The stream's sample index of `buffer[0]`.
    private var origin = 0
    /// Samples of `buffer` covered by the last analysis.
    private var analysed = 0
    /// Samples received so far.
    public private(set) var samplesReceived = 0
    /// Samples held (the current utterance): at most `maxUtterance` seconds.
    public var bufferedSamples: Int { buffer.count }

    private let rate: Int
    private let interval: Int
    private let maxSamples: Int
    /// Samples per network frame.
    private let frameSamples: Int

    /// Base features (before CMVN and deltas) of the current utterance: `baseFrames` rows, flat.
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

    public init(transcriber: Transcriber, options: StreamingOptions = StreamingOptions()) throws {
        try options.validate()
        self.transcriber = transcriber
        self.options = options
        let config = transcriber.model.config
        rate = config.sampleRate
        interval = max(1, Int((options.partialInterval * Double(rate)).rounded()))
        maxSamples = Int((options.maxUtterance * Double(rate)).rounded())
        frameSamples = max(1, config.features.frame.windowShift * config.stackFrames)
        let frame = config.features.frame
        incremental = frame.snipEdges && frame.dither == 0
        carriesState = incremental && !config.network.bidirectional && config.features.cmvn == .none && config.features.deltas == 0
    }

    /// Seconds of audio received.
    public var secondsReceived: Double { Double(samplesReceived) / Double(rate) }

    /// Feeds samples (mono, in [-1, 1], at the model's rate); returns the
    /// results they complete, in order.
    public func accept(_ samples: [Float]) -> [StreamResult] {
        var results: [StreamResult] = []
        var rest = samples[...]
        while !rest.isEmpty {
            let take = min(rest.count, max(0, analysed + interval - buffer.count))
            buffer.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            samplesReceived += take
            while buffer.count >= analysed + interval { results += analyse() }
        }
        return results
    }

    /// Ends the stream: the final result of the audio not yet finalised.
    public func finish() -> [StreamResult] {
        defer { buffer = []; analysed = 0; origin = samplesReceived }
        guard !buffer.isEmpty else { return [] }
        return finalise(upTo: buffer.count)
    }

    /// Partial result and endpoint check over `buffer[0 ..< analysed + interval]`.
    private func analyse() -> [StreamResult] {
        analysed += interval
        let samples = Array(buffer[0..<analysed])
        let logProbs = logProbabilitiesSoFar(samples)
        let blank = transcriber.model.config.blank
        // The last speech frame: its most likely token is not blank and its
        // audio is above the silence floor (per-utterance CMVN lifts faint
        // noise to the level of speech, and the network may hear words in it).
        var lastToken = -1
        for t in 0..<logProbs.rows where argmax(logProbs, row: t) != blank
            && level(samples, frame: t) >= transcriber.silenceFloorDecibels { lastToken = t }
        let secondsPerFrame = transcriber.secondsPerFrame
        if lastToken < 0 {
            // No speech yet: keep only the last endpointSilence seconds.
            let keep = Int(options.endpointSilence * Double(rate))
            if analysed > 2 * keep {
                let drop = analysed - keep
                buffer.removeFirst(drop)
                origin += drop
                analysed -= drop
                restartUtterance()
            }
            return []
        }
        let pause = Double(logProbs.rows - 1 - lastToken) * secondsPerFrame
        if pause >= options.endpointSilence {
            let cut = min(analysed, (lastToken + 1) * frameSamples + Int(options.endpointSilence / 2 * Double(rate)))
            return finalise(upTo: cut)
        }
        if analysed >= maxSamples { return finalise(upTo: analysed) }
        let t = transcriber.decode(logProbs, duration: Double(analysed) / Double(rate))
        guard !t.text.isEmpty else { return [] }
        return [result(.partial, t, samples: analysed)]
    }

    /// The final result of `buffer[0 ..< cut]`; the rest starts the next utterance.
    private func finalise(upTo cut: Int) -> [StreamResult] {
        let t = transcriber.transcribe(samples: Array(buffer[0..<cut]))
        let r = result(.final, t, samples: cut)
        buffer.removeFirst(cut)
        origin += cut
        analysed = 0
        restartUtterance()
        return t.text.isEmpty ? [] : [r]
    }

    /// The buffer now starts elsewhere: its frames and state start again.
    private func restartUtterance() {
        base = []
        baseFrames = 0
        state = nil
        stackedDone = 0
        carriedLogProbs = []
    }

    /// Log-probabilities [T, K] of `samples` (the utterance so far, `buffer[0 ..< analysed]`).
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
        guard carriesState else {
            var features = Matrix(rows: baseFrames, cols: F, data: base)
            applyCmvn(&features, mode: extractor.options.cmvn)
            if extractor.options.deltas > 0 {
                features = addDeltas(features, order: extractor.options.deltas, window: extractor.options.deltaWindow)
            }
            return transcriber.logProbabilities(input: stackFrames(features, by: k))
        }
        let stacked = baseFrames / k
        if stacked > stackedDone {
            let rows = Matrix(rows: (stacked - stackedDone) * k, cols: F, data: Array(base[(stackedDone * k * F)..<(stacked * k * F)]))
            let out = model.rnn.forward(SequenceBatch(single: stackFrames(rows, by: k)), initialState: state, keepCache: false)
            state = out.finalState
            // logits[t, K] = h[t, H] · W_outᵀ + b_out
            carriedLogProbs += logSoftmax(model.output.forward(out.output.data)).data
            stackedDone = stacked
        }
        return Matrix(rows: stackedDone, cols: K, data: carriedLogProbs)
    }

    private func result(_ kind: StreamResult.Kind, _ t: Transcript, samples: Int) -> StreamResult {
        let offset = Double(origin) / Double(rate)
        let words = t.words.map { w in
            Word(word: w.word, start: w.start.map { $0 + offset }, end: w.end.map { $0 + offset }, confidence: w.confidence)
        }
        return StreamResult(type: kind, text: t.text, start: offset, end: offset + Double(samples) / Double(rate), words: words)
    }

    /// The RMS level in dBFS of network frame `t`'s samples, their mean removed.
    private func level(_ samples: [Float], frame t: Int) -> Float {
        let lo = min(samples.count, t * frameSamples), hi = min(samples.count, lo + frameSamples)
        guard hi > lo else { return -.infinity }
        return 10 * log10f(LevelMeter.meanSquare(samples[lo..<hi]))
    }

    private func argmax(_ m: Matrix, row t: Int) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        let base = t * m.cols
        for k in 0..<m.cols where m.data[base + k] > bestValue {
            bestValue = m.data[base + k]
            best = k
        }
        return best
    }
}

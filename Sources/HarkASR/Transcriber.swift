import Foundation
import HarkAudio
import HarkCTC
import HarkCore

/// A recognised word with its time span.
public struct Word: Codable, Equatable, Sendable {
    /// The word's text.
    public var word: String
    /// Seconds from the start of the audio (nil when the decoder gives no times).
    public var start: Double?
    /// Seconds from the start of the audio to the word's end (nil when the decoder gives no times).
    public var end: Double?
    /// Mean posterior of its characters, through the model's `calibration` when it has one.
    public var confidence: Double?
}

/// The result of transcribing one recording.
public struct Transcript: Codable, Equatable, Sendable {
    /// The words, joined by single spaces.
    public var text: String
    /// The words in order, with their times and confidences.
    public var words: [Word]
    /// Seconds of audio.
    public var duration: Double
    /// With n-best decoding, every hypothesis kept, best first (the first is `text`).
    public var alternatives: [Alternative]? = nil
    /// The utterances the recording was cut into, in order, when it was
    /// segmented (nil: transcribed as one utterance).
    public var segments: [TranscriptSegment]? = nil
}

/// One utterance of a segmented recording: the span of its speech (seconds
/// from the start of the recording, without the padding decoded around it)
/// and its text; its words are among the transcript's.
public struct TranscriptSegment: Codable, Equatable, Sendable {
    /// Seconds from the start of the recording to the start of the utterance's speech.
    public var start: Double
    /// Seconds from the start of the recording to the end of the utterance's speech.
    public var end: Double
    /// The utterance's words, joined by single spaces.
    public var text: String
    /// The number of the transcript's words that belong to it.
    public var wordCount: Int

    /// A segment of the given span (seconds), text and word count.
    public init(start: Double, end: Double, text: String, wordCount: Int) {
        self.start = start
        self.end = end
        self.text = text
        self.wordCount = wordCount
    }
}

/// One hypothesis of an n-best list with its scores (natural log).
public struct Alternative: Codable, Equatable, Sendable {
    /// The hypothesis's text, normalised by the model's text settings.
    public var text: String
    /// log P(tokens | audio) over the alignments the beam kept.
    public var acoustic: Double
    /// What the language model, word bonus, penalties and hotwords added.
    public var lm: Double
    /// The ranking score: acoustic + lm.
    public var score: Double
}

/// Audio → text with a model.
///
/// A recording is cut at its pauses into utterances (`segmentation`, a
/// `Segmenter`), and each utterance goes through the pipeline on its own
/// (`transcribeUtterance`): features, normalisation, stacking, the network,
/// decoding. Word times are offset to the recording's clock, and the texts
/// joined. The cut is made as the audio is read, so memory is bounded by the
/// longest utterance, not the recording; streaming (`StreamingRecognizer`)
/// cuts with the same segmenter and decodes each utterance the same way.
///
/// With `segmentation` nil, a recording is one utterance, as before
/// segmentation existed: long recordings then go through the network in
/// windows of `chunkFrames` input frames with `contextFrames` of context on
/// each side (only the centre of each window is kept; a recording no longer
/// than one window and its context goes through whole), streamed block by
/// block. With per-utterance CMVN the audio is read twice, once for the
/// statistics; the result is exactly that of processing the whole recording
/// at once.
public final class Transcriber: @unchecked Sendable {
    /// The acoustic model.
    public let model: AcousticModel
    /// The decoder of the network's log-probabilities: greedy or beam search.
    public var decoder: Decoder
    /// Input frames in the kept centre of each window when a long unsegmented recording goes through the network in windows.
    public var chunkFrames = 1000
    /// Input frames of context on each side of a window, computed and then dropped.
    public var contextFrames = 100
    /// A recording whose loudest 20 ms (each frame's mean removed, RMS
    /// relative to full scale) stays below this many dB is silence and
    /// transcribes as empty text: digital silence, a DC offset, faint noise,
    /// or stereo channels that cancel. Speech sits around −40 to −10 dBFS.
    public var silenceFloorDecibels: Float = -55
    /// How recordings are cut into utterances; nil: each is one utterance.
    public var segmentation: SegmenterOptions? = SegmenterOptions()
    /// What word confidences go through: the model's `calibration` unless
    /// changed (nil: the raw mean posteriors, which a calibration is fitted on).
    public var calibration: Calibration?

    /// Alternatives listed with several best: distinct texts, at most this many.
    public private(set) var nBest = 1

    /// A transcriber of the model's recordings with the given decoding (greedy by default); with n-best beam search,
    /// the beam keeps its whole width and the transcript lists the `nBest` best distinct texts.
    public init(model: AcousticModel, decoding: DecoderOptions = .greedy) {
        self.model = model
        calibration = model.config.calibration
        var search = decoding
        // Prefixes that differ only in a trailing space are one text: the search keeps the
        // whole beam, and `transcript` lists the n best distinct texts.
        if case .beam(var options) = decoding, options.nBest > 1 {
            nBest = options.nBest
            options.nBest = options.width
            search = .beam(options)
        }
        self.decoder = Decoder(search, blank: model.config.blank)
    }

    /// Seconds per network frame: the frame shift times the feature frames per network frame.
    public var secondsPerFrame: Double {
        model.config.features.frame.frameShift / 1000 * Double(model.config.timeStride)
    }

    /// Log-probabilities [T, K] of a waveform at the model's rate.
    public func logProbabilities(_ samples: [Float], threads: Int = 1) -> Matrix {
        logProbabilities(input: model.inputFeatures(samples, threads: threads))
    }

    /// Log-probabilities [T, K] of the network's input [T, input_size], in the windows described above.
    public func logProbabilities(input: Matrix) -> Matrix {
        let K = model.config.tokens.count
        var rows: [Float] = []
        // The windows a stream goes through (`WindowedNetwork`), here all at once.
        let windows = WindowedNetwork(model: model, chunkFrames: chunkFrames, contextFrames: contextFrames) { rows += $0.data }
        try? windows.push(input)
        try? windows.finish()
        return Matrix(rows: rows.count / K, cols: K, data: rows)
    }

    /// Reads a file (or `-`), resamples it to the model's rate, and transcribes it.
    /// Returns the transcript and the log-probabilities [T, K].
    public func transcribe(
        path: String, channel: ChannelSelection = .average,
        threads: Int = 1
    ) throws -> (Transcript, Matrix, [String]) {
        let K = model.config.tokens.count
        var all: [Float] = []
        let (t, notes) = try transcribe(path: path, audio: AudioLoadOptions(channel: channel)) { all.append(contentsOf: $0.data) }
        return (t, Matrix(rows: all.count / K, cols: K, data: all), notes)
    }

    /// Reads a file (or `-`) as a stream and transcribes it; `logProbabilities`,
    /// when given, receives the log-probabilities window by window ([t, K] each).
    /// The model's sample rate replaces `audio.targetSampleRate`.
    /// Returns the transcript and the notes (e.g. upsampling).
    public func transcribe(
        path: String, audio: AudioLoadOptions,
        logProbabilities sink: ((Matrix) throws -> Void)? = nil
    ) throws -> (Transcript, [String]) {
        var options = audio
        options.targetSampleRate = model.config.sampleRate
        // Segmented, one pass is enough: standard input is decoded as it arrives, never held whole.
        let reader =
            segmentation != nil && path == "-" ? try AudioReader.standardInput(options: options) : try AudioReader(path, options: options)
        if let segmentation {
            let t = try transcribeSegmented(read: { try reader.read() }, options: segmentation, logProbabilities: sink)
            return (t, reader.notes)
        }
        var meter = LevelMeter(frame: max(1, model.config.sampleRate / 50))
        var activity = SpeechActivity.Builder(sampleRate: model.config.sampleRate, frameSamples: model.config.features.frame.windowShift)
        var firstPass = true
        let decoding = DecodingStream(decoder)
        let windows = WindowedNetwork(model: model, chunkFrames: chunkFrames, contextFrames: contextFrames) { lp in
            try sink?(lp)
            decoding.consume(lp)
        }
        let stack = model.config.stackFrames
        var pending: [Float] = []
        let F = model.extractor.options.dimension
        try model.extractor.computeStreaming(
            read: {
                let block = try reader.read()
                if let block, firstPass {
                    meter.feed(block)
                    activity.feed(block)
                }
                return block
            },
            rewind: {
                firstPass = false
                try reader.rewind()
            }
        ) { features in
            // Stack k feature frames into one input frame; a trailing partial group is dropped.
            pending.append(contentsOf: features.data)
            let groups = pending.count / (F * stack)
            if groups > 0 {
                try windows.push(Matrix(rows: groups, cols: F * stack, data: Array(pending[0..<(groups * F * stack)])))
                pending.removeFirst(groups * F * stack)
            }
        }
        try windows.finish()
        let duration = Double(reader.samplesRead) / Double(reader.sampleRate)
        if meter.loudestDecibels < silenceFloorDecibels {
            return (Transcript(text: "", words: [], duration: duration), reader.notes)
        }
        return (transcript(decoding.finish(), duration: duration, activity: activity.finish()), reader.notes)
    }

    /// Transcribes samples held in memory, at the model's rate: the same
    /// transcript as `transcribe(path:)` gives for a file holding them (cut
    /// into utterances alike, or whole with the same windows and silence gate).
    public func transcribe(samples: [Float], threads: Int = 1) throws -> Transcript {
        guard let segmentation else { return transcribeUtterance(samples, threads: threads) }
        var rest = samples[...]
        // Fed in blocks, as a file is read; the cuts do not depend on their size.
        return try transcribeSegmented(
            read: {
                guard !rest.isEmpty else { return nil }
                let block = Array(rest.prefix(8192))
                rest = rest.dropFirst(block.count)
                return block
            }, options: segmentation, logProbabilities: nil)
    }

    /// One utterance, whole: the silence gate, then features, normalisation,
    /// stacking, the network (in windows when long) and the decoder. Every
    /// driver decodes the utterances it cuts with this.
    public func transcribeUtterance(_ samples: [Float], threads: Int = 1) -> Transcript {
        let duration = Double(samples.count) / Double(model.config.sampleRate)
        if isSilence(samples) { return Transcript(text: "", words: [], duration: duration) }
        return decode(logProbabilities(samples, threads: threads), duration: duration, activity: activity(samples))
    }

    /// Where speech is in an utterance's samples, for word times (`WordTiming`).
    public func activity(_ samples: [Float]) -> SpeechActivity {
        SpeechActivity(samples: samples, sampleRate: model.config.sampleRate, frameSamples: model.config.features.frame.windowShift)
    }

    /// A segmenter for this model: decisions every feature frame shift,
    /// utterances starting on the network's frame grid.
    public func makeSegmenter(_ options: SegmenterOptions) throws -> Segmenter {
        let frame = model.config.features.frame
        return try Segmenter(
            options: options, sampleRate: model.config.sampleRate, frameSamples: frame.windowShift,
            gridSamples: frame.windowShift * model.config.timeStride)
    }

    /// Reads blocks until `read` returns nil, cuts them into utterances and
    /// transcribes each (`transcribeUtterance`); the transcript joins them on
    /// the recording's clock. `sink` receives log-probabilities [t, K] on the
    /// recording's frame grid: each utterance's, and between utterances rows
    /// that are blank with certainty (log 1 for blank, −∞ for the rest), so
    /// that it gets as many rows as the recording has network frames.
    func transcribeSegmented(
        read: () throws -> [Float]?, options: SegmenterOptions,
        logProbabilities sink: ((Matrix) throws -> Void)?
    ) throws -> Transcript {
        let segmenter = try makeSegmenter(options)
        let rate = Double(model.config.sampleRate), grid = segmenter.gridSamples
        let K = model.config.tokens.count, blank = model.config.blank
        var words: [Word] = [], segments: [TranscriptSegment] = [], alternatives: [Alternative]?
        var framesOut = 0
        func emitBlankRows(until frame: Int) throws {
            guard let sink, frame > framesOut else { return }
            var rows = Matrix(rows: frame - framesOut, cols: K)
            for r in 0..<rows.rows {
                for k in 0..<K { rows[r, k] = k == blank ? 0 : -.infinity }
            }
            try sink(rows)
            framesOut = frame
        }
        func handle(_ segment: AudioSegment) throws {
            let lp = logProbabilities(segment.samples)
            try emitBlankRows(until: segment.start / grid)
            if let sink {
                try sink(lp)
                framesOut += lp.rows
            }
            let t =
                isSilence(segment.samples)
                ? Transcript(text: "", words: [], duration: 0)
                : decode(lp, duration: Double(segment.samples.count) / rate, activity: activity(segment.samples))
            guard !t.text.isEmpty else { return }
            let offset = Double(segment.start) / rate
            words += t.words.map { w in
                Word(word: w.word, start: w.start.map { $0 + offset }, end: w.end.map { $0 + offset }, confidence: w.confidence)
            }
            segments.append(
                TranscriptSegment(
                    start: Double(segment.speechStart) / rate, end: Double(segment.speechEnd) / rate,
                    text: t.text, wordCount: t.words.count))
            // An n-best list is of one utterance: kept when the recording is one.
            alternatives = segments.count == 1 ? t.alternatives : nil
        }
        // A recording in which the segmenter finds no speech at all is decoded
        // whole when it is no longer than an utterance can be: a clip cut
        // tight around a quiet voice has no quiet moment for the noise floor,
        // and its speech may not stand 12 dB above its own quietest frame. The
        // network's blank answers for what really is silence. Memory: at most
        // `maxUtterance` seconds, kept only until the first utterance.
        let wholeLimit = Int((options.maxUtterance * rate).rounded())
        var whole: [Float]? = []
        var found = false
        func take(_ cut: [AudioSegment]) throws {
            if !cut.isEmpty { found = true; whole = nil }
            for segment in cut { try handle(segment) }
        }
        while let block = try read() {
            if !found, whole != nil {
                if whole!.count + block.count <= wholeLimit { whole! += block } else { whole = nil }
            }
            try take(segmenter.feed(block))
        }
        try take(segmenter.finish())
        if !found, let whole, !whole.isEmpty, !isSilence(whole) {
            try handle(AudioSegment(samples: whole, start: 0, speechStart: 0, speechEnd: whole.count))
        }
        let samples = segmenter.samplesFed
        try emitBlankRows(until: model.config.networkFrames(featureFrames: model.config.features.frame.frameCount(sampleCount: samples)))
        return Transcript(
            text: segments.map(\.text).joined(separator: " "), words: words,
            duration: Double(samples) / rate, alternatives: alternatives, segments: segments)
    }

    /// Whether samples held in memory stay below `silenceFloorDecibels`
    /// (the gate `transcribe` applies before the network).
    public func isSilence(_ samples: [Float]) -> Bool {
        var meter = LevelMeter(frame: max(1, model.config.sampleRate / 50))
        meter.feed(samples)
        return meter.loudestDecibels < silenceFloorDecibels
    }

    /// Decodes log-probabilities into a transcript: the best hypothesis, its
    /// words with times and confidences from the frames of their tokens.
    ///
    /// - Shapes: logProbs [T, K].
    /// With `activity` (where speech is in the audio), word times are on the
    /// speech (`WordTiming`); without, on the frames that emitted the tokens.
    public func decode(_ logProbs: Matrix, duration: Double, activity: SpeechActivity? = nil) -> Transcript {
        transcript(decoder.decode(logProbs), duration: duration, activity: activity)
    }

    /// The transcript of the best of `hypotheses` (best first), with the
    /// best `nBest` distinct texts as alternatives when more than one is asked
    /// for (a text's best-scoring hypothesis stands for it).
    public func transcript(_ hypotheses: [Hypothesis], duration: Double, activity: SpeechActivity? = nil) -> Transcript {
        var t = transcript(hypotheses.first ?? Hypothesis(tokens: [], logProbability: 0), duration: duration, activity: activity)
        if nBest > 1 {
            var seen = Set<String>()
            var alternatives: [Alternative] = []
            for h in hypotheses where alternatives.count < nBest {
                let text = model.config.text.normalize(model.vocabulary.decode(h.labels))
                guard seen.insert(text).inserted else { continue }
                alternatives.append(
                    Alternative(text: text, acoustic: Double(h.logProbability), lm: Double(h.scorerScore), score: Double(h.score)))
            }
            t.alternatives = alternatives
        }
        return t
    }

    /// Words are runs of tokens between spaces; their confidence is the mean
    /// of their tokens' (scaled by the model's `calibration`, when it has one). A word's frames run from its first token's first
    /// frame to its last token's last; with `activity`, they anchor its time
    /// on the speech around them (`WordTiming`), else they are its time.
    public func transcript(_ hypothesis: Hypothesis, duration: Double, activity: SpeechActivity? = nil) -> Transcript {
        let vocab = model.vocabulary
        let space = vocab.tokens.firstIndex(of: " ")
        var groups: [[DecodedToken]] = [[]]
        for t in hypothesis.tokens {
            if t.token == space { groups.append([]) } else { groups[groups.count - 1].append(t) }
        }
        groups.removeAll { $0.isEmpty }
        let stack = model.config.timeStride
        // Network frame f covers feature (activity) frames f·k ..< (f + 1)·k (k feature frames per network frame).
        var spans = groups.map { $0.first!.firstFrame * stack..<($0.last!.lastFrame + 1) * stack }
        if let activity { spans = WordTiming().refine(spans, activity: activity) }
        let shift = secondsPerFrame / Double(stack)
        let calibration = self.calibration
        let words = zip(groups, spans).map { tokens, span in
            let confidence = Double(tokens.map(\.confidence).reduce(0, +)) / Double(tokens.count)
            return Word(
                word: vocab.decode(tokens.map(\.token)), start: Double(span.lowerBound) * shift, end: Double(span.upperBound) * shift,
                confidence: calibration?.apply(confidence) ?? confidence)
        }
        return Transcript(text: words.map(\.word).joined(separator: " "), words: words, duration: duration)
    }
}

/// The level of the loudest frame of a signal that arrives in blocks.
struct LevelMeter {
    let frame: Int
    private var pending: [Float] = []
    private var loudestMeanSquare: Float = 0

    init(frame: Int) { self.frame = frame }

    /// The loudest frame's RMS in dB relative to full scale (−∞ for silence).
    var loudestDecibels: Float { 10 * log10f(loudestMeanSquare) }

    mutating func feed(_ samples: [Float]) {
        pending.append(contentsOf: samples)
        var start = 0
        while start + frame <= pending.count {
            loudestMeanSquare = max(loudestMeanSquare, Self.meanSquare(pending[start..<(start + frame)]))
            start += frame
        }
        pending.removeFirst(start)
    }

    /// The mean square of `x` with its mean removed (its power as AC).
    static func meanSquare(_ x: ArraySlice<Float>) -> Float {
        var mean: Float = 0
        for v in x { mean += v }
        mean /= Float(x.count)
        var power: Float = 0
        for v in x { let d = v - mean; power += d * d }
        return power / Float(x.count)
    }
}

/// The network over input frames that arrive in blocks, in the windows
/// `Transcriber.logProbabilities` uses: whole when the recording fits one
/// window and its context, else centres of `chunkFrames` with `contextFrames`
/// on each side. Holds at most one window of input.
///
/// - Shapes: input blocks [t, input_size]; `emit` gets [t', K] in order.
final class WindowedNetwork {
    let model: AcousticModel
    let chunkFrames: Int, contextFrames: Int
    let emit: (Matrix) throws -> Void
    /// Input frames `origin ..< origin + buffered` (flat, row-major).
    private var buffer: [Float] = []
    private var origin = 0
    private var cols = 0
    /// The next window's first kept frame.
    private var start = 0
    private(set) var framesOut = 0

    /// Input frames per output frame of the front end (1 without one); windows are whole multiples of it.
    let stride: Int

    init(model: AcousticModel, chunkFrames: Int, contextFrames: Int, emit: @escaping (Matrix) throws -> Void) {
        self.model = model
        stride = model.frontend?.options.timeStride ?? 1
        // Rounded up to whole strides, so that every window's output frames fall on the recording's.
        self.chunkFrames = (max(1, chunkFrames) + stride - 1) / stride * stride
        self.contextFrames = (contextFrames + stride - 1) / stride * stride
        self.emit = emit
    }

    private var available: Int { origin + (cols > 0 ? buffer.count / cols : 0) }

    func push(_ input: Matrix) throws {
        cols = input.cols
        buffer.append(contentsOf: input.data)
        // Windowed only once the recording is longer than one window and its context.
        guard available > chunkFrames + 2 * contextFrames else { return }
        while available >= start + chunkFrames + contextFrames { try run(end: start + chunkFrames, total: nil) }
    }

    func finish() throws {
        let T = available
        if T <= chunkFrames + 2 * contextFrames {
            if T > 0 { try run(whole: T) }
            return
        }
        while start < T { try run(end: min(T, start + chunkFrames), total: T) }
    }

    private func rows(_ lo: Int, _ hi: Int) -> Matrix {
        Matrix(rows: hi - lo, cols: cols, data: Array(buffer[((lo - origin) * cols)..<((hi - origin) * cols)]))
    }

    private func run(whole T: Int) throws {
        let lp = model.logProbabilities(rows(0, T))
        framesOut += lp.rows
        try emit(lp)
        start = T
    }

    private func run(end: Int, total: Int?) throws {
        let lo = max(0, start - contextFrames)
        let hi = min(total ?? Int.max, end + contextFrames)
        let lp = model.logProbabilities(rows(lo, hi))
        let K = lp.cols
        // Output rows of the centre: input frames start ..< end, in strides (the last window's end may fall short of one).
        let first = (start - lo) / stride, last = min(lp.rows, end == total ? lp.rows : (end - lo) / stride)
        let centre = Matrix(rows: max(0, last - first), cols: K, data: Array(lp.data[(first * K)..<(max(first, last) * K)]))
        framesOut += centre.rows
        try emit(centre)
        start = end
        // The next window starts its context here.
        let keepFrom = max(0, start - contextFrames)
        if keepFrom > origin {
            buffer.removeFirst((keepFrom - origin) * cols)
            origin = keepFrom
        }
    }
}

/// The decoder fed window by window: greedy decoding continues a token's
/// run across a window boundary (`GreedyStream`), beam search keeps its beam
/// between windows (`BeamSearchStream`).
final class DecodingStream {
    private var beam: BeamSearchStream?
    private var greedy: GreedyStream

    init(_ decoder: Decoder) {
        greedy = GreedyStream(blank: decoder.blank)
        if case .beam(let options) = decoder.options {
            beam = PrefixBeamSearch(options, blank: decoder.blank).stream()
        }
    }

    /// - Shapes: logProbs [t, K], the next t frames.
    func consume(_ logProbs: Matrix) {
        if let beam { beam.consume(logProbs) } else { greedy.consume(logProbs) }
    }

    /// The hypotheses, best first (greedy: one).
    func finish() -> [Hypothesis] {
        if let beam { return beam.finish() }
        return [Hypothesis(tokens: greedy.tokens, logProbability: greedy.pathLogProbability)]
    }
}

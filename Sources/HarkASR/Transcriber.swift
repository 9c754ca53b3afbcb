import Foundation
import HarkAudio
import HarkCTC
import HarkCore

/// A recognised word with its time span.
public struct Word: Codable, Equatable, Sendable {
    public var word: String
    /// Seconds from the start of the audio (nil when the decoder gives no times).
    public var start: Double?
    public var end: Double?
    /// Mean posterior of its characters.
    public var confidence: Double?
}

/// The result of transcribing one recording.
public struct Transcript: Codable, Equatable, Sendable {
    public var text: String
    public var words: [Word]
    /// Seconds of audio.
    public var duration: Double
}

/// Audio → text with a model. Long recordings go through the network in
/// windows of `chunkFrames` input frames with `contextFrames` of context on
/// each side (only the centre of each window is kept), so memory does not
/// grow with the recording's length.
public final class Transcriber: @unchecked Sendable {
    public let model: AcousticModel
    public var decoder: Decoder
    public var chunkFrames = 1000
    public var contextFrames = 100

    public init(model: AcousticModel, decoding: DecoderOptions = .greedy) {
        self.model = model
        self.decoder = Decoder(decoding, blank: model.config.blank)
    }

    /// Seconds per network frame: the frame shift times the stacking factor.
    public var secondsPerFrame: Double {
        model.config.features.frame.frameShift / 1000 * Double(model.config.stackFrames)
    }

    /// Log-probabilities [T, K] of a waveform at the model's rate.
    public func logProbabilities(_ samples: [Float], threads: Int = 1) -> Matrix {
        let input = model.inputFeatures(samples, threads: threads)
        let T = input.rows, K = model.config.tokens.count
        if T <= chunkFrames + 2 * contextFrames { return model.logProbabilities(input) }
        var out = Matrix(rows: T, cols: K)
        var start = 0
        while start < T {
            let end = min(T, start + chunkFrames)
            let lo = max(0, start - contextFrames), hi = min(T, end + contextFrames)
            let window = Matrix(rows: hi - lo, cols: input.cols, data: Array(input.data[(lo * input.cols)..<(hi * input.cols)]))
            let lp = model.logProbabilities(window)
            out.data.replaceSubrange((start * K)..<(end * K), with: lp.data[((start - lo) * K)..<((end - lo) * K)])
            start = end
        }
        return out
    }

    /// Reads a file (or `-`), resamples it to the model's rate, and transcribes it.
    /// Returns the transcript and the log-probabilities [T, K].
    public func transcribe(path: String, channel: ChannelSelection = .average,
                           threads: Int = 1) throws -> (Transcript, Matrix, [String]) {
        let audio = try AudioLoader.load(path, options: AudioLoadOptions(targetSampleRate: model.config.sampleRate, channel: channel))
        let lp = logProbabilities(audio.waveform.samples, threads: threads)
        return (decode(lp, duration: audio.waveform.duration), lp, audio.notes)
    }

    /// Decodes log-probabilities into a transcript: the best hypothesis, its
    /// words with times and confidences from the frames of their tokens.
    ///
    /// - Shapes: logProbs [T, K].
    public func decode(_ logProbs: Matrix, duration: Double) -> Transcript {
        transcript(decoder.decode(logProbs).first ?? Hypothesis(tokens: [], logProbability: 0), duration: duration)
    }

    /// Words are runs of tokens between spaces; a word spans its first token's
    /// first frame to its last token's last frame, and its confidence is the
    /// mean of its tokens'.
    public func transcript(_ hypothesis: Hypothesis, duration: Double) -> Transcript {
        let vocab = model.vocabulary
        let space = vocab.tokens.firstIndex(of: " ")
        var words: [Word] = []
        var current: [DecodedToken] = []
        func flush() {
            guard !current.isEmpty else { return }
            words.append(Word(word: vocab.decode(current.map(\.token)),
                              start: Double(current.first!.firstFrame) * secondsPerFrame,
                              end: Double(current.last!.lastFrame + 1) * secondsPerFrame,
                              confidence: Double(current.map(\.confidence).reduce(0, +)) / Double(current.count)))
            current = []
        }
        for t in hypothesis.tokens {
            if t.token == space { flush() } else { current.append(t) }
        }
        flush()
        return Transcript(text: words.map(\.word).joined(separator: " "), words: words, duration: duration)
    }
}

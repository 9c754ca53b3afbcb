import Foundation
import HarkCTC
import HarkCore

/// Forced alignment of known transcripts to a recording with a model: word
/// times for a transcript (`align(samples:text:)`), and a long recording cut
/// into its utterances when the whole transcript is known, one utterance per
/// line (`alignUtterances`, in the manner of CTC segmentation, Kürzinger et
/// al., 2020: one CTC forced alignment of the whole text over the whole
/// recording, then each utterance where its characters fell).
///
/// Both run the network once over the recording (in windows when it is long,
/// as `Transcriber` does), align with `ForcedAlignment` (torchaudio's path)
/// and put each word on the speech around its aligned frames (`WordTiming`),
/// the machinery that gives transcripts their word times.
public struct Aligner {
    /// The transcriber whose model and windows the alignment runs with.
    public let transcriber: Transcriber
    /// The transcriber's model.
    public var model: AcousticModel { transcriber.model }

    /// An aligner with the transcriber's model.
    public init(transcriber: Transcriber) {
        self.transcriber = transcriber
    }

    /// One utterance of a long recording, found by `alignUtterances`.
    public struct UtteranceSpan: Sendable, Equatable {
        /// The transcript line, normalised as the model's text is.
        public var text: String
        /// Seconds: where its first word starts and its last word ends.
        public var start: Double, end: Double
        /// CTC segmentation's confidence: the lowest mean log-probability of
        /// the aligned path over any `scoreWindow` frames of the utterance
        /// (0 is certain; a misaligned or untranscribed stretch drives it far below −1).
        public var score: Double
        /// Its words with times.
        public var words: [Word]
    }

    /// Network frames the utterance score is the lowest mean over (30 frames: 0.9 s at 30 ms).
    public static let scoreWindow = 30

    /// The transcript's words with their times, aligned to `samples` (at the
    /// model's rate). The text is normalised as the model's transcripts are.
    ///
    /// - Throws: `AlignmentError` when the text has characters the model
    ///   cannot spell, is empty, or cannot fit the recording.
    public func align(samples: [Float], text: String) throws -> Transcript {
        let spans = try alignUtterances(samples: samples, lines: [text])
        return Transcript(
            text: spans.map(\.text).joined(separator: " "), words: spans.flatMap(\.words),
            duration: Double(samples.count) / Double(model.config.sampleRate))
    }

    /// Each line of the transcript located in `samples`: the lines joined by
    /// spaces are aligned in one pass; a line's span runs from its first
    /// word's start to its last word's end.
    public func alignUtterances(samples: [Float], lines: [String]) throws -> [UtteranceSpan] {
        let normalizer = model.config.text
        // Punctuation goes, as in training; a letter or digit the model cannot spell would leave
        // its sound without text and pull its neighbours out of place.
        let kept = Set(normalizer.keep)
        for line in lines {
            let folded = normalizer.case == .upper ? line.uppercased() : normalizer.case == .lower ? line.lowercased() : line
            if let bad = folded.first(where: { ($0.isLetter || $0.isNumber) && !kept.contains($0) }) {
                throw AlignmentError(
                    "\"\(bad)\" in \"\(line.trimmingCharacters(in: .whitespacesAndNewlines))\" is not one of the model's characters (write numbers as words)"
                )
            }
        }
        let texts = lines.map(normalizer.normalize).filter { !$0.isEmpty }
        guard !texts.isEmpty else { throw AlignmentError("the transcript is empty once normalised to the model's characters") }
        let vocabulary = model.vocabulary
        guard let space = vocabulary.tokens.firstIndex(of: " ") else {
            throw AlignmentError("the model has no space token: it cannot align words")
        }
        var labels: [Int] = []
        /// For each word: its line and its labels' indices in `labels`.
        var words: [(line: Int, labels: Range<Int>, text: String)] = []
        for (k, text) in texts.enumerated() {
            for word in text.split(separator: " ") {
                guard let encoded = vocabulary.encode(String(word)) else {
                    let bad = word.first { vocabulary.encode(String($0)) == nil }.map { String($0) } ?? String(word)
                    throw AlignmentError("\"\(bad)\" in \"\(word)\" is not one of the model's characters")
                }
                if !labels.isEmpty { labels.append(space) }
                words.append((k, labels.count..<(labels.count + encoded.count), String(word)))
                labels += encoded
            }
        }
        let lp = transcriber.logProbabilities(samples)
        let path = try ForcedAlignment.align(lp, labels: labels, blank: model.config.blank, banded: true)
        let spans = path.labelSpans
        let stack = model.config.timeStride
        let anchors = words.map { w in spans[w.labels.lowerBound].lowerBound * stack..<spans[w.labels.upperBound - 1].upperBound * stack }
        let refined = WordTiming().refine(anchors, activity: transcriber.activity(samples))
        let shift = transcriber.secondsPerFrame / Double(stack)
        let timed = zip(words, refined).map { w, span -> Word in
            // Each character's posterior, averaged over its frames; the word's the mean of its characters'.
            let characters = w.labels.map { i -> Double in
                let frames = spans[i]
                return frames.map { Double(expf(path.scores[$0])) }.reduce(0, +) / Double(frames.count)
            }
            return Word(
                word: w.text, start: Double(span.lowerBound) * shift, end: Double(span.upperBound) * shift,
                confidence: characters.reduce(0, +) / Double(characters.count))
        }
        return texts.indices.map { k in
            let mine = words.indices.filter { words[$0].line == k }
            let first = mine.first!, last = mine.last!
            // The path's frames from the line's first character to its last.
            let frames = spans[words[first].labels.lowerBound].lowerBound..<spans[words[last].labels.upperBound - 1].upperBound
            return UtteranceSpan(
                text: texts[k], start: timed[first].start!, end: timed[last].end!,
                score: Self.score(path.scores, frames), words: mine.map { timed[$0] })
        }
    }

    /// The lowest mean of `scores` over `scoreWindow` consecutive frames of
    /// `frames` (the mean of all of them when there are fewer).
    static func score(_ scores: [Float], _ frames: Range<Int>) -> Double {
        let values = scores[frames].map(Double.init)
        let w = min(scoreWindow, values.count)
        guard w > 0 else { return 0 }
        var sum = values[0..<w].reduce(0, +), lowest = sum
        for t in w..<values.count {
            sum += values[t] - values[t - w]
            lowest = min(lowest, sum)
        }
        return lowest / Double(w)
    }
}

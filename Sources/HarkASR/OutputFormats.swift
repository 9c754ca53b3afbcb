import Foundation

/// The output formats of `hark transcribe`: sibling functions with one signature.
public enum TranscriptFormat: String, CaseIterable, Sendable {
    case txt, json, srt, vtt, ctm, textgrid

    /// The transcript in this format; `source`, the recording's path, names it where the format does (CTM, JSON).
    public func render(_ t: Transcript, source: String) -> String {
        switch self {
        case .txt: return Self.txt(t, source: source)
        case .json: return Self.json(t, source: source)
        case .srt: return Self.srt(t, source: source)
        case .vtt: return Self.vtt(t, source: source)
        case .ctm: return Self.ctm(t, source: source)
        case .textgrid: return Self.textgrid(t, source: source)
        }
    }

    /// NIST/Kaldi CTM: a line per word, `<recording> 1 <start> <duration> <word> <confidence>`
    /// (seconds, 2 decimals as Kaldi writes them; the recording named by its file name
    /// without extension, spaces replaced by underscores).
    static func ctm(_ t: Transcript, source: String) -> String {
        let id = ((source as NSString).lastPathComponent as NSString).deletingPathExtension.replacingOccurrences(of: " ", with: "_")
        return t.words.compactMap { w -> String? in
            guard let start = w.start, let end = w.end else { return nil }
            return String(format: "%@ 1 %.2f %.2f %@ %.4f\n", id, start, end - start, w.word, w.confidence ?? 1)
        }.joined()
    }

    /// A Praat TextGrid (long text format) with one interval tier, "words",
    /// covering the recording: each word an interval, the gaps between them empty ones.
    static func textgrid(_ t: Transcript, source: String) -> String {
        var intervals: [(Double, Double, String)] = []
        var time = 0.0
        for w in t.words {
            guard let start = w.start, let end = w.end, end > start else { continue }
            let s = max(start, time)
            if s > time { intervals.append((time, s, "")) }
            if end > s { intervals.append((s, end, w.word)) }
            time = max(time, end)
        }
        let total = max(t.duration, time)
        if total > time || intervals.isEmpty { intervals.append((time, total, "")) }
        func number(_ x: Double) -> String { String(format: "%.4f", x) }
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var lines = [
            "File type = \"ooTextFile\"", "Object class = \"TextGrid\"", "",
            "xmin = 0", "xmax = \(number(total))", "tiers? <exists>", "size = 1", "item []:",
            "    item [1]:", "        class = \"IntervalTier\"", "        name = \"words\"",
            "        xmin = 0", "        xmax = \(number(total))", "        intervals: size = \(intervals.count)"
        ]
        for (i, (a, b, text)) in intervals.enumerated() {
            lines += [
                "        intervals [\(i + 1)]:", "            xmin = \(number(a))", "            xmax = \(number(b))",
                "            text = \(quoted(text))"
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text, one line.
    static func txt(_ t: Transcript, source: String) -> String { t.text + "\n" }

    /// `{"audio", "text", "duration", "words": [{"word", "start", "end", "confidence"}]}`; a
    /// segmented recording adds `"segments": [{"start", "end", "text"}]` (each utterance's speech,
    /// seconds); with n-best decoding of a recording that is one utterance, `"nbest": [{"text",
    /// "acoustic", "lm", "score"}]`, best first.
    static func json(_ t: Transcript, source: String) -> String {
        struct Segment: Encodable {
            let start: Double, end: Double, text: String
        }
        struct Out: Encodable {
            let audio: String
            let text: String
            let duration: Double
            let words: [Word]
            let segments: [Segment]?
            let nbest: [Alternative]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let rounded = t.words.map { w in
            Word(
                word: w.word, start: w.start.map { ($0 * 1000).rounded() / 1000 }, end: w.end.map { ($0 * 1000).rounded() / 1000 },
                confidence: w.confidence.map { ($0 * 10000).rounded() / 10000 })
        }
        let nbest = t.alternatives?.map { a in
            Alternative(
                text: a.text, acoustic: (a.acoustic * 1e4).rounded() / 1e4, lm: (a.lm * 1e4).rounded() / 1e4,
                score: (a.score * 1e4).rounded() / 1e4)
        }
        let segments = t.segments?.map {
            Segment(start: ($0.start * 1000).rounded() / 1000, end: ($0.end * 1000).rounded() / 1000, text: $0.text)
        }
        let data =
            (try? encoder.encode(
                Out(
                    audio: source, text: t.text, duration: t.duration, words: rounded,
                    segments: segments, nbest: nbest))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// SubRip cues.
    static func srt(_ t: Transcript, source: String) -> String {
        cues(t).enumerated().map { i, c in
            "\(i + 1)\n\(timestamp(c.start, ",")) --> \(timestamp(c.end, ","))\n\(c.text)\n"
        }.joined(separator: "\n")
    }

    /// WebVTT cues.
    static func vtt(_ t: Transcript, source: String) -> String {
        "WEBVTT\n\n" + cues(t).map { c in "\(timestamp(c.start, ".")) --> \(timestamp(c.end, "."))\n\(c.text)\n" }.joined(separator: "\n")
    }

    /// Words grouped into cues of at most 42 characters or 7 seconds, never
    /// across two utterances of a segmented recording; without word times,
    /// one cue for the whole recording.
    public static func cues(_ t: Transcript) -> [(start: Double, end: Double, text: String)] {
        guard !t.words.isEmpty else { return [] }
        guard t.words.allSatisfy({ $0.start != nil && $0.end != nil }) else { return [(0, t.duration, t.text)] }
        guard let segments = t.segments, segments.map(\.wordCount).reduce(0, +) == t.words.count else { return cues(t.words) }
        var out: [(start: Double, end: Double, text: String)] = []
        var first = 0
        for s in segments {
            out += cues(Array(t.words[first..<(first + s.wordCount)]))
            first += s.wordCount
        }
        return out
    }

    /// Cues of words that all have times.
    static func cues(_ words: [Word]) -> [(start: Double, end: Double, text: String)] {
        guard !words.isEmpty else { return [] }
        var out: [(Double, Double, String)] = []
        var current: [Word] = []
        for w in words {
            let text = (current.map(\.word) + [w.word]).joined(separator: " ")
            if let first = current.first, text.count > 42 || w.end! - first.start! > 7 {
                out.append((first.start!, current.last!.end!, current.map(\.word).joined(separator: " ")))
                current = []
            }
            current.append(w)
        }
        out.append((current.first!.start!, current.last!.end!, current.map(\.word).joined(separator: " ")))
        return out
    }

    static func timestamp(_ seconds: Double, _ separator: String) -> String {
        let ms = Int((seconds * 1000).rounded())
        return String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, separator, ms % 1000)
    }
}

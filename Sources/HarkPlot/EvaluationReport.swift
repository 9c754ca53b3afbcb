import Foundation
import HarkASR

/// `hark eval … --report FILE`: an evaluation as one HTML page.
///
/// - Summary: CER and WER with substitutions, deletions, insertions and a
///   bootstrap 95% confidence interval (`BootstrapInterval`, as Kaldi's
///   `compute-wer-bootci`).
/// - Utterances, worst first (most word errors, then most character errors):
///   the word alignment with substitutions, deletions and insertions marked;
///   the first `worst` of them with an audio player and their figure
///   (waveform, spectrogram, posteriorgram with the decoded path).
/// - Word errors, commonest first, and for isolated words (every reference
///   one word) each word's accuracy, least accurate first.
/// - The character confusion table of all alignments.
public struct EvaluationReport {
    /// One scored utterance: its texts and their edit counts.
    public struct Utterance {
        /// The audio file's path.
        public var path: String
        /// The reference transcript.
        public var reference: String
        /// The model's transcript.
        public var hypothesis: String
        /// Character edits of the hypothesis against the reference.
        public var characters: EditCounts
        /// Word edits of the hypothesis against the reference.
        public var words: EditCounts

        /// An utterance of the given texts, its character and word edits counted here.
        public init(path: String, reference: String, hypothesis: String) {
            self.path = path
            self.reference = reference
            self.hypothesis = hypothesis
            characters = .characters(reference: reference, hypothesis: hypothesis)
            words = .words(reference: reference, hypothesis: hypothesis)
        }
    }

    /// What a worst utterance shows besides its alignment.
    public struct Media {
        /// The figure as PNG bytes; nil: none shown.
        public var figurePNG: [UInt8]?
        /// The audio as WAV bytes, for the page's player; nil: none.
        public var wav: [UInt8]?
        /// Why something is missing.
        public var note: String?

        /// Media of the given parts (each absent by default).
        public init(figurePNG: [UInt8]? = nil, wav: [UInt8]? = nil, note: String? = nil) {
            self.figurePNG = figurePNG; self.wav = wav; self.note = note
        }
    }

    /// The page's title.
    public var title: String
    /// Short facts shown under the title, joined by " · " (e.g. the model, the manifest, the decoding).
    public var facts: [String]
    /// Every scored utterance.
    public var utterances: [Utterance]
    /// Inputs that could not be scored, with why; listed at the end of the page.
    public var failed: [(path: String, message: String)]
    /// How many of the worst utterances get audio and a figure.
    public var worst: Int
    /// Most utterances whose alignment is shown (the worst ones).
    public static let maxAlignments = 500
    /// Longest utterance given audio and a figure (a minute of 16 kHz audio is 2.6 MB in the page).
    public static let maxMediaSeconds = 60.0
    /// Most bytes of audio and figures a page embeds; past them the worst utterances keep their alignment only.
    public static let maxMediaBytes = 64 << 20
    /// Bootstrap replications of the confidence intervals.
    public var replications = 10_000
    /// Word confidences against whether the words were right, when known: the
    /// expected calibration error and the reliability diagram.
    public var reliability: ReliabilityBins?

    /// A report of the given utterances; the worst 20 get audio and a figure unless told otherwise.
    public init(title: String, facts: [String], utterances: [Utterance], failed: [(path: String, message: String)] = [], worst: Int = 20) {
        self.title = title
        self.facts = facts
        self.utterances = utterances
        self.failed = failed
        self.worst = worst
    }

    /// Utterances with errors, worst first.
    public var ranked: [Utterance] {
        utterances.filter { $0.characters.errors > 0 || $0.words.errors > 0 }.sorted {
            ($0.words.errors, $0.characters.errors, $1.path) > ($1.words.errors, $1.characters.errors, $0.path)
        }
    }

    /// Character substitutions, deletions ("∅" hypothesis) and insertions ("∅" reference), and matches.
    public var confusions: [String: [String: Int]] {
        var table: [String: [String: Int]] = [:]
        for u in utterances {
            guard let pairs = EditCounts.alignment(reference: Array(u.reference), hypothesis: Array(u.hypothesis)) else { continue }
            for p in pairs {
                let r = p.reference.map(String.init) ?? Self.none, h = p.hypothesis.map(String.init) ?? Self.none
                table[r, default: [:]][h, default: 0] += 1
            }
        }
        return table
    }

    static let none = "∅"

    /// Word errors of all alignments, commonest first: (reference word, hypothesis
    /// word, count), "∅" for a deletion's hypothesis or an insertion's reference.
    public var wordErrors: [(reference: String, hypothesis: String, count: Int)] {
        var counts: [String: [String: Int]] = [:]
        for u in utterances {
            let r = u.reference.split(separator: " ").map(String.init), h = u.hypothesis.split(separator: " ").map(String.init)
            guard let pairs = EditCounts.alignment(reference: r, hypothesis: h) else { continue }
            for p in pairs where p.reference != p.hypothesis {
                counts[p.reference ?? Self.none, default: [:]][p.hypothesis ?? Self.none, default: 0] += 1
            }
        }
        return counts.flatMap { r, row in row.map { (r, $0.key, $0.value) } }
            .sorted { ($0.count, $1.reference, $1.hypothesis) > ($1.count, $0.reference, $0.hypothesis) }
    }

    /// Whether every reference is one word (isolated words, digits, commands).
    public var isolatedWords: Bool {
        !utterances.isEmpty && utterances.allSatisfy { !$0.reference.isEmpty && !$0.reference.contains(" ") }
    }

    /// For isolated words: each reference word, how often it was said and
    /// how often transcribed exactly, least accurate first.
    public var wordAccuracy: [(word: String, said: Int, right: Int)] {
        var said: [String: Int] = [:], right: [String: Int] = [:]
        for u in utterances {
            said[u.reference, default: 0] += 1
            if u.hypothesis == u.reference { right[u.reference, default: 0] += 1 }
        }
        return said.map { ($0.key, $0.value, right[$0.key] ?? 0) }
            .sorted { (Double($0.right) / Double($0.said), $0.word) < (Double($1.right) / Double($1.said), $1.word) }
    }

    /// The word sections: accuracy per word (isolated words), then the commonest word errors.
    func wordSections() -> String {
        var html = ""
        if isolatedWords {
            let rows = wordAccuracy.map { w in
                [escapeHTML(w.word), "\(w.said)", "\(w.right)", String(format: "%.1f%%", 100 * Double(w.right) / Double(w.said))]
            }
            html +=
                "<h3>Accuracy per word</h3><p class=\"meta\">Every reference is one word: how often each was transcribed exactly, least accurate first.</p>"
                + HTMLDocument.table(header: ["word", "said", "right", "accuracy"], rows: rows)
        }
        let errors = wordErrors
        let shown = errors.prefix(50).map { e in
            [
                escapeHTML(e.reference), escapeHTML(e.hypothesis), "\(e.count)",
                e.reference == Self.none ? "insertion" : e.hypothesis == Self.none ? "deletion" : "substitution"
            ]
        }
        html +=
            "<h3>Commonest word errors</h3>"
            + (errors.isEmpty
                ? "<p class=\"meta\">No word errors.</p>"
                : HTMLDocument.table(header: ["reference", "heard as", "times", "kind"], rows: shown)
                    + (errors.count > 50 ? "<p class=\"meta\">\(errors.count - 50) rarer error pair(s) are not shown.</p>" : ""))
        return html
    }

    /// The page; `media` is asked for the worst utterances' audio and figures.
    public func html(media: (Utterance) -> Media) -> String {
        var doc = HTMLDocument(title: title)
        doc.append("<p class=\"meta\">\(escapeHTML(facts.joined(separator: " · ")))</p>")
        let ranked = self.ranked

        // Summary.
        var totals = (characters: EditCounts(), words: EditCounts())
        for u in utterances { totals.characters = totals.characters + u.characters; totals.words = totals.words + u.words }
        var rows: [[String]] = []
        for (name, total, perUtterance) in [
            ("CER", totals.characters, utterances.map(\.characters)),
            ("WER", totals.words, utterances.map(\.words))
        ] {
            let rate = total.referenceLength > 0 ? String(format: "%.2f%%", 100 * total.rate) : "n/a"
            let ci =
                BootstrapInterval.estimate(perUtterance, replications: replications).map {
                    String(format: "%.2f%% [%.2f%%, %.2f%%]", 100 * $0.mean, 100 * max(0, $0.lower), 100 * $0.upper)
                } ?? "n/a"
            rows.append([
                "<b>\(name)</b>", "<span class=\"big\">\(rate)</span>", ci, "\(total.errors)", "\(total.substitutions)",
                "\(total.deletions)", "\(total.insertions)", "\(total.referenceLength)"
            ])
        }
        doc.section(
            id: "summary", heading: "Error rates",
            HTMLDocument.table(
                header: [
                    "", "rate", "bootstrap mean and 95% interval", "errors", "substitutions", "deletions",
                    "insertions", "reference length"
                ], rows: rows)
                + "<p class=\"meta\">\(utterances.count) utterance(s) scored, \(utterances.count - ranked.count) without an error. "
                + "Interval: \(replications) bootstrap replications of the utterances, mean ± 1.96 standard deviations (as Kaldi's compute-wer-bootci; a bound below 0 is shown as 0).</p>"
                + (failed.isEmpty ? "" : "<p class=\"meta\">\(failed.count) input(s) failed and are not scored (listed at the end).</p>"))

        // What goes wrong most, before the utterances one by one.
        doc.section(id: "words", heading: "Word errors", wordSections())

        // Utterances, worst first.
        var embedded = 0
        var body =
            "<p class=\"legend meta\"><span class=\"S\">substitution</span><span class=\"D\">deletion</span><span class=\"I\">insertion</span></p>"
        for (i, u) in ranked.prefix(Self.maxAlignments).enumerated() {
            body +=
                "<div class=\"utt\" id=\"utt-\(i + 1)\"><h3><b>#\(i + 1)</b> <code>\(escapeHTML(u.path))</code> · "
                + "\(u.words.errors) word error(s) of \(u.words.referenceLength) · \(u.characters.errors) character error(s) of \(u.characters.referenceLength)</h3>"
            body += Self.alignmentTable(u)
            if i < worst && embedded >= Self.maxMediaBytes {
                body += "<p class=\"meta\">Audio and figure left out: the page already holds \(Self.maxMediaBytes >> 20) MiB of them.</p>"
            } else if i < worst {
                let m = media(u)
                embedded += (m.wav?.count ?? 0) + (m.figurePNG?.count ?? 0)
                if let wav = m.wav {
                    body += "<audio controls=\"controls\" preload=\"none\" src=\"\(HTMLDocument.dataURI(wav, type: "audio/wav"))\"></audio>"
                }
                if let png = m.figurePNG {
                    body +=
                        "<img alt=\"waveform, spectrogram and posteriorgram of \(escapeHTML(u.path))\" src=\"\(HTMLDocument.dataURI(png, type: "image/png"))\"/>"
                }
                if let note = m.note { body += "<p class=\"meta\">\(escapeHTML(note))</p>" }
            }
            body += "</div>"
        }
        if ranked.count > Self.maxAlignments {
            body += "<p class=\"meta\">\(ranked.count - Self.maxAlignments) more utterance(s) with errors are not shown.</p>"
        }
        if ranked.isEmpty { body += "<p class=\"meta\">Every utterance was transcribed without an error.</p>" }
        doc.section(id: "utterances", heading: "Utterances, worst first", body)

        doc.section(id: "confusions", heading: "Character confusions", Self.confusionTable(confusions))

        if let reliability, let ece = reliability.expectedCalibrationError {
            doc.section(id: "calibration", heading: "Confidence calibration", Self.calibrationSection(reliability, ece: ece))
        }

        if !failed.isEmpty {
            doc.section(
                id: "failures", heading: "Failed inputs",
                HTMLDocument.table(
                    header: ["input", "problem"], rows: failed.map { ["<code>\(escapeHTML($0.path))</code>", escapeHTML($0.message)] }))
        }
        return doc.render()
    }

    /// The reliability diagram (each bin's share of right words against its
    /// mean confidence; on the diagonal, confidences mean what they say),
    /// the expected calibration error and the bins as a table.
    static func calibrationSection(_ bins: ReliabilityBins, ece: Double) -> String {
        let diagram = bins.diagram
        var chart = LineChart(
            title: "Reliability of word confidences", xLabel: "confidence (mean of the bin)",
            yLabel: "share of words right",
            series: [
                .init(name: "calibrated", color: .grid, points: [(0, 0), (1, 1)]),
                .init(name: "this model", color: Color(hex: 0x1F77B4), points: diagram.map { ($0.confidence, $0.accuracy) }, dots: true)
            ])
        chart.width = 420
        chart.height = 360
        let rows = diagram.map { b in
            [
                String(format: "%.1f–%.1f", b.lower, b.lower + 1 / Double(ReliabilityBins.binCount)), "\(b.words)",
                String(format: "%.3f", b.confidence), String(format: "%.3f", b.accuracy), String(format: "%+.3f", b.accuracy - b.confidence)
            ]
        }
        return "<p><span class=\"big\">" + String(format: "ECE %.4f", ece) + "</span> over \(bins.words) word(s): "
            + "the mean distance between the confidence of the words and how often they were right, bin by bin, weighted by the bin's words.</p>"
            + chart.svg()
            + HTMLDocument.table(header: ["confidence", "words", "mean confidence", "share right", "difference"], rows: rows)
    }

    /// Reference over hypothesis, word by word, edits coloured.
    static func alignmentTable(_ u: Utterance) -> String {
        let ref = u.reference.split(separator: " ").map(String.init), hyp = u.hypothesis.split(separator: " ").map(String.init)
        guard let pairs = EditCounts.alignment(reference: ref, hypothesis: hyp) else {
            return "<p class=\"meta\">Too long to align here. REF: \(escapeHTML(u.reference)) HYP: \(escapeHTML(u.hypothesis))</p>"
        }
        func cell(_ word: String?, _ op: AlignedPair<String>.Operation) -> String {
            let cls = ["substitution": "S", "deletion": "D", "insertion": "I"][op.rawValue].map { " class=\"\($0)\"" } ?? ""
            return "<td\(cls)>\(escapeHTML(word ?? "***"))</td>"
        }
        return "<table class=\"align\"><tr><th>REF</th>" + pairs.map { cell($0.reference, $0.operation) }.joined() + "</tr>"
            + "<tr><th>HYP</th>" + pairs.map { cell($0.hypothesis, $0.operation) }.joined() + "</tr></table>"
    }

    /// Rows: reference characters; columns: what was heard. Off-diagonal cells shaded by count.
    static func confusionTable(_ table: [String: [String: Int]]) -> String {
        guard !table.isEmpty else { return "<p class=\"meta\">No characters to compare.</p>" }
        func order(_ a: String, _ b: String) -> Bool {
            func rank(_ s: String) -> (Int, String) { (s == " " ? 1 : (s == none ? 2 : 0), s) }
            return rank(a) < rank(b)
        }
        let rows = table.keys.sorted(by: order)
        let cols = Set(table.values.flatMap(\.keys)).sorted(by: order)
        let worstError = table.flatMap { r, row in row.filter { $0.key != r }.map(\.value) }.max() ?? 1
        func label(_ s: String) -> String { s == " " ? "␣" : s }
        var t =
            "<table class=\"confusion\"><thead><tr><th>ref \\ hyp</th>" + cols.map { "<th>\(escapeHTML(label($0)))</th>" }.joined()
            + "</tr></thead><tbody>"
        for r in rows {
            t += "<tr><th>\(escapeHTML(label(r)))</th>"
            for c in cols {
                let n = table[r]?[c] ?? 0
                if n == 0 { t += "<td></td>"; continue }
                let style: String
                if r == c {
                    style = "background:#eef6ee;color:#666"
                } else {
                    let a = 0.15 + 0.85 * Double(n) / Double(worstError)
                    style = String(format: "background:rgba(214,39,40,%.2f)", a) + (a > 0.6 ? ";color:#fff" : "")
                }
                t += "<td style=\"\(style)\" title=\"\(escapeHTML(label(r))) → \(escapeHTML(label(c))): \(n)\">\(n)</td>"
            }
            t += "</tr>"
        }
        return t
            + "</tbody></table><p class=\"meta\">Counts over the character alignments of all utterances; the diagonal is what was right, ∅ stands for a deleted (column) or inserted (row) character, ␣ for a space.</p>"
    }
}

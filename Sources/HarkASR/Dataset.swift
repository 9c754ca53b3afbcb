import Foundation
import HarkAudio
import HarkCore
import HarkIO

/// One training or validation utterance, features computed once.
public struct Utterance: Sendable {
    /// The audio file's path, as the manifest gives it.
    public var path: String
    /// The normalised transcript and its token indices.
    public var text: String
    /// The transcript's token indices, one per character (the blank never among them).
    public var labels: [Int]
    /// Features before stacking (CMVN and deltas applied), [T, F].
    public var features: Matrix
    /// The network's frames for it: after stacking, and the front end's subsampling if any.
    public var inputFrames: Int
    /// The waveform at the model's rate, kept when training augments audio.
    public var samples: [Float]?
}

/// Utterances left out of a data set, by reason.
public struct DatasetReport: Sendable {
    /// Utterances loaded.
    public var loaded = 0
    /// Unreadable or broken audio: path and message.
    public var unreadable: [(String, String)] = []
    /// Transcripts with characters the vocabulary lacks, or empty after normalisation.
    public var untokenizable: [String] = []
    /// Transcripts that cannot fit their frames (CTC needs T ≥ L + repeats).
    public var tooLong: [String] = []
    /// Seconds of audio in the utterances loaded.
    public var audioSeconds = 0.0
    /// Utterances loaded, by the sample rate of their file (before resampling to the model's).
    public var sampleRates: [Int: Int] = [:]

    /// An empty report.
    public init() {}

    /// The report as a few lines for a person: what was loaded, what was
    /// resampled, and what was skipped and why, each reason once with its
    /// count and a few examples (not a line per file).
    public func summary(label: String, modelRate: Int, examples: Int = 3) -> [String] {
        var lines: [String] = []
        func some(_ paths: [String]) -> String {
            paths.prefix(examples).joined(separator: ", ") + (paths.count > examples ? ", …" : "")
        }
        for (rate, count) in sampleRates.sorted(by: { $0.key < $1.key }) where rate != modelRate {
            let how = rate < modelRate ? "upsampled" : "downsampled"
            var line = "\(label): \(count) file(s) at \(rate) Hz \(how) to the model's \(modelRate) Hz"
            // The hint only where nearly everything is at the lower rate: a mixed corpus
            // (16 kHz sentences, 8 kHz digits) is better served at the higher one.
            if rate < modelRate && count * 10 >= loaded * 9 {
                line += " (nearly all the data: --sample-frequency \(rate) trains a model at their rate)"
            }
            lines.append(line)
        }
        if !unreadable.isEmpty {
            lines.append("\(label): skipped \(unreadable.count) unreadable file(s): " + some(unreadable.map { "\($0.0) (\($0.1))" }))
        }
        if !untokenizable.isEmpty {
            lines.append(
                "\(label): skipped \(untokenizable.count) utterance(s) whose transcript is empty after normalisation or has characters without a token: "
                    + some(untokenizable))
        }
        if !tooLong.isEmpty {
            lines.append(
                "\(label): skipped \(tooLong.count) utterance(s) whose transcript is longer than their frames allow (CTC needs a frame per character): "
                    + some(tooLong))
        }
        return lines
    }
}

/// Loading training and validation data: a manifest's entries read, normalised, tokenized and turned into features.
public enum Dataset {
    /// CTC needs one frame per label plus one blank between each pair of equal neighbours.
    public static func minimumFrames(_ labels: [Int]) -> Int {
        labels.count + zip(labels, labels.dropFirst()).filter { $0 == $1 }.count
    }

    /// `load` with the work dealt over the ranks of a data-parallel job:
    /// rank r reads and analyses entries r, r + N, …; the utterances and the
    /// reasons for skipping are exchanged (`Collective.allgatherLarge`), so
    /// every rank returns what one process's `load` returns.
    public static func load(
        _ entries: [ManifestEntry], model: AcousticModel, threads: Int, keepAudio: Bool = false,
        collective: Collective
    ) -> ([Utterance], DatasetReport) {
        guard collective.size > 1 else { return load(entries, model: model, threads: threads, keepAudio: keepAudio) }
        let mine = collective.dealt(entries.count)
        let (set, report, loaded) = loadIndexed(mine.map { entries[$0] }, model: model, threads: threads, keepAudio: keepAudio)
        var w = ByteWriter()
        w.int(set.count)
        for (u, k) in zip(set, loaded) {
            w.int(mine[k])
            w.string(u.path); w.string(u.text); w.ints(u.labels); w.int(u.inputFrames)
            w.int(u.features.rows); w.int(u.features.cols); w.floats(u.features.data)
            w.int(u.samples == nil ? -1 : u.samples!.count); w.floats(u.samples ?? [])
        }
        w.int(report.unreadable.count); for (p, m) in report.unreadable { w.string(p); w.string(m) }
        w.int(report.untokenizable.count); for p in report.untokenizable { w.string(p) }
        w.int(report.tooLong.count); for p in report.tooLong { w.string(p) }
        w.double(report.audioSeconds)
        w.int(report.sampleRates.count); for (rate, n) in report.sampleRates.sorted(by: { $0.key < $1.key }) { w.int(rate); w.int(n) }

        var all: [(Int, Utterance)] = []
        var merged = DatasetReport()
        var unreadable: [String: String] = [:], untokenizable = Set<String>(), tooLong = Set<String>()
        for bytes in collective.allgatherLarge(w.bytes) {
            var r = ByteReader(bytes)
            for _ in 0..<r.int() {
                let index = r.int(), path = r.string(), text = r.string(), labels = r.ints(), frames = r.int()
                let rows = r.int(), cols = r.int(), data = r.floats()
                let n = r.int(), samples = r.floats()
                all.append(
                    (
                        index,
                        Utterance(
                            path: path, text: text, labels: labels, features: Matrix(rows: rows, cols: cols, data: data),
                            inputFrames: frames, samples: n < 0 ? nil : samples)
                    ))
            }
            for _ in 0..<r.int() { unreadable[r.string()] = r.string() }
            for _ in 0..<r.int() { untokenizable.insert(r.string()) }
            for _ in 0..<r.int() { tooLong.insert(r.string()) }
            merged.audioSeconds += r.double()
            for _ in 0..<r.int() { let rate = r.int(); merged.sampleRates[rate, default: 0] += r.int() }
        }
        // The manifest's order, as one process reports it.
        for e in entries {
            if let m = unreadable[e.audioPath] { merged.unreadable.append((e.audioPath, m)) }
            if untokenizable.contains(e.audioPath) { merged.untokenizable.append(e.audioPath) }
            if tooLong.contains(e.audioPath) { merged.tooLong.append(e.audioPath) }
        }
        let utterances = all.sorted { $0.0 < $1.0 }.map(\.1)
        merged.loaded = utterances.count
        return (utterances, merged)
    }

    /// Reads a manifest's entries and computes their features on `threads`
    /// threads; utterances keep the manifest's order.
    ///
    /// - Parameter keepAudio: keep each utterance's waveform (for augmentation).
    public static func load(
        _ entries: [ManifestEntry], model: AcousticModel, threads: Int, keepAudio: Bool = false,
        progress: ((Int, Int) -> Void)? = nil
    ) -> ([Utterance], DatasetReport) {
        let (utterances, report, _) = loadIndexed(entries, model: model, threads: threads, keepAudio: keepAudio, progress: progress)
        return (utterances, report)
    }

    /// `load`, with the index in `entries` of each utterance loaded.
    static func loadIndexed(
        _ entries: [ManifestEntry], model: AcousticModel, threads: Int, keepAudio: Bool = false,
        progress: ((Int, Int) -> Void)? = nil
    ) -> ([Utterance], DatasetReport, [Int]) {
        /// Why an entry is left out, besides unreadable audio.
        enum Skip: Error { case untokenizable, tooLong }
        var utterances: [Utterance] = []
        var indices: [Int] = []
        var report = DatasetReport()
        let options = AudioLoadOptions(targetSampleRate: model.config.sampleRate)
        var done = 0
        processInOrder(
            entries, threads: threads,
            work: { e -> (Utterance, Double, Int) in
                let text = model.config.text.normalize(e.text ?? "")
                guard let labels = model.vocabulary.encode(text), !labels.isEmpty else { throw Skip.untokenizable }
                let audio = try AudioLoader.load(e.audioPath, options: options)
                let features = model.extractor.compute(audio.waveform.samples)
                let frames = model.config.networkFrames(featureFrames: features.rows)
                guard frames >= minimumFrames(labels) else { throw Skip.tooLong }
                return (
                    Utterance(
                        path: e.audioPath, text: text, labels: labels, features: features, inputFrames: frames,
                        samples: keepAudio ? audio.waveform.samples : nil),
                    audio.waveform.duration, audio.originalSampleRate
                )
            },
            emit: { i, _, result in
                utterances.append(result.0)
                indices.append(i)
                report.loaded += 1
                report.audioSeconds += result.1
                report.sampleRates[result.2, default: 0] += 1
                done += 1
                progress?(done, entries.count)
            },
            failed: { _, e, error in
                switch error {
                case Skip.untokenizable: report.untokenizable.append(e.audioPath)
                case Skip.tooLong: report.tooLong.append(e.audioPath)
                default: report.unreadable.append((e.audioPath, "\(error)"))
                }
                done += 1
                progress?(done, entries.count)
            })
        return (utterances, report, indices)
    }
}

/// Little-endian encoding of the values `Dataset.load` exchanges between ranks.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
    mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { let u = Array(s.utf8); int(u.count); bytes += u }
    mutating func ints(_ v: [Int]) { int(v.count); for x in v { int(x) } }
    mutating func floats(_ v: [Float]) { int(v.count); v.withUnsafeBytes { bytes += $0 } }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func int() -> Int {
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[offset..<(offset + 8)]) }
        offset += 8
        return Int(Int64(littleEndian: v))
    }
    mutating func double() -> Double { Double(bitPattern: UInt64(bitPattern: Int64(int()))) }
    mutating func string() -> String {
        let n = int()
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
    mutating func ints() -> [Int] { (0..<int()).map { _ in int() } }
    mutating func floats() -> [Float] {
        let n = int()
        var v = [Float](repeating: 0, count: n)
        v.withUnsafeMutableBytes { $0.copyBytes(from: bytes[offset..<(offset + 4 * n)]) }
        offset += 4 * n
        return v
    }
}

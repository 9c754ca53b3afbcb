import Foundation
import HarkASR

/// `hark report RUN_DIR`: a training run's curves and options as one HTML page.
///
/// From `train.log.jsonl`: loss, learning rate, gradient norm and frames/s
/// against steps (long runs averaged into at most `maxPoints` points, with the
/// spread of each average shaded); validation CER and WER against epochs with
/// the best epoch marked. From the checkpoint (or `config.json` alone): the
/// run's training options and model configuration.
public struct TrainingReport {
    /// The step reports of the log, in step order.
    public var steps: [TrainingEvent.StepReport] = []
    /// The epoch reports of the log, in epoch order.
    public var epochs: [TrainingEvent.EpochReport] = []
    /// Training options and model configuration, flattened to "key.path" → value.
    public var options: [(key: String, value: String)] = []
    /// The model configuration, flattened to "key.path" → value.
    public var config: [(key: String, value: String)] = []
    /// Things the reader should know (lines skipped, no checkpoint).
    public var notes: [String] = []
    /// The run directory's name, in the page's title.
    public var runName: String

    /// A log longer than this is refused rather than held in memory (about
    /// 1.3 million steps; reading takes about three times its size).
    public static let maxLogBytes = 256 << 20
    /// Points per step chart.
    public static let maxPoints = 800

    /// Reads a run directory; a missing or unreadable log is an error naming the file,
    /// malformed lines (e.g. a last line cut by a kill) are skipped and noted.
    public init(runDirectory: String) throws {
        let dir = URL(fileURLWithPath: runDirectory)
        runName = dir.standardizedFileURL.lastPathComponent
        let logURL = dir.appendingPathComponent("train.log.jsonl")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlotError("\(runDirectory): not a directory (expected a training run's --out directory)")
        }
        // stat follows a symbolic link: the size and kind checked are the file's read.
        var st = stat()
        guard stat(logURL.path, &st) == 0 else {
            throw PlotError("\(logURL.path): no training log (train.log.jsonl); is \(runDirectory) a run's --out directory?")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw PlotError("\(logURL.path): not a regular file")
        }
        guard Int(st.st_size) <= Self.maxLogBytes else {
            throw PlotError("\(logURL.path): \(st.st_size) bytes is more than the \(Self.maxLogBytes >> 20) MiB a report reads")
        }
        guard let file = FileHandle(forReadingAtPath: logURL.path) else {
            throw PlotError("\(logURL.path): cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { try? file.close() }
        // Read in blocks, line by line: memory holds the events, not the file.
        var log = TrainingLog()
        while true {
            let block: Data
            do { block = try file.read(upToCount: 4 << 20) ?? Data() } catch {
                throw PlotError("\(logURL.path): cannot be read (\(error))")
            }
            if block.isEmpty { break }
            log.add(block)
        }
        log.finish()
        steps = log.steps
        epochs = log.epochs
        notes += log.notes
        if steps.isEmpty && epochs.isEmpty {
            throw PlotError("\(logURL.path): no training events in \(log.nonBlankLines) non-blank line(s)")
        }
        do {
            let checkpoint = try Checkpoint.read(from: dir)
            options = try Self.flatten(checkpoint.options)
            config = try Self.flatten(checkpoint.config)
        } catch {
            notes.append("No readable checkpoint (\(error)); the options are not shown.")
            if let model = try? AcousticModel.load(directory: dir) { config = (try? Self.flatten(model.config)) ?? [] }
        }
    }

    /// "a.b" → value rows of a Codable value's JSON, sorted by key.
    static func flatten<T: Encodable>(_ value: T) throws -> [(key: String, value: String)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try JSONSerialization.jsonObject(with: try encoder.encode(value), options: [.fragmentsAllowed])
        var rows: [(String, String)] = []
        func walk(_ v: Any, _ path: String) {
            if let d = v as? [String: Any] {
                if d.isEmpty { rows.append((path, "{}")) }
                for k in d.keys.sorted() { walk(d[k]!, path.isEmpty ? k : path + "." + k) }
            } else if let a = v as? [Any], a.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                rows.append((path, a.map { "\($0)" }.joined(separator: ", ")))
            } else if let a = v as? [Any] {
                for (i, x) in a.enumerated() { walk(x, "\(path)[\(i)]") }
            } else if v is NSNull {
                rows.append((path, "null"))
            } else {
                rows.append((path, "\(v)"))
            }
        }
        walk(object, "")
        return rows
    }

    /// Averages of consecutive points, at most `maxPoints` of them, with each average's minimum and maximum.
    static func bucketed(_ points: [(x: Double, y: Double)], maxPoints: Int = TrainingReport.maxPoints)
        -> (line: [(x: Double, y: Double)], band: [(x: Double, low: Double, high: Double)])
    {
        let finite = points.filter { $0.y.isFinite }
        guard finite.count > maxPoints else { return (finite, []) }
        let size = (finite.count + maxPoints - 1) / maxPoints
        var line: [(x: Double, y: Double)] = [], band: [(x: Double, low: Double, high: Double)] = []
        var i = 0
        while i < finite.count {
            let chunk = finite[i..<min(i + size, finite.count)]
            let x = chunk.map(\.x).reduce(0, +) / Double(chunk.count)
            line.append((x, chunk.map(\.y).reduce(0, +) / Double(chunk.count)))
            band.append((x, chunk.map(\.y).min()!, chunk.map(\.y).max()!))
            i += size
        }
        return (line, band)
    }

    /// The epoch marked best (the last one the log marks best, or the lowest CER).
    public var bestEpoch: TrainingEvent.EpochReport? {
        epochs.last { $0.best == true } ?? epochs.filter { $0.validCER != nil }.min { $0.validCER! < $1.validCER! }
    }

    /// The report as one self-contained HTML page.
    public func html() -> String {
        var doc = HTMLDocument(title: "Training run \(runName)")
        let last = steps.last
        var facts: [String] = []
        if let last {
            facts.append("\(last.step) steps")
            facts.append(String(format: "%.0f s (%@)", last.elapsed, Self.duration(last.elapsed)))
        }
        if let e = epochs.last { facts.append("last epoch \(e.epoch + 1)") }
        if let best = bestEpoch, let cer = best.validCER {
            facts.append(
                String(format: "best epoch %d: CER %.2f%%", best.epoch + 1, 100 * cer)
                    + (best.validWER.map { String(format: ", WER %.2f%%", 100 * $0) } ?? ""))
        }
        let skipped = steps.last?.skippedNonFinite ?? 0
        if skipped > 0 { facts.append("\(skipped) step(s) skipped for non-finite loss or gradient") }
        doc.append("<p class=\"meta\">\(escapeHTML(facts.joined(separator: " · ")))</p>")
        for n in notes { doc.append("<p class=\"meta\">\(escapeHTML(n))</p>") }

        func stepSeries(_ name: String, _ color: Color, _ value: (TrainingEvent.StepReport) -> Float?) -> LineChart.Series {
            let (line, band) = Self.bucketed(steps.compactMap { s in value(s).map { (Double(s.step), Double($0)) } })
            return LineChart.Series(name: name, color: color, points: line, band: band)
        }
        let charts = [
            LineChart(
                title: "CTC loss", xLabel: "step", yLabel: "loss per frame", series: [stepSeries("loss", Color(hex: 0x1F77B4)) { $0.loss }]),
            LineChart(
                title: "Learning rate", xLabel: "step", yLabel: "learning rate",
                series: [stepSeries("lr", Color(hex: 0x2CA02C)) { $0.learningRate }]),
            LineChart(
                title: "Gradient norm (before clipping)", xLabel: "step", yLabel: "L2 norm",
                series: [stepSeries("grad norm", Color(hex: 0x9467BD)) { $0.gradNorm }], logY: true),
            LineChart(
                title: "Throughput", xLabel: "step", yLabel: "frames per second",
                series: [stepSeries("frames/s", Color(hex: 0x8C564B)) { $0.framesPerSecond.map(Float.init) }])
        ]
        doc.section(id: "curves", heading: "Training curves", "<div class=\"charts\">" + charts.map { $0.svg() }.joined() + "</div>")

        let best = bestEpoch
        let validation = LineChart(
            title: "Validation error rates", xLabel: "epoch", yLabel: "error rate (%)",
            series: [
                LineChart.Series(
                    name: "CER", color: Color(hex: 0xD62728),
                    points: epochs.compactMap { e in e.validCER.map { (Double(e.epoch + 1), 100 * $0) } }, dots: true),
                LineChart.Series(
                    name: "WER", color: Color(hex: 0xFF7F0E),
                    points: epochs.compactMap { e in e.validWER.map { (Double(e.epoch + 1), 100 * $0) } }, dots: true)
            ],
            // Epochs are counted from 1, as hark train prints them (the log's "epoch" counts from 0).
            marker: best.map { (Double($0.epoch + 1), "best: epoch \($0.epoch + 1)") })
        var rows: [[String]] = []
        for e in epochs {
            let mark = e.epoch == best?.epoch ? " ★" : ""
            rows.append([
                "\(e.epoch + 1)\(mark)", "\(e.step)", e.validCER.map { String(format: "%.2f", 100 * $0) } ?? "–",
                e.validWER.map { String(format: "%.2f", 100 * $0) } ?? "–", String(format: "%.0f", e.elapsed)
            ])
        }
        doc.section(
            id: "validation", heading: "Validation",
            (epochs.contains { $0.validCER != nil } ? validation.svg() : "<p class=\"meta\">The run had no validation data.</p>")
                + HTMLDocument.table(header: ["epoch", "step", "CER %", "WER %", "elapsed s"], rows: rows))
        let optionRows = options.map { ["<code>\(escapeHTML($0.key))</code>", escapeHTML($0.value)] }
        let configRows = config.map { ["<code>\(escapeHTML($0.key))</code>", escapeHTML($0.value)] }
        doc.section(
            id: "options", heading: "Options",
            "<h3>Training options</h3>"
                + (optionRows.isEmpty
                    ? "<p class=\"meta\">Not recorded.</p>" : HTMLDocument.table(header: ["option", "value"], rows: optionRows))
                + "<h3>Model configuration</h3>"
                + (configRows.isEmpty
                    ? "<p class=\"meta\">Not recorded.</p>" : HTMLDocument.table(header: ["key", "value"], rows: configRows)))
        return doc.render()
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e9 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh %02dm", s / 3600, s % 3600 / 60) : String(format: "%dm %02ds", s / 60, s % 60)
    }
}

/// The events of a training log (`train.log.jsonl`), read as its bytes come:
/// one JSON event per line. Lines that are not events (a last line cut by a
/// kill) and events with impossible values are skipped and counted; a
/// resumed run repeats the steps after its last checkpoint, and the later
/// report of a step (or epoch) wins.
public struct TrainingLog {
    /// The step reports read so far, in step order.
    public private(set) var steps: [TrainingEvent.StepReport] = []
    /// The epoch reports read so far, in epoch order.
    public private(set) var epochs: [TrainingEvent.EpochReport] = []
    /// Line numbers (from 1) skipped as not events, and as impossible events.
    public private(set) var malformedLines: [Int] = []
    /// Line numbers (from 1) of events skipped for impossible values.
    public private(set) var implausibleLines: [Int] = []
    /// Lines read so far.
    public private(set) var lines = 0
    /// Lines read so far that are not blank.
    public private(set) var nonBlankLines = 0
    private var pending: [UInt8] = []
    private let decoder = JSONDecoder()

    /// An empty log.
    public init() {}

    /// More of the log's bytes; whole lines are read as they complete.
    public mutating func add(_ bytes: Data) {
        pending += bytes
        var start = 0
        while let end = pending[start...].firstIndex(of: 10) {
            take(pending[start..<end])
            start = end + 1
        }
        pending.removeFirst(start)
    }

    /// The last line, if the log does not end with a line feed.
    public mutating func finish() {
        if !pending.isEmpty { take(pending[...]) }
        pending = []
    }

    private mutating func take(_ line: ArraySlice<UInt8>) {
        lines += 1
        if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { return }
        nonBlankLines += 1
        guard let event = try? decoder.decode(TrainingEvent.self, from: Data(line)) else { malformedLines.append(lines); return }
        guard event.isPlausible else { implausibleLines.append(lines); return }
        switch event {
        case .step(let s):
            while let last = steps.last, last.step >= s.step { steps.removeLast() }
            steps.append(s)
        case .epoch(let e):
            while let last = epochs.last, last.epoch >= e.epoch { epochs.removeLast() }
            epochs.append(e)
        }
    }

    /// What a reader should know about the lines skipped.
    public var notes: [String] {
        func shown(_ l: [Int]) -> String { l.prefix(5).map(String.init).joined(separator: ", ") + (l.count > 5 ? ", …" : "") }
        var notes: [String] = []
        if !malformedLines.isEmpty {
            notes.append(
                "\(malformedLines.count) line(s) of train.log.jsonl were not training events and were skipped (line \(shown(malformedLines)))."
            )
        }
        if !implausibleLines.isEmpty {
            notes.append(
                "\(implausibleLines.count) event(s) with impossible values (a negative or non-finite number, an error rate over 10,000%) were skipped (line \(shown(implausibleLines)))."
            )
        }
        return notes
    }
}

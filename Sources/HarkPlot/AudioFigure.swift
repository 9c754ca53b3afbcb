import Foundation
import HarkCore

/// The picture `hark plot` draws: the waveform, the log-mel spectrogram and,
/// with a model, the token posteriorgram with the decoded path and the word
/// boundaries, one above the other on a shared time axis.
///
/// Everything is given as numbers (samples, the spectrogram matrix, the
/// log-probabilities, the decoded tokens), so the figure can be drawn for any
/// signal and checked pixel by pixel through `layout`.
public struct AudioFigure {
    /// Mono samples of the window shown, in [-1, 1].
    public var samples: [Float]
    /// Samples per second of `samples`, Hz.
    public var sampleRate: Int
    /// The recording's time of `samples[0]`, seconds (the window's start).
    public var startTime: Double = 0
    /// Log-mel energies [frames, bins]; frame i's window starts at startTime + i·frameShift.
    public var spectrogram: Matrix
    /// Seconds between the starts of successive spectrogram frames.
    public var frameShift: Double
    /// Seconds of each frame's window: frame i is drawn centred on its window's middle.
    public var frameLength: Double
    /// Centre frequency of each mel bin, Hz, lowest first.
    public var binFrequencies: [Double]
    /// The model's posteriorgram and decoded path; nil: the figure has none.
    public var posteriors: Posteriors?
    /// The title drawn above the figure; empty: none.
    public var title: String
    /// The figure's width in points (PNG pixels); at least 200 is used.
    public var width: Int

    /// What the model heard: log-probabilities [T, K] and the decoded path.
    public struct Posteriors {
        /// Log-probabilities [T, K] of the window's frames.
        public var logProbabilities: Matrix
        /// The K token labels, in the network's output order.
        public var tokens: [String]
        /// Seconds per network frame.
        public var secondsPerFrame: Double
        /// Decoded tokens with their frames (the CTC path, blanks left out).
        public var path: [(token: Int, firstFrame: Int, lastFrame: Int)]
        /// Words with start and end times relative to the window's start.
        public var words: [(word: String, start: Double, end: Double)]

        /// Posteriors of the given log-probabilities, tokens, frame duration, path and words.
        public init(
            logProbabilities: Matrix, tokens: [String], secondsPerFrame: Double,
            path: [(token: Int, firstFrame: Int, lastFrame: Int)], words: [(word: String, start: Double, end: Double)]
        ) {
            self.logProbabilities = logProbabilities
            self.tokens = tokens
            self.secondsPerFrame = secondsPerFrame
            self.path = path
            self.words = words
        }
    }

    /// A figure of the given signal and spectrogram, with the posteriorgram when `posteriors` is given.
    public init(
        samples: [Float], sampleRate: Int, startTime: Double = 0, spectrogram: Matrix, frameShift: Double,
        frameLength: Double, binFrequencies: [Double], posteriors: Posteriors? = nil, title: String = "", width: Int = 1200
    ) {
        self.frameLength = frameLength
        self.samples = samples
        self.sampleRate = sampleRate
        self.startTime = startTime
        self.spectrogram = spectrogram
        self.frameShift = frameShift
        self.binFrequencies = binFrequencies
        self.posteriors = posteriors
        self.title = title
        self.width = width
    }

    /// The spectrogram's colour scale spans this many dB below its loudest bin.
    public static let dynamicRange = 80.0

    /// Where everything is, in points (= PNG pixels).
    public struct Layout: Equatable {
        /// The figure's size, points.
        public var width: Int, height: Int
        /// The panels of the waveform and the spectrogram.
        public var waveform: Rect, spectrogram: Rect
        /// The panel of the posteriorgram; nil without posteriors.
        public var posteriorgram: Rect?
        /// The time span of the x axis, seconds in the recording.
        public var startTime: Double, endTime: Double
        /// The spectrogram's mel bins.
        public var bins: Int

        /// The x coordinate of time `t` (seconds in the recording).
        public func x(_ t: Double) -> Double {
            waveform.x + (t - startTime) / max(endTime - startTime, 1e-9) * waveform.width
        }

        /// The time at x coordinate `x`.
        public func time(atX x: Double) -> Double {
            startTime + (x - waveform.x) / waveform.width * (endTime - startTime)
        }

        /// The mel bin (0 = lowest) drawn at height `y` of the spectrogram, if inside it.
        public func bin(atY y: Double) -> Int? {
            guard y >= spectrogram.y, y < spectrogram.maxY, bins > 0 else { return nil }
            let fromTop = Int((y - spectrogram.y) / spectrogram.height * Double(bins))
            return bins - 1 - min(fromTop, bins - 1)
        }
    }

    /// Seconds of `samples`.
    public var duration: Double { Double(samples.count) / Double(max(sampleRate, 1)) }

    /// Where the title, panels and axes go for this figure's size and content.
    public var layout: Layout {
        let left = 86.0, right = 24.0, titleHeight = title.isEmpty ? 16.0 : 40.0, gap = 28.0
        let plotWidth = Double(max(width, 200)) - left - right
        let wave = Rect(x: left, y: titleHeight, width: plotWidth, height: 110)
        let spec = Rect(x: left, y: wave.maxY + gap, width: plotWidth, height: 240)
        var post: Rect?
        var bottom = spec.maxY
        if let p = posteriors {
            // Word labels sit in the gap above the posteriorgram.
            post = Rect(x: left, y: spec.maxY + gap + 22, width: plotWidth, height: Double(p.tokens.count) * 12)
            bottom = post!.maxY
        }
        return Layout(
            width: max(width, 200), height: Int(bottom + 48), waveform: wave, spectrogram: spec,
            posteriorgram: post, startTime: startTime, endTime: startTime + max(duration, 1e-3),
            bins: spectrogram.cols)
    }

    /// Draws the figure as a PNG or an SVG file's bytes.
    public func render(_ format: PictureFormat) throws -> [UInt8] {
        let l = layout
        let canvas = try Canvas(width: l.width, height: l.height, format: format)
        if !title.isEmpty {
            canvas.text(title, x: l.waveform.x, y: 26, size: 15, bold: true)
        }
        drawWaveform(canvas, l)
        drawSpectrogram(canvas, l)
        if let p = posteriors, let rect = l.posteriorgram { drawPosteriorgram(canvas, l, p, rect) }
        drawTimeAxis(canvas, l)
        return try canvas.encoded()
    }

    // MARK: Panels

    private func drawWaveform(_ c: Canvas, _ l: Layout) {
        let r = l.waveform
        c.fill(r, Color(hex: 0xFAFAFA))
        let mid = r.y + r.height / 2, half = r.height / 2 - 2
        c.line(r.x, mid, r.maxX, mid, .grid)
        // One vertical stroke per point column from the column's lowest to its highest sample.
        let columns = Int(r.width)
        if !samples.isEmpty {
            c.clip(r)
            for col in 0..<columns {
                let a = Int(Double(col) / Double(columns) * Double(samples.count))
                let b = max(a + 1, Int(Double(col + 1) / Double(columns) * Double(samples.count)))
                guard a < samples.count else { break }
                var lo = samples[a], hi = samples[a]
                for i in a..<min(b, samples.count) { lo = min(lo, samples[i]); hi = max(hi, samples[i]) }
                let x = r.x + Double(col) + 0.5
                c.line(x, mid - Double(hi) * half - 0.5, x, mid - Double(lo) * half + 0.5, .wave)
            }
            c.unclip()
        }
        c.stroke(r, .ink, width: 0.8)
        for (v, label) in [(1.0, "1"), (0.0, "0"), (-1.0, "−1")] {
            let y = mid - v * half
            c.line(r.x - 4, y, r.x, y, .ink)
            c.text(label, x: r.x - 7, y: y + 4, size: 10, anchor: .end)
        }
        c.text("amplitude", x: 18, y: r.y + r.height / 2, size: 11, anchor: .middle, vertical: true)
    }

    private func drawSpectrogram(_ c: Canvas, _ l: Layout) {
        let r = l.spectrogram
        let frames = spectrogram.rows, bins = spectrogram.cols
        if frames > 0 && bins > 0 {
            let top = Double(spectrogram.data.filter(\.isFinite).max() ?? 0)
            // Log energies are natural logs of power: 10·log10(e) dB per unit.
            let range = Self.dynamicRange / (10 / log(10.0))
            let (pixels, columns, group) = Self.heatmap(frames: frames, rows: bins, maxColumns: Int(r.width) * 2) { t, b in
                // Row 0 is the top: the highest band.
                (Double(spectrogram[t, bins - 1 - b]) - (top - range)) / range
            }
            // Frame i spans its window's middle ± half a shift; outside the frames the panel stays at the scale's bottom.
            let first = startTime + (frameLength - frameShift) / 2
            let x0 = l.x(first), x1 = l.x(first + Double(columns * group) * frameShift)
            let imageRect = Rect(x: x0, y: r.y, width: x1 - x0, height: r.height)
            c.fill(r, Colormap.viridis.color(0))
            c.clip(r)
            c.image(pixels.map(Colormap.viridis.color), columns: columns, rows: bins, in: imageRect)
            c.unclip()
        }
        c.stroke(r, .ink, width: 0.8)
        // Ticks at round frequencies, placed at the bin whose centre is nearest.
        for f in [100.0, 250, 500, 1000, 2000, 4000, 8000, 16000] {
            guard let lowest = binFrequencies.first, let highest = binFrequencies.last, f >= lowest, f <= highest else { continue }
            let b = binFrequencies.indices.min { abs(binFrequencies[$0] - f) < abs(binFrequencies[$1] - f) }!
            let y = r.y + (Double(bins - 1 - b) + 0.5) / Double(bins) * r.height
            c.line(r.x - 4, y, r.x, y, .ink)
            c.text(f >= 1000 ? "\(Int(f / 1000)) kHz" : "\(Int(f)) Hz", x: r.x - 7, y: y + 4, size: 10, anchor: .end)
        }
        c.text("frequency (mel scale)", x: 18, y: r.y + r.height / 2, size: 11, anchor: .middle, vertical: true)
        c.text("log-mel energy, \(Int(Self.dynamicRange)) dB range", x: r.maxX, y: r.y - 6, size: 10, anchor: .end)
    }

    private func drawPosteriorgram(_ c: Canvas, _ l: Layout, _ p: Posteriors, _ r: Rect) {
        let T = p.logProbabilities.rows, K = p.logProbabilities.cols
        if T > 0 && K > 0 {
            let (pixels, columns, group) = Self.heatmap(frames: T, rows: K, maxColumns: Int(r.width) * 2) { t, k in
                exp(Double(p.logProbabilities[t, k]))
            }
            let span = Double(columns * group) * p.secondsPerFrame
            c.clip(r)
            c.image(
                pixels.map(Colormap.blues.color), columns: columns, rows: K,
                in: Rect(x: r.x, y: r.y, width: l.x(startTime + span) - r.x, height: r.height))
            c.unclip()
        }
        // The decoded path: each emitted token's frames outlined on its row.
        let rowHeight = r.height / Double(max(K, 1))
        for step in p.path where step.token < K {
            let x0 = l.x(startTime + Double(step.firstFrame) * p.secondsPerFrame)
            let x1 = l.x(startTime + Double(step.lastFrame + 1) * p.secondsPerFrame)
            c.stroke(Rect(x: x0, y: r.y + Double(step.token) * rowHeight, width: max(x1 - x0, 1), height: rowHeight), .accent, width: 1.5)
        }
        // Word boundaries through the posteriorgram, the words above it.
        for w in p.words {
            let x0 = l.x(startTime + w.start), x1 = l.x(startTime + w.end)
            c.line(x0, r.y - 18, x0, r.maxY, .accent, width: 1, dash: 3)
            c.line(x1, r.y - 18, x1, r.maxY, .accent, width: 1, dash: 3)
            c.text(w.word, x: (x0 + x1) / 2, y: r.y - 6, size: 11, color: .accent, anchor: .middle, bold: true)
        }
        c.stroke(r, .ink, width: 0.8)
        for (k, label) in p.tokens.enumerated() {
            let shown = label == " " ? "␣" : (label == "<blank>" ? "∅ blank" : label)
            c.text(shown, x: r.x - 7, y: r.y + (Double(k) + 0.5) * rowHeight + 3.5, size: 9, anchor: .end)
        }
        c.text("token", x: 18, y: r.y + r.height / 2, size: 11, anchor: .middle, vertical: true)
    }

    private func drawTimeAxis(_ c: Canvas, _ l: Layout) {
        let span = l.endTime - l.startTime
        let step = Self.tickStep(span)
        let bottom = l.posteriorgram?.maxY ?? l.spectrogram.maxY
        var t = (l.startTime / step).rounded(.up) * step
        while t <= l.endTime + 1e-9 {
            let x = l.x(t)
            for panel in [l.waveform, l.spectrogram] + (l.posteriorgram.map { [$0] } ?? []) {
                c.line(x, panel.maxY, x, panel.maxY + 4, .ink)
            }
            c.text(Self.timeLabel(t, step: step), x: x, y: bottom + 18, size: 10, anchor: .middle)
            t += step
        }
        c.text("time (s)", x: l.waveform.x + l.waveform.width / 2, y: bottom + 38, size: 11, anchor: .middle)
    }

    /// Heat-map values, row-major with `rows` rows: one column per frame, or,
    /// when there are more than `maxColumns` frames, the largest value of each
    /// run of frames (so a short loud event stays visible, and the image stays
    /// within cairo's 32767-pixel limit).
    static func heatmap(frames: Int, rows: Int, maxColumns: Int, value: (Int, Int) -> Double) -> (
        values: [Double], columns: Int, framesPerColumn: Int
    ) {
        let group = max(1, (frames + maxColumns - 1) / max(maxColumns, 1))
        let columns = (frames + group - 1) / group
        var out = [Double](repeating: -.infinity, count: columns * rows)
        for t in 0..<frames {
            let c = t / group
            for row in 0..<rows { out[row * columns + c] = max(out[row * columns + c], value(t, row)) }
        }
        return (out, columns, group)
    }

    /// A round tick spacing giving at most about 12 ticks over `span` seconds.
    static func tickStep(_ span: Double) -> Double {
        let steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
        return steps.first { span / $0 <= 12 } ?? 3600
    }

    static func timeLabel(_ t: Double, step: Double) -> String {
        if step >= 60 { return String(format: "%d:%02d", Int(t) / 60, Int(t) % 60) }
        let decimals = step >= 1 ? 0 : (step >= 0.1 ? 1 : 2)
        return String(format: "%.\(decimals)f", t)
    }
}

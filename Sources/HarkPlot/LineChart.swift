import Foundation

/// A line chart written directly as SVG text, for the HTML reports: a few
/// polylines need no drawing library, and inline SVG stays sharp at any zoom,
/// keeps its text selectable and shows each point's value on hover.
public struct LineChart {
    /// One line of the chart, in the legend under its name.
    public struct Series {
        /// The name in the legend and tooltips.
        public var name: String
        /// The line's colour.
        public var color: Color
        /// The points in data coordinates, in drawing order; points whose y cannot be drawn (not finite, or ≤ 0 on a
        /// logarithmic axis) are left out.
        public var points: [(x: Double, y: Double)]
        /// A shaded band (e.g. the spread of the values averaged into each point).
        public var band: [(x: Double, low: Double, high: Double)] = []
        /// Draw a dot with a tooltip at each point (for short series such as epochs).
        public var dots = false

        /// A series of the given points, by default without band or dots.
        public init(
            name: String, color: Color, points: [(x: Double, y: Double)],
            band: [(x: Double, low: Double, high: Double)] = [], dots: Bool = false
        ) {
            self.name = name; self.color = color; self.points = points; self.band = band; self.dots = dots
        }
    }

    /// The title above the plot.
    public var title: String
    /// The x axis's label.
    public var xLabel: String
    /// The y axis's label.
    public var yLabel: String
    /// The lines drawn, in order.
    public var series: [Series]
    /// Logarithmic y axis (values ≤ 0 are left out).
    public var logY = false
    /// A vertical marker, e.g. the best epoch.
    public var marker: (x: Double, label: String)?
    /// The chart's size, in SVG user units (pixels).
    public var width = 560.0, height = 300.0

    /// A chart of the given series, by default with a linear y axis and no marker.
    public init(
        title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false,
        marker: (x: Double, label: String)? = nil
    ) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY; self.marker = marker
    }

    /// Plot area inside the margins.
    var area: Rect { Rect(x: 64, y: 30, width: width - 64 - 16, height: height - 30 - 46) }

    /// The chart as an `<svg>` element, to embed in a page; "no data" when no point can be drawn.
    public func svg() -> String {
        let a = area
        func ok(_ y: Double) -> Bool { y.isFinite && (!logY || y > 0) }
        let xs = series.flatMap { $0.points.map(\.x) + $0.band.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.low, $0.high] } }.filter(ok)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"
        svg += "<title>\(escapeHTML(title))</title>"
        svg += "<text x=\"\(a.x)\" y=\"18\" class=\"chart-title\">\(escapeHTML(title))</text>"
        guard let x0 = xs.min(), let x1 = xs.max(), let y0r = ys.min(), let y1r = ys.max() else {
            svg +=
                "<text x=\"\(a.x + a.width / 2)\" y=\"\(a.y + a.height / 2)\" text-anchor=\"middle\" class=\"empty\">no data</text></svg>"
            return svg
        }
        let ty = Self.transform(logY: logY)
        let (xlo, xhi) = x0 == x1 ? (x0 - 0.5, x1 + 0.5) : (x0, x1)
        var (ylo, yhi) = (ty.forward(y0r), ty.forward(y1r))
        if ylo == yhi { ylo -= 0.5; yhi += 0.5 } else { let pad = (yhi - ylo) * 0.05; ylo -= pad; yhi += pad }
        func px(_ x: Double) -> Double { a.x + (x - xlo) / (xhi - xlo) * a.width }
        func py(_ y: Double) -> Double { a.maxY - (ty.forward(y) - ylo) / (yhi - ylo) * a.height }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        // Grid and ticks.
        svg += "<rect x=\"\(f(a.x))\" y=\"\(f(a.y))\" width=\"\(f(a.width))\" height=\"\(f(a.height))\" class=\"frame\"/>"
        for t in Self.ticks(xlo, xhi) {
            svg += "<line x1=\"\(f(px(t)))\" y1=\"\(f(a.y))\" x2=\"\(f(px(t)))\" y2=\"\(f(a.maxY))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(px(t)))\" y=\"\(f(a.maxY + 15))\" text-anchor=\"middle\">\(Self.label(t))</text>"
        }
        let yTicks = logY ? Self.logTicks(ty.inverse(ylo), ty.inverse(yhi)) : Self.ticks(ylo, yhi)
        for t in yTicks {
            svg += "<line x1=\"\(f(a.x))\" y1=\"\(f(py(t)))\" x2=\"\(f(a.maxX))\" y2=\"\(f(py(t)))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(a.x - 5))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>"
        }
        svg +=
            "<text x=\"\(f(a.x + a.width / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis-label\">\(escapeHTML(xLabel))</text>"
        svg +=
            "<text transform=\"translate(14 \(f(a.y + a.height / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(escapeHTML(yLabel))</text>"

        // Data, clipped to the plot area.
        let clip = "clip-" + String(title.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
        svg +=
            "<clipPath id=\"\(clip)\"><rect x=\"\(f(a.x))\" y=\"\(f(a.y))\" width=\"\(f(a.width))\" height=\"\(f(a.height))\"/></clipPath><g clip-path=\"url(#\(clip))\">"
        for s in series {
            let band = s.band.filter { $0.x.isFinite && ok($0.low) && ok($0.high) }
            if !band.isEmpty {
                let upper = band.map { "\(f(px($0.x))),\(f(py($0.high)))" }
                let lower = band.reversed().map { "\(f(px($0.x))),\(f(py($0.low)))" }
                svg +=
                    "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(s.color.css)\" fill-opacity=\"0.18\" stroke=\"none\"/>"
            }
            let points = s.points.filter { $0.x.isFinite && ok($0.y) }
            svg +=
                "<polyline points=\"\(points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color.css)\" stroke-width=\"1.6\"/>"
            if s.dots {
                for p in points {
                    svg +=
                        "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(s.color.css)\"><title>\(escapeHTML(s.name)) at \(Self.label(p.x)): \(Self.label(p.y))</title></circle>"
                }
            }
        }
        svg += "</g>"
        if let m = marker, m.x.isFinite {
            svg += "<line x1=\"\(f(px(m.x)))\" y1=\"\(f(a.y))\" x2=\"\(f(px(m.x)))\" y2=\"\(f(a.maxY))\" class=\"marker\"/>"
            svg += "<text x=\"\(f(px(m.x) + 4))\" y=\"\(f(a.y + 12))\" class=\"marker-label\">\(escapeHTML(m.label))</text>"
        }
        // Legend, top right.
        var lx = a.maxX
        for s in series.reversed() {
            let w = Double(s.name.count) * 7 + 22
            lx -= w
            svg +=
                "<rect x=\"\(f(lx))\" y=\"9\" width=\"12\" height=\"4\" fill=\"\(s.color.css)\"/><text x=\"\(f(lx + 16))\" y=\"15\">\(escapeHTML(s.name))</text>"
        }
        svg += "</svg>"
        return svg
    }

    private struct Transform { let forward: (Double) -> Double; let inverse: (Double) -> Double }
    private static func transform(logY: Bool) -> Transform {
        logY ? Transform(forward: { log10($0) }, inverse: { pow(10, $0) }) : Transform(forward: { $0 }, inverse: { $0 })
    }

    /// Round tick values (1, 2 or 5 × 10ⁿ apart), about five over [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, (hi - lo).isFinite else { return [lo] }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 && out.count < 20 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    /// Powers of ten (and 2× and 5× them when few decades are shown) within [lo, hi].
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        guard lo > 0, hi > lo else { return [] }
        let decades = Int(floor(log10(lo)))...Int(ceil(log10(hi)))
        let multiples: [Double] = decades.count <= 3 ? [1, 2, 5] : [1]
        return decades.flatMap { d in multiples.map { $0 * pow(10, Double(d)) } }.filter { $0 >= lo && $0 <= hi }
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        if a >= 1 { return String(format: "%.3g", v) }
        return String(format: "%.2g", v)
    }
}

import Foundation

/// A self-contained report page: one file, styles inline, pictures as inline
/// SVG or `data:` URIs, nothing fetched from the network. It is written as
/// well-formed XHTML-compatible HTML (every element closed, attributes quoted,
/// only XML's own entities), so any browser opens it and any XML parser reads it.
public struct HTMLDocument {
    /// The page's title, in its `<title>` and its heading.
    public var title: String
    var body = ""

    /// An empty page with the given title.
    public init(title: String) { self.title = title }

    /// Appends a section with an id (its anchor) and a heading.
    public mutating func section(id: String, heading: String, _ content: String) {
        body += "<section id=\"\(escapeHTML(id))\"><h2>\(escapeHTML(heading))</h2>\(content)</section>\n"
    }

    /// Appends markup as it is.
    public mutating func append(_ markup: String) { body += markup }

    /// The whole page: doctype, head with the styles, the title as heading, and the sections and markup appended.
    public func render() -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(escapeHTML(title))</title>
        <style>\(Self.style)</style></head>
        <body><h1>\(escapeHTML(title))</h1>
        \(body)</body></html>

        """
    }

    /// A table: a header row and rows of cells (already marked up).
    public static func table(header: [String], rows: [[String]], cssClass: String = "") -> String {
        var t = "<table class=\"\(cssClass)\"><thead><tr>" + header.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows { t += "<tr>" + r.map { "<td>\($0)</td>" }.joined() + "</tr>" }
        return t + "</tbody></table>"
    }

    /// A `data:` URI of bytes.
    public static func dataURI(_ bytes: [UInt8], type: String) -> String {
        "data:\(type);base64," + Data(bytes).base64EncodedString()
    }

    static let style = """
        body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h3{font-size:14px;margin:14px 0 4px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
        .meta{color:#555;font-size:13px}
        .charts{display:flex;flex-wrap:wrap;gap:12px}
        svg.chart{background:#fff;border:1px solid #eee;font-size:11px;font-family:inherit}
        svg.chart .chart-title{font-size:13px;font-weight:bold}svg.chart .axis-label{font-size:11px;fill:#444}
        svg.chart .frame{fill:none;stroke:#999}svg.chart .grid{stroke:#eee}
        svg.chart .marker{stroke:#d62728;stroke-dasharray:4 3}svg.chart .marker-label{fill:#d62728;font-size:11px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
        th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .big{font-size:20px;font-weight:bold}
        .utt{border:1px solid #e4e4e4;border-radius:6px;padding:10px 12px;margin:12px 0}
        .utt h3{font-size:14px;margin:0 0 6px;font-weight:normal}.utt img{max-width:100%;display:block;margin-top:6px}
        table.align{border:none;font-family:"DejaVu Sans Mono",monospace;font-size:13px}
        table.align td,table.align th{border:none;padding:1px 6px;text-align:center}
        table.align th{background:none;color:#777;font-weight:normal;text-align:right}
        .S{background:#ffe3b3}.D{background:#ffc9c9}.I{background:#c9e7ff}
        .legend span{padding:1px 6px;margin-right:8px}
        table.confusion td{text-align:right;min-width:20px;padding:2px 4px;font-variant-numeric:tabular-nums}
        table.confusion th{text-align:center;padding:2px 4px}
        """
}

/// Text escaped for HTML (and XML) content and attribute values. Characters
/// XML does not allow (control characters other than tab, line feed and
/// carriage return; U+FFFE, U+FFFF) become U+FFFD, so that a hostile file
/// name cannot make a report unreadable.
public func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(u)
        case "\u{0}"..."\u{1F}", "\u{7F}", "\u{FFFE}", "\u{FFFF}": out += "\u{FFFD}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

import CCairo
import Foundation

/// Pictures are drawn with cairo (Debian's libcairo2): one drawing code gives
/// both a PNG (pixels, for the HTML reports and quick looks) and an SVG
/// (vectors, for papers), with antialiased lines, real fonts through
/// fontconfig, and images (spectrograms) scaled by its filters. Hand-written
/// rasterisation would give none of that.

/// An RGB colour, components in 0…1.
public struct Color: Equatable, Sendable {
    /// The red, green and blue components, each in 0…1.
    public var r: Double, g: Double, b: Double

    /// A colour of the given components, each in 0…1.
    public init(_ r: Double, _ g: Double, _ b: Double) {
        self.r = r; self.g = g; self.b = b
    }

    /// From 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255)
    }

    /// "#rrggbb" for HTML and SVG.
    public var css: String {
        String(format: "#%02x%02x%02x", Int((r * 255).rounded()), Int((g * 255).rounded()), Int((b * 255).rounded()))
    }

    /// Black.
    public static let black = Color(0, 0, 0)
    /// White.
    public static let white = Color(1, 1, 1)
    /// Axes, ticks and labels.
    public static let ink = Color(hex: 0x333333)
    /// Grid lines and panel frames.
    public static let grid = Color(hex: 0xDDDDDD)
    /// The waveform.
    public static let wave = Color(hex: 0x1F77B4)
    /// Word boundaries and the decoded path.
    public static let accent = Color(hex: 0xFF5A36)
}

/// The file a picture is written as.
public enum PictureFormat: String, CaseIterable, Sendable {
    case png, svg

    /// The format a file name's extension asks for (`.png` or `.svg`, any case).
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }
}

/// A picture that cannot be drawn, encoded or decoded; the description says why.
public struct PlotError: Error, CustomStringConvertible {
    /// What went wrong, in words.
    public let description: String
    /// An error with the given description.
    public init(_ description: String) { self.description = description }
}

/// A rectangle in points, y down (cairo's and SVG's convention).
public struct Rect: Equatable, Sendable {
    /// The top-left corner and the size, in points.
    public var x: Double, y: Double, width: Double, height: Double
    /// A rectangle of the given corner and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    /// The right edge, x + width.
    public var maxX: Double { x + width }
    /// The bottom edge, y + height.
    public var maxY: Double { y + height }
}

/// Bytes written by cairo's stream callbacks.
private final class ByteSink {
    var bytes: [UInt8] = []
}

private let appendToSink: cairo_write_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().bytes.append(
        contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

/// A cairo surface and its drawing context: `width` × `height` points (one
/// point is one pixel in a PNG). `encoded()` finishes the picture and returns
/// the file's bytes.
final class Canvas {
    let width: Int, height: Int
    let format: PictureFormat
    private let surface: OpaquePointer
    let cr: OpaquePointer
    private let sink = ByteSink()

    /// Larger pictures are refused: a PNG of this many pixels is already 64 MB in memory.
    static let maxPixels = 16_000_000

    init(width: Int, height: Int, format: PictureFormat) throws {
        guard width > 0, height > 0, width * height <= Canvas.maxPixels else {
            throw PlotError("a picture of \(width)×\(height) points is outside 1…\(Canvas.maxPixels) pixels")
        }
        self.width = width
        self.height = height
        self.format = format
        switch format {
        case .png:
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        case .svg:
            surface = cairo_svg_surface_create_for_stream(
                appendToSink, Unmanaged.passUnretained(sink).toOpaque(),
                Double(width), Double(height))
        }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            let message = String(cString: cairo_status_to_string(cairo_surface_status(surface)))
            cairo_surface_destroy(surface)
            throw PlotError("cairo could not create the picture: \(message)")
        }
        cr = cairo_create(surface)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fill(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// The picture's file: PNG or SVG bytes. Call once, after drawing.
    func encoded() throws -> [UInt8] {
        cairo_surface_flush(surface)
        switch format {
        case .png:
            let status = cairo_surface_write_to_png_stream(surface, appendToSink, Unmanaged.passUnretained(sink).toOpaque())
            guard status == CAIRO_STATUS_SUCCESS else {
                throw PlotError("cairo could not encode the PNG: \(String(cString: cairo_status_to_string(status)))")
            }
        case .svg:
            cairo_surface_finish(surface)
        }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw PlotError("cairo: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        return sink.bytes
    }

    // MARK: Drawing

    func setColor(_ c: Color, alpha: Double = 1) {
        cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha)
    }

    func fill(_ r: Rect, _ c: Color, alpha: Double = 1) {
        setColor(c, alpha: alpha)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    func stroke(_ r: Rect, _ c: Color, width: Double = 1) {
        setColor(c)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: Color, width: Double = 1, dash: Double? = nil) {
        setColor(c)
        cairo_set_line_width(cr, width)
        if let dash {
            var pattern = [dash, dash]
            cairo_set_dash(cr, &pattern, 2, 0)
        }
        cairo_move_to(cr, x0, y0)
        cairo_line_to(cr, x1, y1)
        cairo_stroke(cr)
        if dash != nil { cairo_set_dash(cr, nil, 0, 0) }
    }

    enum Anchor { case start, middle, end }

    /// Text with its baseline at `y`, anchored at `x`; rotated a quarter turn counter-clockwise when `vertical`.
    func text(
        _ s: String, x: Double, y: Double, size: Double = 12, color: Color = .ink, anchor: Anchor = .start,
        bold: Bool = false, vertical: Bool = false
    ) {
        cairo_save(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, s, &extents)
        let shift: Double
        switch anchor {
        case .start: shift = 0
        case .middle: shift = extents.x_advance / 2
        case .end: shift = extents.x_advance
        }
        cairo_translate(cr, x, y)
        if vertical { cairo_rotate(cr, -Double.pi / 2) }
        cairo_move_to(cr, -shift, 0)
        setColor(color)
        cairo_show_text(cr, s)
        cairo_restore(cr)
    }

    /// The advance width of `s` at `size`.
    func textWidth(_ s: String, size: Double = 12) -> Double {
        cairo_save(cr)
        cairo_set_font_size(cr, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, s, &extents)
        cairo_restore(cr)
        return extents.x_advance
    }

    /// Draws `pixels` (row-major, `columns` × `rows`, row 0 at the top) scaled to fill `rect`,
    /// each pixel a sharp-edged block.
    func image(_ pixels: [Color], columns: Int, rows: Int, in rect: Rect) {
        guard columns > 0, rows > 0, pixels.count == columns * rows else { return }
        let image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(columns), Int32(rows))
        defer { cairo_surface_destroy(image) }
        guard cairo_surface_status(image) == CAIRO_STATUS_SUCCESS, let base = cairo_image_surface_get_data(image) else { return }
        let stride = Int(cairo_image_surface_get_stride(image))
        for y in 0..<rows {
            let row = UnsafeMutableRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<columns {
                let c = pixels[y * columns + x]
                row[x] = UInt32((c.r * 255).rounded()) << 16 | UInt32((c.g * 255).rounded()) << 8 | UInt32((c.b * 255).rounded())
            }
        }
        cairo_surface_mark_dirty(image)
        cairo_save(cr)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(cr)
        cairo_translate(cr, rect.x, rect.y)
        cairo_scale(cr, rect.width / Double(columns), rect.height / Double(rows))
        cairo_set_source_surface(cr, image, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_paint(cr)
        cairo_restore(cr)
    }

    /// Restricts drawing to `rect` until `unclip()`.
    func clip(_ rect: Rect) {
        cairo_save(cr)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(cr)
    }

    func unclip() { cairo_restore(cr) }
}

/// A decoded PNG: what a picture looks like, pixel by pixel (for checks).
public struct RasterImage {
    /// The image's size in pixels.
    public let width: Int, height: Int
    /// Row-major 0xRRGGBB.
    public let pixels: [UInt32]

    /// Decodes a PNG with cairo.
    public init(png bytes: [UInt8]) throws {
        final class Source { var bytes: [UInt8]; var position = 0; init(_ b: [UInt8]) { bytes = b } }
        let source = Source(bytes)
        let read: cairo_read_func_t = { closure, data, length in
            guard let closure, let data else { return CAIRO_STATUS_READ_ERROR }
            let s = Unmanaged<Source>.fromOpaque(closure).takeUnretainedValue()
            let n = Int(length)
            guard s.position + n <= s.bytes.count else { return CAIRO_STATUS_READ_ERROR }
            s.bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress! + s.position, count: n) }
            s.position += n
            return CAIRO_STATUS_SUCCESS
        }
        let surface = cairo_image_surface_create_from_png_stream(read, Unmanaged.passUnretained(source).toOpaque())
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let base = cairo_image_surface_get_data(surface) else {
            throw PlotError("not a PNG cairo can read: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt32](repeating: 0, count: width * height)
        for y in 0..<height {
            let row = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width { pixels[y * width + x] = row[x] & 0xFF_FFFF }
        }
        self.pixels = pixels
    }

    /// The colour of the pixel at column `x`, row `y` (from the top left).
    public func pixel(_ x: Int, _ y: Int) -> Color {
        let p = pixels[y * width + x]
        return Color(hex: p)
    }
}

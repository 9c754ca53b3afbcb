/// Colour scales for heat maps: a value in 0…1 to a colour whose lightness
/// grows with the value, so brighter always means more.
public struct Colormap: Sendable {
    /// Evenly spaced stops, interpolated linearly in RGB.
    public let stops: [Color]

    /// Matplotlib's viridis (perceptually uniform, readable in grey and by
    /// most colour-blind readers), sampled at 0, 0.1, …, 1.
    public static let viridis = Colormap(
        stops: [
            0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C,
            0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725
        ].map { Color(hex: $0) })

    /// White to dark blue: probabilities, where the decoded path is drawn on top in orange.
    public static let blues = Colormap(stops: [0xFFFFFF, 0xC6DBEF, 0x6BAED6, 0x2171B5, 0x08306B].map { Color(hex: $0) })

    /// The colour of `value`, clamped to 0…1 (NaN as 0), interpolated between the two nearest stops.
    public func color(_ value: Double) -> Color {
        let v = value.isNaN ? 0 : min(max(value, 0), 1)
        let position = v * Double(stops.count - 1)
        let i = min(Int(position), stops.count - 2)
        let f = position - Double(i)
        let a = stops[i], b = stops[i + 1]
        return Color(a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f)
    }
}

import Foundation

/// The taper applied to each frame before the FFT.
public enum WindowType: String, Codable, CaseIterable, Sendable {
    case povey, hamming, hanning, rectangular, blackman

    /// The window of `length` samples, computed in double precision as Kaldi's
    /// `FeatureWindowFunction` does, with a = 2π / (length − 1):
    /// - hanning: 0.5 − 0.5 cos(a·i)
    /// - hamming: 0.54 − 0.46 cos(a·i)
    /// - povey: (0.5 − 0.5 cos(a·i))^0.85 (a Hann window that does not reach zero as fast)
    /// - rectangular: 1
    /// - blackman: c − 0.5 cos(a·i) + (0.5 − c) cos(2a·i), c = `blackmanCoeff`
    public func coefficients(length: Int, blackmanCoeff: Double = 0.42) -> [Float] {
        let a = 2 * Double.pi / Double(length - 1)
        return (0..<length).map { i in
            let x = Double(i)
            switch self {
            case .hanning: return Float(0.5 - 0.5 * cos(a * x))
            case .hamming: return Float(0.54 - 0.46 * cos(a * x))
            case .povey: return Float(pow(0.5 - 0.5 * cos(a * x), 0.85))
            case .rectangular: return 1
            case .blackman:
                return Float(blackmanCoeff - 0.5 * cos(a * x) + (0.5 - blackmanCoeff) * cos(2 * a * x))
            }
        }
    }
}

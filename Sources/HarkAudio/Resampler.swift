import CSamplerate

/// Sample-rate conversion with libsamplerate's band-limited sinc interpolator.
public enum Resampler {
    /// libsamplerate's converters, best first.
    public enum Quality: String, Sendable, CaseIterable {
        case best, medium, fastest

        var converter: Int32 {
            switch self {
            case .best: return Int32(SRC_SINC_BEST_QUALITY)
            case .medium: return Int32(SRC_SINC_MEDIUM_QUALITY)
            case .fastest: return Int32(SRC_SINC_FASTEST)
            }
        }
    }

    /// Resamples `input` (mono) from `from` Hz to `to` Hz.
    /// The output has `round(input.count · to / from)` samples.
    public static func resample(
        _ input: [Float], from: Int, to: Int,
        quality: Quality = .best
    ) throws -> [Float] {
        precondition(from > 0 && to > 0, "sample rates must be positive")
        if from == to || input.isEmpty { return input }
        let ratio = Double(to) / Double(from)
        let expected = Int((Double(input.count) * ratio).rounded())
        var output = [Float](repeating: 0, count: expected + 64)
        var produced = 0
        let status: Int32 = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                var data = SRC_DATA()
                data.data_in = inp.baseAddress
                data.data_out = out.baseAddress
                data.input_frames = Int(inp.count)
                data.output_frames = Int(out.count)
                data.src_ratio = ratio
                data.end_of_input = 1
                let r = src_simple(&data, quality.converter, 1)
                produced = Int(data.output_frames_gen)
                return r
            }
        }
        guard status == 0 else {
            throw AudioError(.resampling, "", String(cString: src_strerror(status)))
        }
        output.removeSubrange(min(produced, expected)...)
        return output
    }
}

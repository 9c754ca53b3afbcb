import CSamplerate
import CSoxr

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

/// Sample-rate conversion with SoX's resampler (libsoxr, its high-quality
/// setting: a linear-phase band-limited filter, 20-bit precision), on the
/// calling thread.
///
/// Training makes many resampled copies (speed perturbation, telephone band),
/// so it uses this: the resampler of the `sox speed` that Kaldi's recipes make
/// their speed-perturbed copies with, and 5–6× faster than libsamplerate's
/// fastest sinc converter on speech (48,000 samples: 1.3–1.5 ms against
/// 7–8 ms) at a higher quality. Audio Hark reads is resampled by `Resampler`.
public enum SoxResampler {
    /// Resamples `input` (mono) from `from` Hz to `to` Hz.
    /// The output has `round(input.count · to / from)` samples.
    public static func resample(_ input: [Float], from: Int, to: Int) throws -> [Float] {
        precondition(from > 0 && to > 0, "sample rates must be positive")
        if from == to || input.isEmpty { return input }
        let expected = Int((Double(input.count) * Double(to) / Double(from)).rounded())
        guard expected > 0 else { return [] }
        var output = [Float](repeating: 0, count: expected)
        var produced = 0
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var runtime = soxr_runtime_spec(1)
        let error = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                soxr_oneshot(
                    Double(from), Double(to), 1, inp.baseAddress, inp.count, nil,
                    out.baseAddress, out.count, &produced, &io, &quality, &runtime)
            }
        }
        if let error { throw AudioError(.resampling, "", String(cString: error)) }
        // soxr flushes its filter at the end of the input, so `produced` is `expected`.
        output.removeSubrange(produced...)
        return output
    }
}

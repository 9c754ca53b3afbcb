import CSamplerate

/// Sample-rate conversion of a stream, block by block, with libsamplerate's
/// `src_process` (the converter keeps its filter state between blocks).
///
/// The total output is `round(N · to / from)` samples for N input samples,
/// as `Resampler.resample` gives for the whole signal at once.
public final class ResamplerStream {
    private let state: OpaquePointer
    let ratio: Double
    private var consumed = 0
    private var produced = 0
    private var output: [Float]

    /// A converter from `from` Hz to `to` Hz; throws for a rate outside `AudioLimits`' range.
    public init(from: Int, to: Int, quality: Resampler.Quality = .best) throws {
        for rate in [from, to] where rate < AudioLimits.minSampleRate || rate > AudioLimits.maxSampleRate {
            throw AudioError(.badSampleRate, "", "\(rate) Hz; Hark accepts \(AudioLimits.minSampleRate) to \(AudioLimits.maxSampleRate) Hz")
        }
        var error: Int32 = 0
        guard let state = src_new(quality.converter, 1, &error) else {
            throw AudioError(.resampling, "", String(cString: src_strerror(error)))
        }
        self.state = state
        ratio = Double(to) / Double(from)
        output = [Float](repeating: 0, count: 4096)
    }

    deinit { src_delete(state) }

    /// Converts `input`; with `end`, flushes the converter and trims the
    /// output to its exact length.
    public func process(_ input: [Float], end: Bool) throws -> [Float] {
        let count = input.count
        // libsamplerate wants a valid pointer even for zero frames.
        let data = count == 0 ? [Float](repeating: 0, count: 1) : input
        var result: [Float] = []
        var offset = 0
        consumed += count
        let expected = Int((Double(consumed) * ratio).rounded())
        while true {
            // A bounded scratch buffer: libsamplerate takes what fits and the loop goes on.
            let want = min(1 << 20, max(4096, Int(Double(count - offset) * ratio) + 64))
            if output.count < want { output = [Float](repeating: 0, count: want) }
            var used = 0, generated = 0
            let status: Int32 = data.withUnsafeBufferPointer { inp in
                output.withUnsafeMutableBufferPointer { out in
                    var d = SRC_DATA()
                    d.data_in = inp.baseAddress.map { $0 + offset }
                    d.input_frames = count - offset
                    d.data_out = out.baseAddress
                    d.output_frames = out.count
                    d.src_ratio = ratio
                    d.end_of_input = end ? 1 : 0
                    let r = src_process(state, &d)
                    used = Int(d.input_frames_used)
                    generated = Int(d.output_frames_gen)
                    return r
                }
            }
            guard status == 0 else {
                throw AudioError(.resampling, "", String(cString: src_strerror(status)))
            }
            offset += used
            let keep = end ? min(generated, max(0, expected - produced)) : generated
            result.append(contentsOf: output[0..<keep])
            produced += keep
            if offset >= count && (generated == 0 || (end && produced >= expected)) { break }
        }
        return result
    }
}

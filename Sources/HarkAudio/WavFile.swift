/// A 16-bit PCM WAV file of mono samples in [-1, 1] (rounded, clipped at
/// full scale): clips cut by `hark align`, the audio players of the reports.
public func wavFile(samples: [Float], sampleRate: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(44 + 2 * samples.count)
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
    func u16(_ v: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
    out.append(contentsOf: Array("RIFF".utf8)); u32(36 + 2 * samples.count); out.append(contentsOf: Array("WAVE".utf8))
    out.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(sampleRate); u32(2 * sampleRate); u16(2); u16(16)
    out.append(contentsOf: Array("data".utf8)); u32(2 * samples.count)
    for s in samples {
        let v = Int16(max(-32768, min(32767, (Double(s) * 32768).rounded())))
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
    return out
}

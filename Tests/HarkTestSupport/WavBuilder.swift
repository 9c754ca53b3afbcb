import Foundation

/// Builds RIFF/WAVE files byte by byte, including broken ones, for tests.
public enum WavBuilder {
    /// A PCM (format 1) or IEEE-float (format 3) WAV.
    ///
    /// - Parameters:
    ///   - payload: the bytes of the data chunk.
    ///   - declaredDataBytes: the size written in the data chunk header
    ///     (defaults to the payload's real size; larger means "truncated").
    public static func wav(
        payload: [UInt8], channels: Int = 1, sampleRate: Int = 16_000,
        bitsPerSample: Int = 16, format: Int = 1, declaredDataBytes: Int? = nil
    ) -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: Int) { b += withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { Array($0) } }
        func u16(_ v: Int) { b += withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { Array($0) } }
        let declared = declaredDataBytes ?? payload.count
        b += Array("RIFF".utf8); u32(36 + declared); b += Array("WAVE".utf8)
        b += Array("fmt ".utf8); u32(16)
        u16(format); u16(channels); u32(sampleRate)
        let blockAlign = channels * bitsPerSample / 8
        u32(sampleRate * blockAlign); u16(blockAlign); u16(bitsPerSample)
        b += Array("data".utf8); u32(declared)
        b += payload
        return b
    }

    /// 16-bit PCM samples.
    public static func pcm16(
        _ samples: [Int16], channels: Int = 1, sampleRate: Int = 16_000,
        declaredDataBytes: Int? = nil
    ) -> [UInt8] {
        let payload = samples.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } }
        return wav(payload: payload, channels: channels, sampleRate: sampleRate, declaredDataBytes: declaredDataBytes)
    }

    /// 32-bit float samples.
    public static func float32(_ samples: [Float], sampleRate: Int = 16_000) -> [UInt8] {
        let payload = samples.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
        return wav(payload: payload, sampleRate: sampleRate, bitsPerSample: 32, format: 3)
    }

    /// A 440 Hz tone of `count` samples at `sampleRate`, amplitude 0.5.
    public static func tone(count: Int, sampleRate: Int = 16_000) -> [Int16] {
        (0..<count).map { Int16(16_384 * sin(2 * Double.pi * 440 * Double($0) / Double(sampleRate))) }
    }
}

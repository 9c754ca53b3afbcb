import Foundation

/// Builds 16-bit PCM files in the other containers libsndfile reads (AIFF,
/// Sun AU, Sony Wave64, NIST SPHERE) byte by byte, from each format's
/// specification, so that tests can cut them short.
enum ContainerBuilder {
    static func be16(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).bigEndian) { Array($0) } }
    static func be32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).bigEndian) { Array($0) } }
    static func le16(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { Array($0) } }
    static func le32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { Array($0) } }
    static func le64(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt64(truncatingIfNeeded: v).littleEndian) { Array($0) } }

    /// AIFF: FORM/AIFF with COMM (channels, frames, bits, 80-bit rate) and SSND (offset, block size, big-endian data).
    static func aiff(_ samples: [Int16], sampleRate: Int = 16_000) -> [UInt8] {
        let data = samples.flatMap { be16(Int($0)) }
        // 80-bit extended: sign and 15-bit exponent (bias 16383), then a 64-bit mantissa with an explicit leading 1.
        let exponent = 16_383 + (63 - UInt64(sampleRate).leadingZeroBitCount)
        let mantissa = UInt64(sampleRate) << UInt64(sampleRate).leadingZeroBitCount
        let rate = be16(exponent) + withUnsafeBytes(of: mantissa.bigEndian) { Array($0) }
        let comm = Array("COMM".utf8) + be32(18) + be16(1) + be32(samples.count) + be16(16) + rate
        let ssnd = Array("SSND".utf8) + be32(8 + data.count) + be32(0) + be32(0) + data
        return Array("FORM".utf8) + be32(4 + comm.count + ssnd.count) + Array("AIFF".utf8) + comm + ssnd
    }

    /// Sun/NeXT AU: ".snd", data offset 24, data size, encoding 3 (16-bit linear), rate, channels; big-endian data.
    static func au(_ samples: [Int16], sampleRate: Int = 16_000) -> [UInt8] {
        let data = samples.flatMap { be16(Int($0)) }
        return Array(".snd".utf8) + be32(24) + be32(data.count) + be32(3) + be32(sampleRate) + be32(1) + data
    }

    static let w64Guid: [UInt8] = [0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]

    /// Sony Wave64: GUID-named chunks with 64-bit sizes that count their 24-byte headers.
    static func w64(_ samples: [Int16], sampleRate: Int = 16_000) -> [UInt8] {
        let data = samples.flatMap { le16(Int($0)) }
        let riff: [UInt8] = [0x72, 0x69, 0x66, 0x66, 0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00]
        let fmtBody = le16(1) + le16(1) + le32(sampleRate) + le32(sampleRate * 2) + le16(2) + le16(16)
        let fmt = Array("fmt ".utf8) + w64Guid + le64(24 + fmtBody.count) + fmtBody
        let dataChunk = Array("data".utf8) + w64Guid + le64(24 + data.count) + data
        let body = Array("wave".utf8) + w64Guid + fmt + dataChunk
        return riff + le64(24 + body.count) + body
    }

    /// NIST SPHERE: a 1024-byte text header, then little-endian PCM.
    static func nist(_ samples: [Int16], sampleRate: Int = 16_000) -> [UInt8] {
        let fields =
            "NIST_1A\n   1024\nchannel_count -i 1\nsample_count -i \(samples.count)\nsample_rate -i \(sampleRate)\n"
            + "sample_n_bytes -i 2\nsample_byte_format -s2 01\nsample_sig_bits -i 16\nsample_coding -s3 pcm\nend_head\n"
        var header = Array(fields.utf8)
        header += [UInt8](repeating: 0x20, count: 1024 - header.count)
        return header + samples.flatMap { le16(Int($0)) }
    }
}

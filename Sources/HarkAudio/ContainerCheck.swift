/// Checks the declared audio size of AIFF/AIFC, Sony Wave64, Sun/NeXT AU and
/// NIST SPHERE headers against the file's real size before libsndfile sees
/// them (RIFF WAV has `RiffCheck`; FLAC's frame count is checked after decoding).
///
/// libsndfile quietly shortens these containers when the file holds less than
/// the header declares; a cut recording must be an error, not a shorter
/// utterance.
enum ContainerCheck {
    /// - Parameters:
    ///   - head: the first bytes of the file (64 KiB holds every header seen in practice).
    ///   - fileSize: the whole file's size in bytes.
    static func check(head: [UInt8], fileSize: Int, displayName: String) throws {
        try RiffCheck.check(head: head, fileSize: fileSize, displayName: displayName)
        guard head.count >= 12 else { return }
        let missing: (declared: Int, available: Int)?
        if ascii(head, 0, 4) == "FORM" && ["AIFF", "AIFC"].contains(ascii(head, 8, 4)) {
            missing = aiff(head, fileSize)
        } else if ascii(head, 0, 4) == ".snd" || ascii(head, 0, 4) == "dns." {
            missing = au(head, fileSize, bigEndian: head[0] == 0x2E)
        } else if head.count >= 40 && Array(head[0..<16]) == w64Riff && Array(head[24..<40]) == w64Wave {
            missing = w64(head, fileSize)
        } else if ascii(head, 0, 8) == "NIST_1A\n" {
            missing = nist(head, fileSize)
        } else {
            missing = nil
        }
        if let (declared, available) = missing, declared > available {
            throw AudioError(
                .truncated, displayName,
                "the header declares \(declared) bytes of audio data but only \(max(0, available)) follow it")
        }
    }

    /// AIFF: big-endian chunks; `SSND` = offset(4) blockSize(4) data, its size counting both fields.
    private static func aiff(_ h: [UInt8], _ fileSize: Int) -> (Int, Int)? {
        var offset = 12
        while offset + 8 <= h.count {
            let size = Int(be32(h, offset + 4))
            let body = offset + 8
            if ascii(h, offset, 4) == "SSND" {
                guard size >= 8, size != 0xFFFF_FFFF else { return nil }
                return (size - 8, fileSize - body - 8)
            }
            offset = body + size + (size & 1)
        }
        return nil
    }

    /// AU: ".snd", data offset, data size (0xFFFFFFFF: unknown), all 32-bit; "dns." is the little-endian variant.
    private static func au(_ h: [UInt8], _ fileSize: Int, bigEndian: Bool) -> (Int, Int)? {
        let offset = Int(bigEndian ? be32(h, 4) : le32(h, 4))
        let size = bigEndian ? be32(h, 8) : le32(h, 8)
        guard size != 0xFFFF_FFFF, offset >= 24 else { return nil }
        return (Int(size), fileSize - offset)
    }

    /// Wave64: 16-byte GUIDs and 64-bit little-endian sizes that count the 24-byte chunk header; chunks 8-byte aligned.
    private static func w64(_ h: [UInt8], _ fileSize: Int) -> (Int, Int)? {
        var offset = 40
        while offset + 24 <= h.count {
            let size = le64(h, offset + 16)
            guard size >= 24, size < UInt64(Int.max / 2) else { return nil }
            if Array(h[offset..<(offset + 16)]) == w64Data {
                return (Int(size) - 24, fileSize - offset - 24)
            }
            offset += (Int(size) + 7) & ~7
        }
        return nil
    }

    /// NIST SPHERE: "NIST_1A\n", the header size, then `name -type value` lines up to `end_head`.
    /// Only uncompressed codings are checked (shorten and the like have no fixed size).
    private static func nist(_ h: [UInt8], _ fileSize: Int) -> (Int, Int)? {
        let text = String(decoding: h.prefix(min(h.count, 4096)), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 2, let headerSize = Int(lines[1].trimmingCharacters(in: .whitespaces)) else { return nil }
        var fields: [String: String] = [:]
        for line in lines.dropFirst(2) {
            if line.hasPrefix("end_head") { break }
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { fields[String(parts[0])] = String(parts[2]) }
        }
        let coding = fields["sample_coding"] ?? "pcm"
        guard coding == "pcm" || coding == "ulaw" || coding == "alaw" || coding == "mu-law",
            let count = fields["sample_count"].flatMap({ Int($0) }),
            let bytes = fields["sample_n_bytes"].flatMap({ Int($0) })
        else { return nil }
        let channels = fields["channel_count"].flatMap { Int($0) } ?? 1
        guard count > 0, bytes > 0, channels > 0, count < Int(Int32.max), bytes <= 8, channels <= 1024 else { return nil }
        return (count * bytes * channels, fileSize - headerSize)
    }

    static let w64Riff: [UInt8] = [0x72, 0x69, 0x66, 0x66, 0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00]
    static let w64Wave: [UInt8] = [0x77, 0x61, 0x76, 0x65, 0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]
    static let w64Data: [UInt8] = [0x64, 0x61, 0x74, 0x61, 0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]

    private static func ascii(_ b: [UInt8], _ at: Int, _ n: Int) -> String {
        String(decoding: b[at..<(at + n)], as: UTF8.self)
    }
    private static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        guard at + 4 <= b.count else { return 0xFFFF_FFFF }
        return UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
    private static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
        guard at + 4 <= b.count else { return 0xFFFF_FFFF }
        return UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
    private static func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
        guard at + 8 <= b.count else { return 0 }
        return UInt64(le32(b, at)) | UInt64(le32(b, at + 4)) << 32
    }
}

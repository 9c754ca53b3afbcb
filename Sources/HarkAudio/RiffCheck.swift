/// Checks a RIFF/WAVE header against the file's real size before libsndfile
/// sees it.
///
/// libsndfile quietly shortens a WAV whose `data` chunk claims more bytes than
/// the file holds, and its messages for a zero channel count or sample rate are
/// generic. Hark reports these precisely instead: a truncated recording is an
/// error the user should hear about, not a silently shorter utterance.
enum RiffCheck {
    /// Size fields that streaming writers use for "unknown length".
    static let unknownSizes: Set<UInt32> = [0, 0xFFFF_FFFF, 0x7FFF_FFFF]

    /// - Parameters:
    ///   - head: the first bytes of the file (at least the header; 64 KiB is plenty).
    ///   - fileSize: the whole file's size in bytes.
    static func check(head: [UInt8], fileSize: Int, displayName: String) throws {
        guard head.count >= 12, tag(head, 0) == "RIFF", tag(head, 8) == "WAVE" else { return }
        var offset = 12
        var sawFormat = false
        while offset + 8 <= head.count {
            let id = tag(head, offset)
            let size = u32(head, offset + 4)
            let body = offset + 8
            if id == "fmt " {
                guard body + 16 <= head.count else { return }
                sawFormat = true
                let channels = Int(u16(head, body + 2))
                let rate = u32(head, body + 4)
                let bits = Int(u16(head, body + 14))
                if channels == 0 {
                    throw AudioError(.badHeader, displayName, "the header claims 0 channels")
                }
                if rate == 0 {
                    throw AudioError(.badHeader, displayName, "the header claims a sample rate of 0 Hz")
                }
                if bits == 0 && u16(head, body) == 1 {
                    throw AudioError(.badHeader, displayName, "the header claims 0 bits per sample")
                }
            } else if id == "data" {
                let available = fileSize - body
                if sawFormat && !unknownSizes.contains(size) && Int(size) > available {
                    throw AudioError(
                        .truncated, displayName,
                        "the header declares \(size) bytes of audio data but only \(max(0, available)) follow it")
                }
                return
            }
            guard size < UInt32(Int32.max) else { return }
            offset = body + Int(size) + Int(size & 1)
        }
    }

    private static func tag(_ b: [UInt8], _ at: Int) -> String {
        String(decoding: b[at..<(at + 4)], as: UTF8.self)
    }

    private static func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
        UInt16(b[at]) | UInt16(b[at + 1]) << 8
    }

    private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
}

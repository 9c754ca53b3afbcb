import CSndfile
import Foundation

/// Which channel(s) of a multi-channel recording become the mono signal.
public enum ChannelSelection: Sendable, Equatable {
    /// The mean of all channels.
    case average
    /// One channel, 0-based.
    case channel(Int)
}

/// Decoded mono audio at the file's own sample rate.
public struct DecodedAudio: Sendable {
    public var waveform: Waveform
    /// Channels in the file before mixing.
    public var channels: Int
    /// libsndfile's name of the container and encoding, e.g. "WAV (Microsoft) / Signed 16 bit PCM".
    public var formatName: String
}

/// The only place Hark talks to libsndfile.
///
/// Reads in fixed-size chunks, so no allocation is ever sized by a header
/// field alone: a header that claims more data than the file holds yields a
/// `truncated` error, not a huge buffer.
enum SoundFile {
    /// Largest channel count accepted; libsndfile's own limit is 1024.
    static let maxChannels = 1024

    static func decode(path: String, displayName: String,
                       channel: ChannelSelection) throws -> DecodedAudio {
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            throw openError(displayName)
        }
        defer { sf_close(handle) }
        return try read(handle, info: info, displayName: displayName, channel: channel)
    }

    static func decode(bytes: [UInt8], displayName: String,
                       channel: ChannelSelection) throws -> DecodedAudio {
        let source = MemorySource(bytes: bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemorySource.from(user).length },
            seek: { offset, whence, user in MemorySource.from(user).seek(offset, whence) },
            read: { ptr, count, user in MemorySource.from(user).read(into: ptr, count: count) },
            write: { _, _, _ in 0 },
            tell: { user in MemorySource.from(user).position })
        var info = SF_INFO()
        let user = Unmanaged.passUnretained(source).toOpaque()
        let handle = withExtendedLifetime(source) { sf_open_virtual(&io, Int32(SFM_READ), &info, user) }
        guard let handle else { throw openError(displayName) }
        defer { sf_close(handle); withExtendedLifetime(source) {} }
        return try read(handle, info: info, displayName: displayName, channel: channel)
    }

    private static func openError(_ name: String) -> AudioError {
        let message = String(cString: sf_strerror(nil))
        return AudioError(.unrecognized, name, "libsndfile says \"\(message.trimmingCharacters(in: .whitespacesAndNewlines))\"")
    }

    private static func read(_ handle: OpaquePointer, info: SF_INFO, displayName: String,
                             channel: ChannelSelection) throws -> DecodedAudio {
        let channels = Int(info.channels)
        guard channels > 0 else {
            throw AudioError(.badHeader, displayName, "the header claims \(channels) channels")
        }
        guard channels <= maxChannels else {
            throw AudioError(.badHeader, displayName, "the header claims \(channels) channels (at most \(maxChannels) are supported)")
        }
        guard info.samplerate > 0 else {
            throw AudioError(.badHeader, displayName, "the header claims a sample rate of \(info.samplerate) Hz")
        }
        var pick = -1
        if case .channel(let c) = channel {
            guard c >= 0 && c < channels else {
                throw AudioError(.badChannel, displayName,
                                 "channel \(c) requested but the file has \(channels) (0 to \(channels - 1))")
            }
            pick = c
        }

        let chunkFrames = max(256, 65_536 / channels)
        var buffer = [Float](repeating: 0, count: chunkFrames * channels)
        var mono: [Float] = []
        let declared = Int64(info.frames)
        if declared > 0 && declared < Int64(1 << 22) { mono.reserveCapacity(Int(declared)) }
        let scale = 1 / Float(channels)
        var badFrame = -1
        while true {
            let got = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(chunkFrames)) }
            if got <= 0 { break }
            let n = Int(got)
            let chunkStart = mono.count
            if channels == 1 {
                mono.append(contentsOf: buffer[0..<n])
            } else {
                buffer.withUnsafeBufferPointer { b in
                    for f in 0..<n {
                        let frame = b.baseAddress! + f * channels
                        if pick >= 0 {
                            mono.append(frame[pick])
                        } else {
                            var s: Float = 0
                            for c in 0..<channels { s += frame[c] }
                            mono.append(s * scale)
                        }
                    }
                }
            }
            if badFrame < 0 {
                // A NaN or infinity in a channel used makes the mono sample non-finite too;
                // x · 0 is 0 for every finite x and NaN otherwise.
                var finite = true
                mono.withUnsafeBufferPointer { m in
                    var acc: Float = 0
                    for i in chunkStart..<m.count { acc += m[i] * 0 }
                    finite = acc == 0
                }
                if !finite { badFrame = mono[chunkStart...].firstIndex { !$0.isFinite }! }
            }
        }
        let status = sf_error(handle)
        if status != 0 {
            let message = String(cString: sf_strerror(handle))
            throw AudioError(.unreadable, displayName, "decoding stopped after \(mono.count) frames: libsndfile says \"\(message)\"")
        }
        if badFrame >= 0 {
            throw AudioError(.nonFinite, displayName,
                             "NaN or infinity at frame \(badFrame) (\(String(format: "%.3f", Double(badFrame) / Double(info.samplerate))) s)")
        }
        if declared > 0 && declared != Int64(Int64.max) && Int64(mono.count) < declared {
            throw AudioError(.truncated, displayName,
                             "the header declares \(declared) frames but only \(mono.count) could be decoded")
        }
        if mono.isEmpty {
            throw AudioError(.noSamples, displayName, "the file has a valid header but no audio data")
        }
        return DecodedAudio(waveform: Waveform(samples: mono, sampleRate: Int(info.samplerate)),
                            channels: channels, formatName: formatName(info.format))
    }

    /// libsndfile's description of a major format and subtype.
    static func formatName(_ format: Int32) -> String {
        func describe(_ value: Int32, _ command: Int32) -> String {
            var fi = SF_FORMAT_INFO()
            fi.format = value
            guard sf_command(nil, command, &fi, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
                  let name = fi.name else { return "unknown" }
            return String(cString: name)
        }
        let major = describe(format & Int32(SF_FORMAT_TYPEMASK), Int32(SFC_GET_FORMAT_INFO))
        let sub = describe(format & Int32(SF_FORMAT_SUBMASK), Int32(SFC_GET_FORMAT_INFO))
        return "\(major) / \(sub)"
    }
}

/// Bytes in memory served to libsndfile through its virtual I/O callbacks
/// (standard input is read whole, then decoded from here, so every format
/// libsndfile knows works from a pipe).
private final class MemorySource {
    let bytes: [UInt8]
    var position: sf_count_t = 0
    var length: sf_count_t { sf_count_t(bytes.count) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemorySource {
        Unmanaged<MemorySource>.fromOpaque(user!).takeUnretainedValue()
    }

    func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let base: sf_count_t
        switch whence {
        case SEEK_CUR: base = position
        case SEEK_END: base = length
        default: base = 0
        }
        position = min(max(0, base + offset), length)
        return position
    }

    func read(into pointer: UnsafeMutableRawPointer?, count: sf_count_t) -> sf_count_t {
        guard let pointer, count > 0, position < length else { return 0 }
        let n = min(count, length - position)
        bytes.withUnsafeBytes { raw in
            pointer.copyMemory(from: raw.baseAddress! + Int(position), byteCount: Int(n))
        }
        position += n
        return n
    }
}

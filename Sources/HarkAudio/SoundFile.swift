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
    /// The samples, mixed to mono, at the file's sample rate.
    public var waveform: Waveform
    /// Channels in the file before mixing.
    public var channels: Int
    /// libsndfile's name of the container and encoding, e.g. "WAV (Microsoft) / Signed 16 bit PCM".
    public var formatName: String
}

/// The only place Hark talks to libsndfile: an open file decoded block by
/// block into mono samples.
///
/// Reads in fixed-size blocks, so no allocation is ever sized by a header
/// field: a header that claims more data than the file holds yields a
/// `truncated` error at the end, not a huge buffer.
final class SoundFile {
    /// libsndfile's own name and version, e.g. "libsndfile-1.2.0".
    static var libraryVersion: String { String(cString: sf_version_string()) }

    /// Largest channel count accepted; libsndfile's own limit is 1024.
    static let maxChannels = 1024
    /// Frames decoded per `read` (all channels).
    static let blockSamples = 65_536

    let displayName: String
    let channels: Int
    let sampleRate: Int
    let formatName: String
    /// Frames the header declares (0 or less: unknown).
    let declaredFrames: Int64
    /// Frames delivered so far.
    private(set) var framesRead = 0
    private let handle: OpaquePointer
    private let source: MemorySource?
    private let pick: Int
    private var buffer: [Float]
    private let blockFrames: Int
    private var finished = false
    /// A live stream may end anywhere: its header's length is not a promise.
    private let isLive: Bool

    /// Opens a file by path, or bytes in memory through libsndfile's virtual I/O.
    init(_ input: AudioSource, displayName: String, channel: ChannelSelection) throws {
        var info = SF_INFO()
        var handle: OpaquePointer?
        if case .live = input { isLive = true } else { isLive = false }
        switch input {
        case .file(let path, _):
            handle = sf_open(path, Int32(SFM_READ), &info)
            source = nil
        case .memory(let bytes):
            let source = MemorySource(bytes: bytes)
            var io = SF_VIRTUAL_IO(
                get_filelen: { user in MemorySource.from(user).length },
                seek: { offset, whence, user in MemorySource.from(user).seek(offset, whence) },
                read: { ptr, count, user in MemorySource.from(user).read(into: ptr, count: count) },
                write: { _, _, _ in 0 },
                tell: { user in MemorySource.from(user).position })
            handle = sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(source).toOpaque())
            self.source = source
        case .live(let fd, let raw):
            // libsndfile reads a pipe without seeking (WAV, AU, raw, … as it allows).
            if let raw {
                info.samplerate = Int32(raw.sampleRate)
                info.channels = Int32(raw.channels)
                info.format = Int32(SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE)
            }
            handle = sf_open_fd(fd, Int32(SFM_READ), &info, 0)
            source = nil
        }
        guard let handle else {
            let message = String(cString: sf_strerror(nil)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw AudioError(.unrecognized, displayName, "libsndfile says \"\(message)\"")
        }
        self.handle = handle
        self.displayName = displayName
        channels = Int(info.channels)
        sampleRate = Int(info.samplerate)
        declaredFrames = Int64(info.frames)
        formatName = Self.formatName(info.format)
        pick = { if case .channel(let c) = channel { return c } else { return -1 } }()
        if case .live = input {
            // Live audio is delivered 50 ms at a time: a read waits for a whole block.
            blockFrames = max(64, sampleRate / 20)
        } else {
            blockFrames = max(256, Self.blockSamples / max(1, channels))
        }
        buffer = []
        guard channels > 0 else {
            throw AudioError(.badHeader, displayName, "the header claims \(channels) channels")
        }
        guard channels <= Self.maxChannels else {
            throw AudioError(.badHeader, displayName, "the header claims \(channels) channels (at most \(Self.maxChannels) are supported)")
        }
        guard sampleRate > 0 else {
            throw AudioError(.badHeader, displayName, "the header claims a sample rate of \(sampleRate) Hz")
        }
        guard sampleRate >= AudioLimits.minSampleRate && sampleRate <= AudioLimits.maxSampleRate else {
            throw AudioError(
                .badSampleRate, displayName,
                "the header claims \(sampleRate) Hz; Hark accepts \(AudioLimits.minSampleRate) to \(AudioLimits.maxSampleRate) Hz (a corrupt header, or convert the file)"
            )
        }
        if case .channel(let c) = channel {
            guard c >= 0 && c < channels else {
                throw AudioError(
                    .badChannel, displayName,
                    "channel \(c) requested but the file has \(channels) (0 to \(channels - 1))")
            }
        }
        buffer = [Float](repeating: 0, count: blockFrames * channels)
    }

    deinit { sf_close(handle) }

    /// The next block of mono samples, or an empty array at the end.
    /// At the end, checks that the file held every frame its header declares.
    func read() throws -> [Float] {
        if finished { return [] }
        let channels = self.channels, pick = self.pick
        let got = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(blockFrames)) }
        if got <= 0 {
            finished = true
            try finish()
            return []
        }
        let n = Int(got)
        var mono: [Float]
        if channels == 1 {
            mono = Array(buffer[0..<n])
        } else {
            let scale = 1 / Float(channels)
            mono = [Float](repeating: 0, count: n)
            buffer.withUnsafeBufferPointer { b in
                mono.withUnsafeMutableBufferPointer { m in
                    for f in 0..<n {
                        let base = f * channels
                        if pick >= 0 {
                            m[f] = b[base + pick]
                        } else {
                            var s: Float = 0
                            for c in 0..<channels { s += b[base + c] }
                            m[f] = s * scale
                        }
                    }
                }
            }
        }
        // A NaN or infinity in a channel used makes the mono sample non-finite too;
        // x · 0 is 0 for every finite x and NaN otherwise.
        // Eight running sums, so that the check is not one long chain of additions.
        let acc: Float = mono.withUnsafeBufferPointer { m in
            var lanes = SIMD8<Float>.zero
            var i = 0
            let raw = UnsafeRawPointer(m.baseAddress)
            while i + 8 <= m.count {
                lanes += raw!.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * 0
                i += 8
            }
            var sum = lanes.sum()
            while i < m.count { sum += m[i] * 0; i += 1 }
            return sum
        }
        if acc != 0 || acc.isNaN, let bad = mono.firstIndex(where: { !$0.isFinite }) {
            let frame = framesRead + bad
            throw AudioError(
                .nonFinite, displayName,
                "NaN or infinity at frame \(frame) (\(String(format: "%.3f", Double(frame) / Double(sampleRate))) s)")
        }
        framesRead += n
        return mono
    }

    /// Moves to frame `frame` without decoding what comes before, when the
    /// input is not live and libsndfile can seek in its format; false otherwise
    /// (nothing moved).
    func seek(toFrame frame: Int) -> Bool {
        guard !isLive, !finished, frame >= 0, sf_seek(handle, sf_count_t(frame), SEEK_SET) >= 0 else { return false }
        framesRead = frame
        return true
    }

    private func finish() throws {
        let status = sf_error(handle)
        if status != 0 {
            let message = String(cString: sf_strerror(handle))
            throw AudioError(.unreadable, displayName, "decoding stopped after \(framesRead) frames: libsndfile says \"\(message)\"")
        }
        if !isLive && declaredFrames > 0 && declaredFrames != Int64.max && Int64(framesRead) < declaredFrames {
            throw AudioError(
                .truncated, displayName,
                "the header declares \(declaredFrames) frames but only \(framesRead) could be decoded")
        }
        if framesRead == 0 {
            throw AudioError(.noSamples, displayName, "the file has a valid header but no audio data")
        }
    }

    /// libsndfile's description of a major format and subtype.
    static func formatName(_ format: Int32) -> String {
        func describe(_ value: Int32, _ command: Int32) -> String {
            var fi = SF_FORMAT_INFO()
            fi.format = value
            guard sf_command(nil, command, &fi, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
                let name = fi.name
            else { return "unknown" }
            return String(cString: name)
        }
        let major = describe(format & Int32(SF_FORMAT_TYPEMASK), Int32(SFC_GET_FORMAT_INFO))
        let sub = describe(format & Int32(SF_FORMAT_SUBMASK), Int32(SFC_GET_FORMAT_INFO))
        return "\(major) / \(sub)"
    }
}

/// Bytes in memory served to libsndfile through its virtual I/O callbacks
/// (standard input and pipes are read whole, up to a limit, then decoded
/// from here, so every format libsndfile knows works from a pipe).
final class MemorySource {
    let bytes: [UInt8]
    var position: sf_count_t = 0
    var length: sf_count_t { sf_count_t(bytes.count) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemorySource {
        guard let user else { preconditionFailure("libsndfile called back without its user pointer") }
        return Unmanaged<MemorySource>.fromOpaque(user).takeUnretainedValue()
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
            if let base = raw.baseAddress { pointer.copyMemory(from: base + Int(position), byteCount: Int(n)) }
        }
        position += n
        return n
    }
}

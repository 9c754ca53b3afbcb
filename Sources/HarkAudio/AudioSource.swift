import Foundation

/// Where an input's bytes are: a regular file, decoded from its path with
/// seeks, or bytes held in memory (standard input, pipes, FIFOs, devices,
/// files such as /proc's that report no size), read with a hard cap.
enum AudioSource {
    case file(path: String, size: Int)
    case memory([UInt8])
    /// A live stream (standard input, a pipe, a socket) decoded as bytes
    /// arrive, never held whole; `raw` describes headerless PCM.
    case live(fd: Int32, raw: RawPCM?)

    /// Options that decide how non-regular inputs are treated.
    struct Policy {
        var maxStreamBytes = AudioLimits.maxStreamBytes
        /// Accept pipes, FIFOs and devices (inputs named by the user);
        /// false refuses them at once (inputs found by a directory scan).
        var allowStreams = true
        var fifoWriterWait = AudioLimits.fifoWriterWait
    }

    /// Opens `path` (`-`: standard input) without ever blocking on a FIFO
    /// that has no writer, and checks the container header against the size.
    static func open(_ path: String, policy: Policy) throws -> AudioSource {
        if path == "-" {
            let bytes = try readStream(fd: 0, name: "-", what: "standard input", limit: policy.maxStreamBytes)
            return .memory(bytes)
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw errno == EACCES ? AudioError(.unreadable, path, "permission denied") : AudioError(.notFound, path)
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw AudioError(.isDirectory, path) }
        let kind =
            type == S_IFREG
            ? ""
            : type == S_IFIFO
                ? "a FIFO"
                : type == S_IFCHR
                    ? "a character device"
                    : type == S_IFSOCK ? "a socket" : type == S_IFBLK ? "a block device" : "not a regular file"
        if !kind.isEmpty && !policy.allowStreams {
            throw AudioError(.unreadable, path, "\(kind), not a regular file; name it on the command line to read it as a stream")
        }
        // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw AudioError(.unreadable, path, String(cString: strerror(errno)))
        }
        defer { close(fd) }
        if type == S_IFIFO {
            // No POLLHUP is reported before a first writer, so this waits for one.
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(0, min(policy.fifoWriterWait * 1000, Double(Int32.max))))
            var ready: Int32
            repeat { ready = poll(&p, 1, ms) } while ready < 0 && errno == EINTR
            if ready == 0 {
                throw AudioError(.unreadable, path, "a FIFO with no writer: nothing arrived within \(formatSeconds(policy.fifoWriterWait))")
            }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        if type == S_IFREG && st.st_size > 0 {
            return .file(path: path, size: Int(st.st_size))
        }
        // Pipes, FIFOs, devices, and regular files that report size 0 (as /proc's do).
        return .memory(try readStream(fd: fd, name: path, what: kind.isEmpty ? "input" : kind, limit: policy.maxStreamBytes))
    }

    /// Reads to end of file, refusing more than `limit` bytes. The buffer
    /// grows with what arrives, never by a size announced in advance.
    static func readStream(fd: Int32, name: String, what: String, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if bytes.count > limit {
                throw AudioError(
                    .tooLong, name,
                    "\(what) longer than \(formatBytes(limit)), the most read from a stream (it is held in memory); save it to a file")
            }
            let want = min(chunk.count, limit + 1 - bytes.count)
            let got = chunk.withUnsafeMutableBytes { raw -> Int in
                var n: Int
                repeat { n = read(fd, raw.baseAddress!, want) } while n < 0 && errno == EINTR
                return n
            }
            if got < 0 {
                let message = String(cString: strerror(errno))
                throw AudioError(.unreadable, name, "reading failed after \(bytes.count) bytes: \(message)")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        if bytes.isEmpty { throw AudioError(.empty, name, "0 bytes") }
        return bytes
    }

    static func formatBytes(_ n: Int) -> String {
        n >= 1 << 30 && n % (1 << 30) == 0 ? "\(n >> 30) GiB" : n >= 1 << 20 && n % (1 << 20) == 0 ? "\(n >> 20) MiB" : "\(n) bytes"
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }

    /// The first bytes (for header checks) and the total size.
    func head(_ count: Int) throws -> (bytes: [UInt8], size: Int) {
        switch self {
        case .live:
            return ([], 0)
        case .memory(let b):
            return (Array(b.prefix(count)), b.count)
        case .file(let path, let size):
            let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw AudioError(.unreadable, path, String(cString: strerror(errno))) }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: min(count, size))
            var filled = 0
            while filled < bytes.count {
                let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                filled += n
            }
            bytes.removeSubrange(filled...)
            return (bytes, size)
        }
    }
}

/// Headerless audio: signed 16-bit little-endian PCM, channels interleaved.
public struct RawPCM: Sendable, Equatable {
    /// Samples per second per channel, Hz.
    public var sampleRate: Int
    /// Channels, interleaved sample by sample.
    public var channels: Int

    /// A format of the given rate and channels; throws for a rate outside `AudioLimits`' range or an unsupported
    /// channel count.
    public init(sampleRate: Int, channels: Int = 1) throws {
        guard sampleRate >= AudioLimits.minSampleRate && sampleRate <= AudioLimits.maxSampleRate else {
            throw AudioError(
                .badSampleRate, "raw PCM", "\(sampleRate) Hz; Hark accepts \(AudioLimits.minSampleRate) to \(AudioLimits.maxSampleRate) Hz")
        }
        guard channels >= 1 && channels <= SoundFile.maxChannels else {
            throw AudioError(.badChannel, "raw PCM", "\(channels) channels; 1 to \(SoundFile.maxChannels) are supported")
        }
        self.sampleRate = sampleRate
        self.channels = channels
    }
}

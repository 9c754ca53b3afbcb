import Foundation

/// An input decoded as a stream: mono blocks at the target rate, read one
/// after another, so memory does not grow with the recording's length.
///
/// A regular file is decoded from disk; standard input and other streams are
/// held in memory (at most `AudioLimits.maxStreamBytes`). `rewind()` starts
/// again from the first sample (a second pass, e.g. for per-utterance CMVN).
public final class AudioReader {
    /// The input as the user named it.
    public let displayName: String
    /// The rate of the samples `read` returns.
    public let sampleRate: Int
    /// The file's rate before any resampling.
    public let originalSampleRate: Int
    /// Channels in the file before mixing.
    public let channels: Int
    /// libsndfile's name of the container and encoding.
    public let formatName: String
    /// Things the user should know that are not errors (e.g. upsampling).
    public let notes: [String]
    /// Samples returned so far (at `sampleRate`).
    public private(set) var samplesRead = 0
    /// The duration the header declares, when it declares one (a header can lie:
    /// decoding still checks what is really there).
    public var declaredSeconds: Double? {
        let frames = file.declaredFrames
        guard frames > 0 && frames != Int64.max else { return nil }
        return Double(frames) / Double(originalSampleRate)
    }

    private let source: AudioSource
    /// A descriptor this reader opened itself (`streaming`), closed with it.
    private var ownedDescriptor: Int32 = -1
    private let options: AudioLoadOptions
    private var file: SoundFile
    private var resampler: ResamplerStream?
    private var ended = false

    /// Opens a file, or `-` for standard input, for reading as a stream; throws `AudioError` when it cannot be decoded.
    public convenience init(_ path: String, options: AudioLoadOptions = AudioLoadOptions()) throws {
        try self.init(source: AudioSource.open(path, policy: options.policy), displayName: path, options: options)
    }

    /// Decodes an in-memory file (any format libsndfile reads).
    public convenience init(bytes: [UInt8], displayName: String, options: AudioLoadOptions = AudioLoadOptions()) throws {
        if bytes.isEmpty { throw AudioError(.empty, displayName, "0 bytes") }
        try self.init(source: .memory(bytes), displayName: displayName, options: options)
    }

    /// Decodes a live stream from a file descriptor (standard input: 0, a
    /// pipe, a socket) as its bytes arrive, 50 ms at a time, without holding
    /// it: any format libsndfile reads from a pipe, or headerless 16-bit PCM
    /// when `raw` says so. It cannot be rewound. The descriptor stays open.
    public convenience init(
        live fd: Int32, raw: RawPCM? = nil, displayName: String,
        options: AudioLoadOptions = AudioLoadOptions()
    ) throws {
        try self.init(source: .live(fd: fd, raw: raw), displayName: displayName, options: options)
    }

    /// Opens an input to be read as it arrives, never held whole: standard
    /// input (`-`), a pipe, a FIFO or a device live from its descriptor (any
    /// format libsndfile reads from a pipe, or headerless PCM when `raw` says
    /// so); a regular file from disk (headerless PCM, too, live).
    public static func streaming(_ path: String, raw: RawPCM? = nil, options: AudioLoadOptions = AudioLoadOptions()) throws -> AudioReader {
        if path == "-" { return try standardInput(raw: raw, options: options) }
        var st = stat()
        let regular = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        if regular && raw == nil { return try AudioReader(path, options: options) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AudioError(errno == ENOENT ? .notFound : .unreadable, path, String(cString: strerror(errno)))
        }
        do {
            let reader = try AudioReader(live: fd, raw: raw, displayName: path, options: options)
            reader.ownedDescriptor = fd
            return reader
        } catch {
            close(fd)
            throw error
        }
    }

    /// Standard input, decoded as it arrives. libsndfile cannot decode FLAC
    /// from a pipe (it loses sync), so input that starts with FLAC's magic is
    /// held in memory (at most `maxStreamBytes`) and decoded from there. The
    /// first bytes, read to tell, reach the decoder through a socket of this
    /// reader's own, which a thread fills from standard input.
    public static func standardInput(raw: RawPCM? = nil, options: AudioLoadOptions = AudioLoadOptions()) throws -> AudioReader {
        if raw != nil { return try AudioReader(live: STDIN_FILENO, raw: raw, displayName: "-", options: options) }
        let magic = 4
        var head = [UInt8](repeating: 0, count: magic)
        var got = 0
        while got < magic {
            let n = head.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw AudioError(.unreadable, "-", "reading standard input failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
        }
        head.removeLast(magic - got)
        if head.elementsEqual("fLaC".utf8) || got < magic {
            let rest =
                got < magic
                ? []
                : try AudioSource.readStream(
                    fd: STDIN_FILENO, name: "-", what: "standard input",
                    limit: options.maxStreamBytes - head.count)
            return try AudioReader(bytes: head + rest, displayName: "-", options: options)
        }
        // A socket pair rather than a pipe: a send to a reader gone away fails (EPIPE) instead of
        // raising SIGPIPE, and libsndfile reads a socket as it reads a pipe.
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw AudioError(.unreadable, "-", "cannot make a socket pair: \(String(cString: strerror(errno)))")
        }
        _ = shutdown(ends[0], Int32(SHUT_WR))
        let writeEnd = ends[1], first = head
        let failure = RelayFailure()
        Thread.detachNewThread {
            // Ends when standard input does, or when the reader closed its end (EPIPE).
            var chunk = first
            chunk.reserveCapacity(1 << 16)
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                var sent = 0
                while sent < chunk.count {
                    let n = chunk.withUnsafeBytes { send(writeEnd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { close(writeEnd); return }
                    sent += n
                }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { chunk = []; continue }
                // A failed read ends the stream like its end would: the reader is told why there.
                if n < 0 { failure.set("reading standard input failed: \(String(cString: strerror(errno)))") }
                if n <= 0 { break }
                chunk = Array(buffer[0..<n])
            }
            close(writeEnd)
        }
        do {
            let reader = try AudioReader(live: ends[0], displayName: "-", options: options)
            reader.ownedDescriptor = ends[0]
            reader.relayFailure = failure
            return reader
        } catch {
            close(ends[0])
            throw error
        }
    }

    deinit {
        if ownedDescriptor >= 0 { close(ownedDescriptor) }
    }

    /// Standard input relayed by `standardInput`: why the relay stopped early, if it did.
    private var relayFailure: RelayFailure?

    init(source: AudioSource, displayName: String, options: AudioLoadOptions) throws {
        if case .live = source {
        } else {
            let (head, size) = try source.head(AudioLoader.headBytes)
            try ContainerCheck.check(head: head, fileSize: size, displayName: displayName)
        }
        self.source = source
        self.options = options
        self.displayName = displayName
        file = try SoundFile(source, displayName: displayName, channel: options.channel)
        originalSampleRate = file.sampleRate
        channels = file.channels
        formatName = file.formatName
        let target = options.targetSampleRate ?? file.sampleRate
        sampleRate = target
        var notes: [String] = []
        if target > file.sampleRate {
            notes.append(
                "\(displayName): upsampling from \(file.sampleRate) Hz to \(target) Hz; this cannot add the missing bandwidth above \(file.sampleRate / 2) Hz"
            )
        }
        self.notes = notes
        resampler = try makeResampler()
    }

    private func makeResampler() throws -> ResamplerStream? {
        guard sampleRate != originalSampleRate else { return nil }
        do {
            return try ResamplerStream(from: originalSampleRate, to: sampleRate, quality: options.resampleQuality)
        } catch var error as AudioError {
            error.input = displayName
            throw error
        }
    }

    /// The next block of samples in [-1, 1] at `sampleRate`; nil at the end.
    /// Throws when the input turns out bad (truncated, non-finite samples, …),
    /// at the block where that is found.
    public func read() throws -> [Float]? {
        while !ended {
            let block = try file.read()
            let end = block.isEmpty
            var out = block
            if let resampler {
                do {
                    out = try resampler.process(block, end: end)
                } catch var error as AudioError {
                    error.input = displayName
                    throw error
                }
            }
            if end {
                ended = true
                if let problem = relayFailure?.message { throw AudioError(.unreadable, displayName, problem) }
                if case .live(let fd, nil) = source { try checkNothingFollows(fd) }
            }
            if !out.isEmpty {
                samplesRead += out.count
                return out
            }
        }
        return nil
    }

    /// The most read after a live recording's audio to see what follows it.
    static let maxTrailingBytes = 1 << 20

    /// After a live recording's audio, what is left on the stream must be
    /// chunks a container may carry after its data (a WAV file's LIST, id3,
    /// …): another recording (a second RIFF header) or bytes that are no
    /// chunk are an error naming how much follows, so that a stream is never
    /// silently cut short. A file with the same bytes is refused too.
    private func checkNothingFollows(_ fd: Int32) throws {
        var trailing: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 65536)
        while trailing.count <= Self.maxTrailingBytes {
            let n = block.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            trailing += block[0..<n]
        }
        guard !trailing.isEmpty else { return }
        var i = 0
        while i < trailing.count {
            let rest = trailing.count - i
            let id = trailing[i..<min(trailing.count, i + 4)]
            if ["RIFF", "RIFX", "RF64"].contains(where: { id.elementsEqual($0.utf8) }) {
                throw AudioError(
                    .unrecognized, displayName,
                    "another recording follows this one's audio (a RIFF header \(i) bytes after its data); a stream carries one recording")
            }
            // A chunk: a four-letter printable id and a little-endian size that fits (padded to even).
            guard rest >= 8, id.allSatisfy({ (32...126).contains($0) }) else { break }
            let size = (0..<4).reduce(0) { $0 | Int(trailing[i + 4 + $1]) << (8 * $1) }
            guard size <= rest - 8 else { break }
            i += 8 + size + (size & 1)
        }
        guard i < trailing.count else { return }
        let amount = trailing.count > Self.maxTrailingBytes ? "more than \(Self.maxTrailingBytes)" : "\(trailing.count - i)"
        throw AudioError(
            .unrecognized, displayName,
            "\(amount) bytes follow this recording's audio and are not part of it (raw audio after a WAV's data?); a stream carries one recording"
        )
    }

    /// Skips to `seconds` into the recording without decoding what comes
    /// before, when the input can seek (a file, in a format libsndfile seeks
    /// in); the resampler starts afresh there. Returns the index, at
    /// `sampleRate`, of the sample `read` returns next: where it skipped to,
    /// or where it was if it could not skip (the caller then reads and drops).
    public func skip(toSeconds seconds: Double) throws -> Int {
        guard seconds > 0, seconds.isFinite, samplesRead == 0 else { return samplesRead }
        let frame = Int((seconds * Double(originalSampleRate)).rounded(.down))
        guard frame > 0, file.seek(toFrame: frame) else { return samplesRead }
        resampler = try makeResampler()
        ended = false
        samplesRead = Int((Double(frame) * Double(sampleRate) / Double(originalSampleRate)).rounded())
        return samplesRead
    }

    /// Starts again from the first sample.
    public func rewind() throws {
        if case .live = source {
            throw AudioError(.unreadable, displayName, "a live stream cannot be read twice")
        }
        file = try SoundFile(source, displayName: displayName, channel: options.channel)
        resampler = try makeResampler()
        ended = false
        samplesRead = 0
    }
}

/// Why the thread relaying standard input stopped before its end (nil: it did not).
private final class RelayFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var problem: String?
    func set(_ message: String) { lock.withLock { problem = message } }
    var message: String? { lock.withLock { problem } }
}

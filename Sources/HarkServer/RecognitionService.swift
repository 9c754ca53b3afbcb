import Foundation
import HarkASR
import HarkAudio

/// A request the server refuses, with the status and the message it answers.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status the server answers with (400, 413, 415, 503, …).
    public var status: Int
    /// The metric label: bad_audio, bad_request, too_large, unsupported_media_type, overloaded, ….
    public var kind: String
    /// What the client is told, in words.
    public var message: String
    /// The message.
    public var description: String { message }

    /// An error of the given status, metric label and message.
    public init(_ status: Int, _ kind: String, _ message: String) {
        self.status = status
        self.kind = kind
        self.message = message
    }

    static func overloaded(_ what: String) -> ServiceError {
        ServiceError(503, "overloaded", "the server is busy (\(what)); retry shortly")
    }
}

/// One line of the access log: a request answered, or a stream ended.
public struct AccessRecord: Sendable, CustomStringConvertible {
    /// The HTTP method (`GET`, `POST`, …).
    public var method: String
    /// The route's path, e.g. `/v1/transcribe`.
    public var route: String
    /// The HTTP status answered.
    public var status: Int
    /// Wall time from the request's head (or the stream's start) to the answer's end.
    public var seconds: Double
    /// Audio recognised, in seconds (nil: none).
    public var audioSeconds: Double?

    /// "POST /v1/transcribe 200 0.214 s audio 1.50 s".
    public var description: String {
        String(format: "%@ %@ %d %.3f s", method, route, status, seconds) + (audioSeconds.map { String(format: " audio %.2f s", $0) } ?? "")
    }
}

/// The model, the recognition workers and the limits, shared by every route.
public final class RecognitionService: @unchecked Sendable {
    /// The transcriber every request and stream decodes with.
    public let transcriber: Transcriber
    /// The model's name, reported by `/healthz`.
    public let modelName: String
    /// The server's options and limits.
    public let options: ServerOptions
    /// The worker threads recognition runs on.
    public let pool: RecognitionPool
    /// The counters and histograms `/metrics` reports.
    public let metrics: ServerMetrics
    /// HTTP requests in progress: workers plus queue.
    public let requests: Admission
    /// Live streams open: at most `options.maxStreams`.
    public let streams: Admission
    /// Called once per answered request and per ended stream (set by `hark
    /// serve` to write its access log; nil: none).
    public var accessLog: (@Sendable (AccessRecord) -> Void)?

    /// A service with `options.workers` workers; throws when the options are out of range.
    public init(transcriber: Transcriber, modelName: String, options: ServerOptions, metrics: ServerMetrics = ServerMetrics()) throws {
        try options.validate()
        self.transcriber = transcriber
        self.modelName = modelName
        self.options = options
        self.metrics = metrics
        pool = RecognitionPool(workers: options.workers)
        requests = Admission(limit: options.workers + options.queueLimit)
        streams = Admission(limit: options.maxStreams)
    }

    /// The model's sample rate, Hz: the rate audio is resampled to.
    public var sampleRate: Int { transcriber.model.config.sampleRate }

    private let shutdownLock = NSLock()
    private var shuttingDown = false

    /// True once `closeStreams` has begun: live streams are being finished
    /// and new ones are refused.
    public var isShuttingDown: Bool { shutdownLock.withLock { shuttingDown } }

    /// The first step of a graceful shutdown (`hark serve` on SIGTERM or
    /// SIGINT), before the server stops taking connections: every live
    /// stream gets its last final result, an error message saying the server
    /// is shutting down and a close with code 1001 (going away); a stream
    /// opened from now on is refused the same way. Returns when no stream is
    /// open, or after `timeout` seconds (a client that never answers the close
    /// is cut off by its stream within 2 s of it).
    public func closeStreams(timeout: Double) async {
        shutdownLock.withLock { shuttingDown = true }
        let started = Date()
        while streams.current > 0 && Date().timeIntervalSince(started) < timeout {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// Decodes an audio file held in memory (any format libsndfile reads) and
    /// transcribes it on a worker. Bad audio is a 400 naming `name` and the problem.
    public func transcribe(_ bytes: [UInt8], name: String, route: String) async throws -> Transcript {
        let rate = sampleRate, maxSamples = Int(options.maxAudioSeconds * Double(rate))
        let maxSeconds = options.maxAudioSeconds
        let transcriber = self.transcriber
        let started = Date()
        let t: Transcript = try await pool.run {
            do {
                let reader = try AudioReader(bytes: bytes, displayName: name, options: AudioLoadOptions(targetSampleRate: rate))
                // Refused before decoding when the header says it is too long.
                if let declared = reader.declaredSeconds, declared > maxSeconds {
                    throw ServiceError(
                        413, "too_large",
                        "\(name): \(Int(declared)) s long by its header; the most this server accepts is \(Int(maxSeconds)) s")
                }
                var samples: [Float] = []
                while let block = try reader.read() {
                    samples.append(contentsOf: block)
                    if samples.count > maxSamples {
                        throw ServiceError(413, "too_large", "\(name): longer than \(Int(maxSeconds)) s, the most this server accepts")
                    }
                }
                return try transcriber.transcribe(samples: samples)
            } catch let e as AudioError {
                throw ServiceError(400, "bad_audio", e.description)
            }
        }
        metrics.recognised(route: route, audio: t.duration, processing: Date().timeIntervalSince(started))
        return t
    }
}

/// One live stream: 16-bit PCM at the client's rate in, results out. Its
/// handler and its idle watchdog both call it, one at a time (a lock); after
/// `finish`, it takes nothing more.
final class StreamSession: @unchecked Sendable {
    let recognizer: StreamingRecognizer
    private let resampler: ResamplerStream?
    /// A byte left over when a message ends in the middle of a sample.
    private var leftover: UInt8?
    private let lock = NSLock()
    private var finished = false

    init(service: RecognitionService, rate: Int) throws {
        recognizer = try StreamingRecognizer(transcriber: service.transcriber, options: service.options.streaming)
        resampler = rate == service.sampleRate ? nil : try ResamplerStream(from: rate, to: service.sampleRate)
    }

    /// Little-endian 16-bit samples (a sample may straddle two messages).
    func accept(_ bytes: [UInt8]) throws -> [StreamResult] {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return [] }
        var data = bytes
        if let b = leftover { data.insert(b, at: 0); leftover = nil }
        if data.count % 2 == 1 { leftover = data.removeLast() }
        var samples = [Float](repeating: 0, count: data.count / 2)
        for i in 0..<samples.count {
            let v = Int16(bitPattern: UInt16(data[2 * i]) | UInt16(data[2 * i + 1]) << 8)
            samples[i] = Float(v) / 32768
        }
        if let resampler { samples = try resampler.process(samples, end: false) }
        return recognizer.accept(samples)
    }

    func finish() throws -> [StreamResult] {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return [] }
        finished = true
        var results: [StreamResult] = []
        if let resampler { results += recognizer.accept(try resampler.process([], end: true)) }
        return results + recognizer.finish()
    }
}

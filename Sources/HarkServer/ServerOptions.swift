import Foundation
import HarkASR

/// Where `hark serve` listens and the limits it keeps. Every limit is a flag.
public struct ServerOptions: Sendable {
    /// The PCM rates a WebSocket stream may ask for (`?rate=HZ`), Hz.
    public static let streamRates = 8_000...192_000

    /// Loopback by default: the server is reachable from other machines only when asked.
    public var host = "127.0.0.1"
    /// The TCP port (0: one the system chooses).
    public var port = 8080
    /// Recognition worker threads (default: one per core).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Requests admitted beyond the workers (waiting, or sending their body); more get 503.
    public var queueLimit = 32
    /// Largest request body (OpenAI's limit is 25 MB).
    public var maxBodyBytes = 25 << 20
    /// Longest recording accepted by the HTTP routes, in seconds.
    public var maxAudioSeconds: Double = 600
    /// WebSocket streams open at once; more get 503.
    public var maxStreams = 32
    /// Longest live stream, in seconds of audio.
    public var maxStreamSeconds: Double = 3600
    /// Seconds a stream may go without a message before it is closed.
    public var idleTimeout: Double = 30
    /// Seconds a request's body may take to arrive (a trickling client holds a place in the queue).
    public var bodyTimeout: Double = 30
    /// Seconds a new connection may take to send its first request head (`ConnectionDeadline`).
    public var headTimeout: Double = 30
    /// Largest WebSocket message (PCM frames are typically 3 to 32 KB).
    public var maxMessageBytes = 1 << 20
    /// How live streams are cut into utterances and how often partials come.
    public var streaming = StreamingOptions()

    /// The defaults: loopback on port 8080, a worker per core.
    public init() {}

    /// Throws a message naming the first bad value.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw StreamingError(message: message) } }
        try check(!host.isEmpty, "the host is empty")
        try check((0...65_535).contains(port), "the port must be 0 to 65535 (got \(port))")
        try check((1...Limits.threads).contains(workers), "workers must be 1 to \(Limits.threads) (got \(workers))")
        try check((0...100_000).contains(queueLimit), "the queue limit must be 0 to 100000 (got \(queueLimit))")
        try check(maxBodyBytes >= 1024 && maxBodyBytes <= 1 << 31, "the body limit must be 1 KiB to 2 GiB (got \(maxBodyBytes))")
        try check(maxAudioSeconds.isFinite && maxAudioSeconds >= 1 && maxAudioSeconds <= 86_400, "the audio limit must be 1 to 86400 s")
        try check((1...10_000).contains(maxStreams), "the stream limit must be 1 to 10000 (got \(maxStreams))")
        try check(
            maxStreamSeconds.isFinite && maxStreamSeconds >= 1 && maxStreamSeconds <= 31_536_000,
            "the stream length limit must be 1 s to 31536000 s (a year)")
        try check(idleTimeout.isFinite && idleTimeout >= 0.1 && idleTimeout <= 86_400, "the idle timeout must be 0.1 to 86400 s")
        try check(bodyTimeout.isFinite && bodyTimeout >= 0.1 && bodyTimeout <= 86_400, "the body timeout must be 0.1 to 86400 s")
        try check(headTimeout.isFinite && headTimeout >= 0.1 && headTimeout <= 86_400, "the head timeout must be 0.1 to 86400 s")
        try check(maxMessageBytes >= 1024 && maxMessageBytes <= 64 << 20, "the message limit must be 1 KiB to 64 MiB")
        try streaming.validate()
    }
}

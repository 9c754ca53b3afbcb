import Foundation
import HarkASR
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// The WebSocket protocol of `GET /v1/stream?rate=HZ`:
/// - in: binary messages of little-endian signed 16-bit mono PCM at `rate`
///   (default: the model's); a text message `{"type": "eof"}` ends the stream;
/// - out: text messages, one JSON object each: `{"type": "partial" | "final",
///   "text", "start", "end", "words"}` (`StreamResult`), and `{"type":
///   "error", "error"}` before the server closes a stream it cannot go on with
///   (unknown message, stream too long, idle too long, a message over the
///   size limit).
/// After `eof` the server sends the last final result and closes normally;
/// an idle stream gets its last final too, then the error and the close, and
/// so does every stream open when the server shuts down (close code 1001).
/// A client has 2 s to answer the server's close before the connection is
/// dropped.
///
/// A client that stops reading cannot hold its place: when the server's
/// writes have been blocked for the idle timeout (the socket is full and the
/// client does not drain it), the connection is closed at once, without the
/// close handshake that could not be written either.
struct LiveStream {
    let service: RecognitionService
    let rateParameter: String?
    /// The connection, closed directly when writes stall.
    let channel: any Channel

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let route = "/v1/stream"
        let writer = StreamWriter(outbound)
        guard let rate = HarkRoutes.streamRate(rateParameter, service: service) else {
            service.metrics.error(route: route, kind: "bad_request")
            service.metrics.request(route: route, status: 400)
            try await writer.fail(
                "rate=\(rateParameter ?? ""): the PCM sample rate must be an integer from \(ServerOptions.streamRates.lowerBound) to \(ServerOptions.streamRates.upperBound) Hz",
                code: .policyViolation)
            return
        }
        guard !service.isShuttingDown else {
            try await writer.fail(Self.shuttingDown, code: .goingAway)
            return
        }
        guard service.streams.enter() else {
            service.metrics.error(route: route, kind: "overloaded")
            service.metrics.request(route: route, status: 503)
            // 1013: try again later.
            try await writer.fail("the server has \(service.streams.limit) streams open, its limit; retry shortly", code: .unknown(1013))
            return
        }
        service.metrics.streamOpened()
        defer {
            service.streams.leave()
            service.metrics.streamClosed()
        }
        let session: StreamSession
        do { session = try StreamSession(service: service, rate: rate) } catch {
            try await writer.fail("\(error)", code: .unexpectedServerError)
            return
        }
        let activity = Activity()
        let opened = Date()
        let idle = service.options.idleTimeout
        let maxSamples = Int(service.options.maxStreamSeconds * Double(service.sampleRate))
        let maxMessage = service.options.maxMessageBytes
        let channel = self.channel
        var status = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The watchdog: a stream silent for `idle` seconds, or open when the server shuts down,
            // gets its last final and is closed; one whose writes have been blocked that long is
            // closed at once.
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(nanoseconds: 100_000_000)
                    let stalled = writer.secondsBlocked > idle, shutdown = service.isShuttingDown
                    guard stalled || shutdown || activity.secondsSinceLast > idle else { continue }
                    if !shutdown { service.metrics.error(route: route, kind: "timeout") }
                    if !stalled {
                        let closed = Flag()
                        Task {
                            let last = (try? await service.pool.run { try session.finish() }) ?? []
                            try? await writer.send(last)
                            if shutdown {
                                try? await writer.fail(Self.shuttingDown, code: .goingAway)
                            } else {
                                try? await writer.fail("no message for \(idle) s; the stream is closed", code: .policyViolation)
                            }
                            closed.raise()
                        }
                        // A client that reads gets all of it within moments.
                        var waited = 0
                        while waited < 20 && writer.secondsBlocked < 1 && !closed.isRaised {
                            try? await Task.sleep(nanoseconds: 100_000_000)
                            waited += 1
                        }
                        // The close handshake gets two seconds (a client that reads answers at once;
                        // the stream then ends and this task is cancelled).
                        if closed.isRaised { try await Task.sleep(nanoseconds: 2_000_000_000) }
                    }
                    try? await channel.close()
                    return
                }
            }
            defer { group.cancelAll() }
            var messages = inbound.messages(maxSize: maxMessage).makeAsyncIterator()
            while true {
                let message: WebSocketMessage?
                do { message = try await messages.next() } catch {
                    // Hummingbird closes after this (1009 for an oversized fragmented message, 1002 for a
                    // protocol error); the client is told why first.
                    let tooLarge = "\(error)".contains("messageTooLarge")
                    service.metrics.error(route: route, kind: tooLarge ? "too_large" : "bad_request")
                    status = tooLarge ? 413 : 400
                    try? await writer.send(
                        text: HarkRoutes.jsonText([
                            "type": "error",
                            "error": tooLarge
                                ? "a message is larger than \(maxMessage) bytes, the most this server takes (send PCM in smaller messages)"
                                : "the stream broke the WebSocket protocol: \(error)"
                        ]))
                    throw error
                }
                guard let message else { break }
                activity.touch()
                switch message {
                case .binary(var buffer):
                    let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                    let started = Date()
                    let results = try await service.pool.run { try session.accept(bytes) }
                    service.metrics.recognised(
                        route: route, audio: Double(bytes.count / 2) / Double(rate),
                        processing: Date().timeIntervalSince(started))
                    try await writer.send(results)
                    if session.recognizer.samplesReceived > maxSamples {
                        try await writer.send(try await service.pool.run { try session.finish() })
                        service.metrics.error(route: route, kind: "too_large")
                        status = 413
                        try await writer.fail(
                            "the stream is longer than \(Int(service.options.maxStreamSeconds)) s, the most this server takes",
                            code: .messageTooLarge)
                        return
                    }
                case .text(let text):
                    guard Self.isEOF(text) else {
                        service.metrics.error(route: route, kind: "bad_request")
                        status = 400
                        try await writer.fail(
                            "unexpected text message (send 16-bit PCM as binary messages and {\"type\": \"eof\"} to end)",
                            code: .unacceptableData)
                        return
                    }
                    try await writer.send(try await service.pool.run { try session.finish() })
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
            }
            // The client went away without eof: what it sent is still finalised, for the metrics.
            _ = try? await service.pool.run { try session.finish() }
        }
        service.metrics.request(route: route, status: status)
        service.accessLog?(
            AccessRecord(
                method: "GET", route: route, status: status, seconds: Date().timeIntervalSince(opened),
                audioSeconds: session.recognizer.secondsReceived))
    }

    static let shuttingDown = "the server is shutting down; the stream is closed (reconnect to another server, or later)"

    static func isEOF(_ text: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return false }
        return object["type"] as? String == "eof"
    }
}

/// A stream's outbound messages, and how long the one being written has been blocked.
final class StreamWriter: @unchecked Sendable {
    private let outbound: WebSocketOutboundWriter
    private let lock = NSLock()
    private var pendingSince: Date?

    init(_ outbound: WebSocketOutboundWriter) { self.outbound = outbound }

    /// Seconds the current write has waited for the client to read (0 when none is waiting).
    var secondsBlocked: Double {
        lock.lock(); defer { lock.unlock() }
        return pendingSince.map { Date().timeIntervalSince($0) } ?? 0
    }

    func send(text: String) async throws {
        setPending(Date())
        defer { setPending(nil) }
        try await outbound.write(.text(text))
    }

    private func setPending(_ date: Date?) { lock.withLock { pendingSince = date } }

    func send(_ results: [StreamResult]) async throws {
        for r in results { try await send(text: r.jsonLine) }
    }

    /// The error message, then the close the server decides.
    func fail(_ message: String, code: WebSocketErrorCode) async throws {
        try await send(text: HarkRoutes.jsonText(["type": "error", "error": message]))
        try await outbound.close(code, reason: nil)
    }
}

/// When a stream last heard from its client.
final class Activity: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date()
    func touch() { lock.lock(); last = Date(); lock.unlock() }
    var secondsSinceLast: Double { lock.lock(); defer { lock.unlock() }; return Date().timeIntervalSince(last) }
}

/// A flag one task raises and another reads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func raise() { lock.lock(); raised = true; lock.unlock() }
    /// Raises it; true when it was raised already.
    func raiseReportingEarlier() -> Bool {
        lock.withLock {
            defer { raised = true }; return raised
        }
    }
    var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}

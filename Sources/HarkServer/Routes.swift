import Foundation
import HarkASR
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// `hark serve`'s routes:
///
/// | route | what |
/// |---|---|
/// | `GET /` | the browser page (microphone streaming, file drop) |
/// | `GET /healthz` | `{"status": "ok", "model", "sample_rate"}` |
/// | `GET /metrics` | Prometheus text (`ServerMetrics`) |
/// | `POST /v1/transcribe` | audio file as the body → JSON as `hark transcribe --format json` |
/// | `POST /v1/audio/transcriptions` | OpenAI's multipart form (`OpenAITranscription`) |
/// | `GET /v1/stream` | WebSocket: 16-bit PCM in, partial and final JSON out |
///
/// Errors are JSON `{"error": {"message", "type"}}` (OpenAI's shape) with a
/// 4xx status, or 503 with `Retry-After` when the server is full.
public enum HarkRoutes {
    public typealias Context = BasicWebSocketRequestContext

    public static func router(_ service: RecognitionService) -> Router<Context> {
        let router = Router(context: Context.self)
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.index_html)))
        }
        router.get("/healthz") { _, _ in
            json(["status": "ok", "model": service.modelName, "sample_rate": service.sampleRate] as [String: Any])
        }
        router.get("/metrics") { _, _ in
            service.metrics.queued(service.pool.queued)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: service.metrics.render())))
        }
        router.post("/v1/transcribe") { request, _ in
            await answer(service, route: "/v1/transcribe") {
                let type = request.headers[.contentType]?.lowercased() ?? ""
                let base = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard base.isEmpty || base == "application/octet-stream" || base.hasPrefix("audio/") || base.hasPrefix("video/") else {
                    throw ServiceError(415, "unsupported_media_type",
                                       "Content-Type \(base) is not audio: send the file's bytes as the body with Content-Type audio/wav (or audio/*, application/octet-stream)")
                }
                let name = request.uri.queryParameters["name"].map(String.init) ?? "request body"
                let bytes = try await body(request, limit: service.options.maxBodyBytes, deadline: service.options.bodyTimeout)
                let t = try await service.transcribe(bytes, name: name, route: "/v1/transcribe")
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: TranscriptFormat.json.render(t, source: name))))
            }
        }
        router.post("/v1/audio/transcriptions") { request, _ in
            await answer(service, route: "/v1/audio/transcriptions") {
                let type = request.headers[.contentType] ?? ""
                // The form's fields around the file take a little room of their own.
                let bytes = try await body(request, limit: service.options.maxBodyBytes + 64 * 1024, deadline: service.options.bodyTimeout)
                let form = try OpenAITranscription(contentType: type, body: bytes)
                let t = try await service.transcribe(form.file, name: form.filename, route: "/v1/audio/transcriptions")
                let (contentType, text) = form.render(t)
                return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
            }
        }
        // A refused stream (server full, bad rate) is upgraded, told why in an error message, and closed.
        router.ws("/v1/stream") { inbound, outbound, context in
            try await LiveStream(service: service, rateParameter: context.request.uri.queryParameters["rate"].map(String.init))
                .run(inbound: inbound, outbound: outbound)
        }
        return router
    }

    /// The application: HTTP/1.1 with WebSocket upgrade on `options.host:port`.
    /// `onRunning` gets the port listened on (useful with port 0).
    public static func application(_ service: RecognitionService, logger: Logger? = nil,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = router(service)
        var webSocket = WebSocketServerConfiguration()
        webSocket.maxFrameSize = service.options.maxMessageBytes
        let ws = webSocket
        var log = logger ?? Logger(label: "hark-serve")
        if logger == nil { log.logLevel = .warning }
        let webSocketResponder = router.buildResponder()
        let head = service.options.headTimeout, answer = service.options.bodyTimeout + service.options.headTimeout
        return Application(router: router,
                           // An HTTP connection idle for a minute after a request is closed; before its
                           // first request head, `ConnectionDeadline` keeps it from lingering.
                           server: HTTPServerBuilder { responder in
                               DeadlineChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                                   configuration: .init(http1: .init(idleTimeout: .seconds(60)), ws: ws)),
                                               headTimeout: .nanoseconds(Int64(head * 1e9)),
                                               answerTimeout: .nanoseconds(Int64(answer * 1e9)))
                           },
                           configuration: .init(address: .hostname(service.options.host, port: service.options.port), serverName: "hark"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? service.options.port) },
                           logger: log)
    }

    /// The PCM rate a stream asks for (default: the model's); nil when it is not one the server takes.
    static func streamRate(_ text: String?, service: RecognitionService) -> Int? {
        guard let text else { return service.sampleRate }
        guard let rate = Int(text), rate >= 8_000, rate <= 192_000 else { return nil }
        return rate
    }

    /// Reads the body up to `limit` bytes (more is a 413) within `deadline`
    /// seconds (a client that trickles its body would otherwise hold its
    /// place in the queue: 408).
    static func body(_ request: Request, limit: Int, deadline: Double) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw ServiceError(413, "too_large", "the body is \(length) bytes; the most this server accepts is \(limit)")
        }
        let body = request.body
        var buffer: ByteBuffer
        do {
            buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(deadline * 1e9))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let collected = first else {
                    throw ServiceError(408, "timeout", "the body did not arrive within \(deadline) s")
                }
                return collected
            }
        } catch let e as ServiceError {
            throw e
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw ServiceError(413, "too_large", "the body is larger than \(limit) bytes, the most this server accepts")
        } catch is NIOTooManyBytesError {
            throw ServiceError(413, "too_large", "the body is larger than \(limit) bytes, the most this server accepts")
        } catch {
            // A broken chunked encoding, or a client that went away mid-body.
            throw ServiceError(400, "bad_body", "the body could not be read: \(error)")
        }
        guard buffer.readableBytes > 0 else { throw ServiceError(400, "bad_request", "the body is empty: send the audio file's bytes") }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Runs a route's work under admission control and turns errors into JSON answers.
    static func answer(_ service: RecognitionService, route: String, _ work: () async throws -> Response) async -> Response {
        let started = Date()
        var response: Response
        if service.requests.enter() {
            defer { service.requests.leave() }
            do {
                response = try await work()
            } catch let e as ServiceError {
                service.metrics.error(route: route, kind: e.kind)
                response = errorResponse(e)
            } catch {
                service.metrics.error(route: route, kind: "internal")
                response = errorResponse(ServiceError(500, "internal", "\(error)"))
            }
        } else {
            service.metrics.error(route: route, kind: "overloaded")
            response = errorResponse(.overloaded("\(service.requests.limit) requests in progress"))
        }
        service.metrics.request(route: route, status: Int(response.status.code))
        service.metrics.latency(route: route, seconds: Date().timeIntervalSince(started))
        return response
    }

    static func errorResponse(_ e: ServiceError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if e.status == 503 { headers[.retryAfter] = "1" }
        let type = e.status >= 500 ? "server_error" : "invalid_request_error"
        let body = ["error": ["message": e.message, "type": type, "code": e.kind]]
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: jsonText(body))))
    }

    static func json(_ object: [String: Any]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jsonText(object))))
    }

    static func jsonText(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The WebSocket protocol of `GET /v1/stream?rate=HZ`:
/// - in: binary messages of little-endian signed 16-bit mono PCM at `rate`
///   (default: the model's); a text message `{"type": "eof"}` ends the stream;
/// - out: text messages, one JSON object each: `{"type": "partial" | "final",
///   "text", "start", "end", "words"}` (`StreamResult`), and `{"type":
///   "error", "error"}` before the server closes a stream it cannot go on with
///   (unknown message, stream too long, idle too long).
/// After `eof` the server sends the last final result and closes normally.
struct LiveStream {
    let service: RecognitionService
    let rateParameter: String?

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let route = "/v1/stream"
        guard let rate = HarkRoutes.streamRate(rateParameter, service: service) else {
            service.metrics.error(route: route, kind: "bad_request")
            service.metrics.request(route: route, status: 400)
            try await fail(outbound, "rate=\(rateParameter ?? ""): the PCM sample rate must be an integer from 8000 to 192000 Hz", code: .policyViolation)
            return
        }
        guard service.streams.enter() else {
            service.metrics.error(route: route, kind: "overloaded")
            service.metrics.request(route: route, status: 503)
            try await fail(outbound, "the server has \(service.streams.limit) streams open, its limit; retry shortly", code: .unknown(1013))  // 1013: try again later
            return
        }
        service.metrics.streamOpened()
        defer {
            service.streams.leave()
            service.metrics.streamClosed()
        }
        let session: StreamSession
        do { session = try StreamSession(service: service, rate: rate) } catch {
            try await fail(outbound, "\(error)", code: .unexpectedServerError)
            return
        }
        let activity = Activity()
        let idle = service.options.idleTimeout
        let maxSamples = Int(service.options.maxStreamSeconds * Double(service.sampleRate))
        var status = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The watchdog: a stream silent for `idle` seconds is closed.
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(nanoseconds: 200_000_000)
                    if activity.secondsSinceLast > idle {
                        service.metrics.error(route: route, kind: "timeout")
                        try? await fail(outbound, "no message for \(idle) s; the stream is closed", code: .policyViolation)
                        return
                    }
                }
            }
            defer { group.cancelAll() }
            var messages = inbound.messages(maxSize: service.options.maxMessageBytes).makeAsyncIterator()
            while let message = try await messages.next() {
                activity.touch()
                switch message {
                case .binary(var buffer):
                    let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                    let started = Date()
                    let results = try await service.pool.run { try session.accept(bytes) }
                    service.metrics.recognised(route: route, audio: Double(bytes.count / 2) / Double(rate),
                                               processing: Date().timeIntervalSince(started))
                    try await send(results, outbound)
                    if session.recognizer.samplesReceived > maxSamples {
                        try await send(try await service.pool.run { try session.finish() }, outbound)
                        service.metrics.error(route: route, kind: "too_large")
                        status = 413
                        try await fail(outbound, "the stream is longer than \(Int(service.options.maxStreamSeconds)) s, the most this server takes", code: .messageTooLarge)
                        return
                    }
                case .text(let text):
                    guard Self.isEOF(text) else {
                        service.metrics.error(route: route, kind: "bad_request")
                        status = 400
                        try await fail(outbound, "unexpected text message (send 16-bit PCM as binary messages and {\"type\": \"eof\"} to end)", code: .unacceptableData)
                        return
                    }
                    try await send(try await service.pool.run { try session.finish() }, outbound)
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
            }
            // The client went away without eof: what it sent is still finalised, for the metrics.
            _ = try? await service.pool.run { try session.finish() }
        }
        service.metrics.request(route: route, status: status)
    }

    static func isEOF(_ text: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return false }
        return object["type"] as? String == "eof"
    }

    func send(_ results: [StreamResult], _ outbound: WebSocketOutboundWriter) async throws {
        for r in results { try await outbound.write(.text(r.jsonLine)) }
    }

    func fail(_ outbound: WebSocketOutboundWriter, _ message: String, code: WebSocketErrorCode) async throws {
        try await outbound.write(.text(HarkRoutes.jsonText(["type": "error", "error": message])))
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

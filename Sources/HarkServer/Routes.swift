import Foundation
import HarkASR
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
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
    /// The request context every route gets.
    public typealias Context = HarkRequestContext

    /// Every route's path and the methods it answers (others get 405 with `Allow`).
    static let methods: [String: [HTTPRequest.Method]] = [
        "/": [.get], "/healthz": [.get], "/metrics": [.get],
        "/v1/transcribe": [.post], "/v1/audio/transcriptions": [.post], "/v1/stream": [.get]
    ]

    /// The router of every route above, answering with `service`.
    public static func router(_ service: RecognitionService) -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: ErrorShape(service: service))
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.index_html)))
        }
        router.get("/healthz") { _, _ in
            json(["status": "ok", "model": service.modelName, "sample_rate": service.sampleRate] as [String: Any])
        }
        router.get("/metrics") { _, _ in
            service.metrics.queued(service.pool.queued)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: service.metrics.render())))
        }
        router.post("/v1/transcribe") { request, _ in
            await answer(service, route: "/v1/transcribe") {
                let type = request.headers[.contentType]?.lowercased() ?? ""
                let base = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard base.isEmpty || base == "application/octet-stream" || base.hasPrefix("audio/") || base.hasPrefix("video/") else {
                    throw ServiceError(
                        415, "unsupported_media_type",
                        "Content-Type \(base) is not audio: send the file's bytes as the body with Content-Type audio/wav (or audio/*, application/octet-stream)"
                    )
                }
                let name = request.uri.queryParameters["name"].map(String.init) ?? "request body"
                let bytes = try await body(request, limit: service.options.maxBodyBytes, deadline: service.options.bodyTimeout)
                let t = try await service.transcribe(bytes, name: name, route: "/v1/transcribe")
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .audioSeconds: String(format: "%.3f", t.duration)],
                    body: .init(byteBuffer: ByteBuffer(string: TranscriptFormat.json.render(t, source: name))))
            }
        }
        router.post("/v1/audio/transcriptions") { request, _ in
            await answer(service, route: "/v1/audio/transcriptions") {
                let type = request.headers[.contentType] ?? ""
                // The form's fields around the file take a little room of their own.
                let bytes = try await body(
                    request, limit: service.options.maxBodyBytes + 64 * 1024, deadline: service.options.bodyTimeout,
                    empty: "the body is empty: send a multipart/form-data form with the audio in its 'file' field")
                let form = try OpenAITranscription(contentType: type, body: bytes)
                if form.stream {
                    // The events outlive this handler: the stream takes its own place among the requests.
                    let recognition = try await service.pool.run {
                        try OpenAIStream.Recognition(service: service, bytes: form.file, name: form.filename)
                    }
                    guard service.requests.enter() else { throw ServiceError.overloaded("\(service.requests.limit) requests in progress") }
                    return OpenAIStream.response(service, recognition, route: "/v1/audio/transcriptions")
                }
                let t = try await service.transcribe(form.file, name: form.filename, route: "/v1/audio/transcriptions")
                let (contentType, text) = form.render(t)
                return Response(
                    status: .ok, headers: [.contentType: contentType, .audioSeconds: String(format: "%.3f", t.duration)],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
            }
        }
        // A refused stream (server full, bad rate) is upgraded, told why in an error message, and closed.
        // A plain GET (no Upgrade header) is told to upgrade: 426.
        router.ws(
            "/v1/stream",
            shouldUpgrade: { request, _ in
                guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                    throw ServiceError(
                        426, "upgrade_required",
                        "/v1/stream is a WebSocket: connect with Upgrade: websocket (see docs/serve.md for the protocol)")
                }
                return .upgrade([:])
            }
        ) { inbound, outbound, context in
            try await LiveStream(
                service: service, rateParameter: context.request.uri.queryParameters["rate"].map(String.init),
                channel: context.requestContext.channel
            )
            .run(inbound: inbound, outbound: outbound)
        }
        return router
    }

    /// The application: HTTP/1.1 with WebSocket upgrade on `options.host:port`.
    /// `onRunning` gets the port listened on (useful with port 0).
    public static func application(
        _ service: RecognitionService, logger: Logger? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = router(service)
        var webSocket = WebSocketServerConfiguration()
        // The decoder's own limit sits above the guard's (`WebSocketFrameGuard`), which answers first.
        webSocket.maxFrameSize = service.options.maxMessageBytes + 1
        // A client that never answers the server's close frame holds its connection (and a
        // graceful shutdown) for 2 s, not the library's 15.
        webSocket.closeTimeout = .seconds(2)
        let ws = webSocket
        var log = logger ?? Logger(label: "hark-serve")
        if logger == nil { log.logLevel = .warning }
        let webSocketResponder = router.buildResponder()
        let head = service.options.headTimeout, answer = service.options.bodyTimeout + service.options.headTimeout
        return Application(
            router: router,
            // An HTTP connection idle for a minute after a request is closed; before its
            // first request head, `ConnectionDeadline` keeps it from lingering.
            server: HTTPServerBuilder { responder in
                DeadlineChannel(
                    inner: HTTP1WebSocketUpgradeChannel(
                        responder: responder, webSocketResponder: webSocketResponder,
                        configuration: .init(http1: .init(idleTimeout: .seconds(60)), ws: ws)),
                    headTimeout: .nanoseconds(Int64(head * 1e9)),
                    answerTimeout: .nanoseconds(Int64(answer * 1e9)),
                    maxFrameBytes: service.options.maxMessageBytes)
            },
            configuration: .init(address: .hostname(service.options.host, port: service.options.port), serverName: "hark"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? service.options.port) },
            logger: log)
    }

    /// The PCM rate a stream asks for (default: the model's); nil when it is not one the server takes.
    static func streamRate(_ text: String?, service: RecognitionService) -> Int? {
        guard let text else { return service.sampleRate }
        guard let rate = Int(text), ServerOptions.streamRates.contains(rate) else { return nil }
        return rate
    }

    /// Reads the body up to `limit` bytes (more is a 413) within `deadline`
    /// seconds (a client that trickles its body would otherwise hold its
    /// place in the queue: 408).
    static func body(
        _ request: Request, limit: Int, deadline: Double,
        empty: String = "the body is empty: send the audio file's bytes"
    ) async throws -> [UInt8] {
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
        } catch let e as HTTPParserError {
            // A broken chunked encoding.
            throw ServiceError(400, "bad_body", "the body could not be read: \(e)")
        } catch {
            // The client went away mid-body: nobody reads the answer; it is counted apart from bad bodies.
            throw ServiceError(400, "client_closed", "the connection closed before the body ended (\(error))")
        }
        guard buffer.readableBytes > 0 else { throw ServiceError(400, "bad_request", empty) }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Runs a route's work under admission control and turns errors into JSON answers.
    static func answer(
        _ service: RecognitionService, route: String,
        _ work: () async throws -> Response
    ) async -> Response {
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

    static func errorResponse(_ e: ServiceError, allow: [HTTPRequest.Method] = []) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if e.status == 503 { headers[.retryAfter] = "1" }
        if !allow.isEmpty { headers[.allow] = allow.map(\.rawValue).joined(separator: ", ") }
        if e.status == 426 { headers[.upgrade] = "websocket" }
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

/// The request context of every route: Hummingbird's, and the connection's
/// channel, which a stalled stream closes directly (`LiveStream`).
public struct HarkRequestContext: RequestContext, WebSocketRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The WebSocket upgrade's handler, for `/v1/stream`.
    public let webSocket: WebSocketHandlerReference<Self>
    /// The request's connection.
    public let channel: any Channel

    /// The context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// Errors in one shape on every route: a `ServiceError` thrown outside
/// `answer` (the stream route's upgrade check), a path the server does not
/// have (404) and a method a path does not take (405 with `Allow`), each as
/// JSON `{"error": {"message", "type", "code"}}`. Every answer then goes to
/// the access log, but an accepted stream's: the stream logs itself when it ends.
struct ErrorShape: RouterMiddleware {
    typealias Context = HarkRequestContext
    let service: RecognitionService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = Date()
        let response = try await shaped(request, context: context, next: next)
        if let log = service.accessLog, !(request.uri.path == "/v1/stream" && response.status.code < 300) {
            log(
                AccessRecord(
                    method: request.method.rawValue, route: String(request.uri.path.prefix(200)),
                    status: Int(response.status.code), seconds: Date().timeIntervalSince(started),
                    audioSeconds: response.headers[.audioSeconds].flatMap(Double.init)))
        }
        return response
    }

    private func shaped(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        do {
            return try await next(request, context)
        } catch let e as ServiceError {
            service.metrics.error(route: HarkRoutes.methods[path] == nil ? "other" : path, kind: e.kind)
            return HarkRoutes.errorResponse(e)
        } catch let e as HTTPError where e.status == .notFound || e.status == .methodNotAllowed {
            guard let allowed = HarkRoutes.methods[path] else {
                return HarkRoutes.errorResponse(
                    ServiceError(
                        404, "not_found",
                        "no route \(path.prefix(200)): the routes are \(HarkRoutes.methods.keys.sorted().joined(separator: ", "))"))
            }
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            return HarkRoutes.errorResponse(
                ServiceError(405, "method_not_allowed", "\(path) takes \(names), not \(request.method.rawValue)"), allow: allowed)
        }
    }
}

extension HTTPFields.Element.Name {
    /// The seconds of audio an answer recognised (also read by the access log).
    static let audioSeconds = HTTPFields.Element.Name("X-Audio-Seconds")!
}

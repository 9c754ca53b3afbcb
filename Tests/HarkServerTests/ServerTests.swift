import Foundation
import HarkASR
import HarkAudio
import HarkTestSupport
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import XCTest

@testable import HarkServer

/// Every route of `hark serve` on a live loopback server, good input and bad.
final class ServerTests: XCTestCase {
    static let model = try! AcousticModel.load(directory: repositoryRoot.appendingPathComponent("models/an4-blstm"))
    static let wav = try! [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav")))

    func service(_ configure: (inout ServerOptions) -> Void = { _ in }) throws -> RecognitionService {
        var options = ServerOptions()
        options.port = 0
        options.workers = 2
        configure(&options)
        return try RecognitionService(transcriber: Transcriber(model: Self.model), modelName: "an4-blstm", options: options)
    }

    func object(_ body: ByteBuffer) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], String(buffer: body))
    }

    func errorMessage(_ body: ByteBuffer) throws -> String {
        let error = try XCTUnwrap(try object(body)["error"] as? [String: Any])
        return try XCTUnwrap(error["message"] as? String)
    }

    func form(_ fields: [(String, String?, [UInt8])], boundary: String = "hark-test-boundary") -> ByteBuffer {
        var body: [UInt8] = []
        for (name, filename, value) in fields {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { head += "; filename=\"\(filename)\"\r\nContent-Type: audio/wav" }
            head += "\r\n\r\n"
            body += Array(head.utf8) + value + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: body)
    }

    func testPageHealthAndMetrics() async throws {
        let service = try service()
        try await HarkRoutes.application(service).test(.live) { client in
            try await client.execute(uri: "/", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual(r.headers[.contentType], "text/html; charset=utf-8")
                let page = String(buffer: r.body)
                XCTAssertTrue(page.contains("<html"))
                XCTAssertTrue(page.contains("/v1/stream"))
                XCTAssertFalse(page.contains("https://"), "the page is self-contained")
            }
            try await client.execute(uri: "/healthz", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let o = try self.object(r.body)
                XCTAssertEqual(o["status"] as? String, "ok")
                XCTAssertEqual(o["sample_rate"] as? Int, 16_000)
            }
            try await client.execute(
                uri: "/v1/transcribe", method: .post, headers: [.contentType: "audio/wav"], body: ByteBuffer(bytes: Self.wav))
            try await client.execute(uri: "/metrics", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let text = String(buffer: r.body)
                XCTAssertTrue(text.contains(#"hark_requests_total{route="/v1/transcribe",status="200"} 1"#), text)
                XCTAssertTrue(text.contains(#"hark_audio_seconds_total{route="/v1/transcribe"} 1.5"#), text)
                XCTAssertTrue(text.contains("hark_real_time_factor_bucket"), text)
                XCTAssertTrue(text.contains("hark_open_streams 0"), text)
            }
        }
    }

    func testTranscribeAnswersAsTheCommandLinePrints() async throws {
        let service = try service()
        let expected = try Transcriber(model: Self.model).transcribe(
            path: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path
        ).0
        try await HarkRoutes.application(service).test(.live) { client in
            for type in ["audio/wav", "application/octet-stream", "audio/x-wav; codecs=1"] {
                try await client.execute(
                    uri: "/v1/transcribe?name=sample.wav", method: .post, headers: [.contentType: type],
                    body: ByteBuffer(bytes: Self.wav)
                ) { r in
                    XCTAssertEqual(r.status, .ok, String(buffer: r.body))
                    XCTAssertEqual(String(buffer: r.body), TranscriptFormat.json.render(expected, source: "sample.wav"))
                }
            }
        }
    }

    func testTranscribeRejectsBadInput() async throws {
        let service = try service { $0.maxBodyBytes = 64 * 1024 }
        try await HarkRoutes.application(service).test(.live) { client in
            let cases: [(HTTPFields, [UInt8], HTTPResponse.Status, String)] = [
                ([.contentType: "audio/wav"], Array("RIFF not really a wave file".utf8), .badRequest, "request body"),
                ([.contentType: "audio/wav"], Array(Self.wav.prefix(1000)), .badRequest, "truncated"),
                ([.contentType: "text/plain"], Self.wav, .unsupportedMediaType, "text/plain"),
                ([.contentType: "application/x-www-form-urlencoded"], Self.wav, .unsupportedMediaType, "audio/wav"),
                ([.contentType: "audio/wav"], [], .badRequest, "empty"),
                ([.contentType: "audio/wav"], [UInt8](repeating: 0, count: 65 * 1024), .contentTooLarge, "65536")
            ]
            for (headers, body, status, needle) in cases {
                try await client.execute(uri: "/v1/transcribe", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { r in
                    XCTAssertEqual(r.status, status, String(buffer: r.body))
                    XCTAssertEqual(r.headers[.contentType], "application/json")
                    XCTAssertTrue(try self.errorMessage(r.body).contains(needle), String(buffer: r.body))
                }
            }
            // The server is still answering.
            try await client.execute(uri: "/v1/transcribe", method: .post, body: ByteBuffer(bytes: Self.wav)) { r in
                XCTAssertEqual(r.status, .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                XCTAssertTrue(text.contains(#"hark_errors_total{route="/v1/transcribe",kind="bad_audio"} 2"#), text)
                XCTAssertTrue(text.contains(#"hark_errors_total{route="/v1/transcribe",kind="too_large"} 1"#), text)
            }
        }
    }

    func testSlowChunkedAndOverlongBodies() async throws {
        let service = try self.service {
            $0.bodyTimeout = 0.5; $0.maxBodyBytes = 64 * 1024
        }
        try await HarkRoutes.application(service).test(.live) { client in
            // A body that never finishes arriving (a raw socket: the test client sends whole bodies):
            // 408 after the deadline, and its place is freed.
            let started = Date()
            let answer = try Self.rawExchange(
                port: try XCTUnwrap(client.port),
                "POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nContent-Length: 50000\r\n\r\nRIFF")
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 408"), answer)
            XCTAssertTrue(answer.contains("did not arrive within 0.5 s"), answer)
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)
            // Chunked: over the limit is a 413, a broken chunk size a 400, both JSON.
            let big = String(repeating: "a", count: 70_000)
            let over = try Self.rawExchange(
                port: try XCTUnwrap(client.port),
                "POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + String(big.utf8.count, radix: 16) + "\r\n" + big + "\r\n0\r\n\r\n")
            XCTAssertTrue(over.hasPrefix("HTTP/1.1 413") && over.contains("larger than 65536 bytes"), over)
            let broken = try Self.rawExchange(
                port: try XCTUnwrap(client.port),
                "POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            )
            XCTAssertTrue(broken.isEmpty || broken.hasPrefix("HTTP/1.1 400"), broken)
            XCTAssertEqual(service.requests.current, 0)
        }
        // A recording longer than --max-audio by its header: refused before decoding.
        let short = try self.service { $0.maxAudioSeconds = 1 }
        try await HarkRoutes.application(short).test(.live) { client in
            let long = try await client.execute(
                uri: "/v1/transcribe", method: .post, headers: [.contentType: "audio/wav"],
                body: ByteBuffer(bytes: Self.wav))
            XCTAssertEqual(long.status, .contentTooLarge)
            XCTAssertTrue(try self.errorMessage(long.body).contains("1 s long by its header"), String(buffer: long.body))
        }
    }

    /// Sends `request` on a new connection and reads the answer (up to 5 s).
    static func rawExchange(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    /// Connections that never send a whole request head are closed (they would otherwise hold their sockets).
    func testConnectionsWithoutARequestHeadAreClosed() async throws {
        let service = try service {
            $0.headTimeout = 0.5; $0.bodyTimeout = 0.5
        }
        try await HarkRoutes.application(service).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            for request in ["", "POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-", "FOO / HTTP/1.1\r\n\r\n"] {
                let started = Date()
                let answer = try Self.rawExchange(port: port, request)
                XCTAssertFalse(answer.hasPrefix("HTTP/1.1 2"), answer)
                XCTAssertLessThan(Date().timeIntervalSince(started), 4.5, "closed, not left to the 5 s read timeout: \(request)")
            }
            // Still answering (on a new connection: the test client's own idle one was closed too).
            XCTAssertTrue(try Self.rawExchange(port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        }
    }

    func testOverloadAnswers503WithRetryAfter() async throws {
        let service = try service {
            $0.workers = 1; $0.queueLimit = 0
        }
        try await HarkRoutes.application(service).test(.live) { client in
            XCTAssertTrue(service.requests.enter())  // a request in progress takes the only place
            try await client.execute(uri: "/v1/transcribe", method: .post, body: ByteBuffer(bytes: Self.wav)) { r in
                XCTAssertEqual(r.status, .serviceUnavailable)
                XCTAssertEqual(r.headers[.retryAfter], "1")
                XCTAssertTrue(try self.errorMessage(r.body).contains("busy"))
            }
            service.requests.leave()
            try await client.execute(uri: "/v1/transcribe", method: .post, body: ByteBuffer(bytes: Self.wav)) { r in
                XCTAssertEqual(r.status, .ok)
            }
        }
    }

    func testOpenAICompatibleForm() async throws {
        let service = try service()
        let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=hark-test-boundary"]
        try await HarkRoutes.application(service).test(.live) { client in
            func post(_ fields: [(String, String?, [UInt8])], _ check: @escaping (TestResponse) throws -> Void) async throws {
                try await client.execute(uri: "/v1/audio/transcriptions", method: .post, headers: headers, body: form(fields)) {
                    try check($0)
                }
            }
            let file: (String, String?, [UInt8]) = ("file", "an52.wav", Self.wav)
            try await post([("model", nil, Array("whisper-1".utf8)), file]) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual(String(buffer: r.body), #"{"text":"ENTER SEVEN"}"#)
            }
            try await post([file, ("response_format", nil, Array("text".utf8))]) { r in
                XCTAssertEqual(String(buffer: r.body), "ENTER SEVEN\n")
            }
            try await post([file, ("response_format", nil, Array("srt".utf8))]) { r in
                // One cue: the words' span within the recording's 1.5 s.
                let body = String(buffer: r.body)
                XCTAssertTrue(body.hasPrefix("1\n00:00:0"), body)
                XCTAssertTrue(body.contains(" --> 00:00:01,"), body)
                XCTAssertTrue(body.hasSuffix("\nENTER SEVEN\n"), body)
            }
            try await post([file, ("response_format", nil, Array("vtt".utf8))]) { r in
                XCTAssertTrue(String(buffer: r.body).hasPrefix("WEBVTT\n\n"))
            }
            try await post([
                file, ("response_format", nil, Array("verbose_json".utf8)),
                ("timestamp_granularities[]", nil, Array("word".utf8))
            ]) { r in
                let o = try self.object(r.body)
                XCTAssertEqual(o["text"] as? String, "ENTER SEVEN")
                XCTAssertEqual(o["duration"] as? Double, 1.5)
                let words = try XCTUnwrap(o["words"] as? [[String: Any]])
                XCTAssertEqual(words.map { $0["word"] as? String }, ["ENTER", "SEVEN"])
                for w in words { XCTAssertTrue((w["start"] as! Double) < (w["end"] as! Double) && (w["end"] as! Double) <= 1.5) }
            }
            try await post([("model", nil, Array("x".utf8))]) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("'file'"))
            }
            try await post([file, ("response_format", nil, Array("xml".utf8))]) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("xml"))
            }
            try await post([("file", "broken.wav", Array("not audio".utf8))]) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("broken.wav"))
            }
            try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post, headers: [.contentType: "multipart/form-data"], body: form([file])
            ) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("boundary"))
            }
            try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post, headers: [.contentType: "audio/wav"], body: ByteBuffer(bytes: Self.wav)
            ) { r in
                XCTAssertEqual(r.status, .unsupportedMediaType)
            }
            // A form cut short, a boundary that does not match the body's, and no body: each says which.
            let whole = form([file])
            let cut = ByteBuffer(bytes: whole.getBytes(at: 0, length: whole.readableBytes - 30)!)
            try await client.execute(uri: "/v1/audio/transcriptions", method: .post, headers: headers, body: cut) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("truncated"), String(buffer: r.body))
            }
            try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=other"], body: whole
            ) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("no part delimited by the boundary"), String(buffer: r.body))
            }
            try await client.execute(uri: "/v1/audio/transcriptions", method: .post, headers: headers, body: ByteBuffer()) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(try self.errorMessage(r.body).contains("'file' field"), String(buffer: r.body))
            }
            // A byte above 127 in a part's header name (MultipartKit would trap on it and
            // end the server; found by the multipart fuzz target): refused, and the next form is answered.
            var bytes = whole.getBytes(at: 0, length: whole.readableBytes)!
            let at = try XCTUnwrap((0..<bytes.count).first { bytes[$0...].starts(with: Array("Content-Disposition".utf8)) }) + 4
            bytes[at] = 0xF4
            try await client.execute(uri: "/v1/audio/transcriptions", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) {
                r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(
                    try self.errorMessage(r.body).contains("header name holds the byte 0xF4 at offset \(at)"), String(buffer: r.body))
            }
            try await post([file]) { r in XCTAssertEqual(r.status, .ok) }
        }
    }

    /// stream=true: server-sent events, a delta per utterance as its pause is
    /// heard, then the whole text; the same text as without streaming.
    func testOpenAIStreamingSendsDeltasThenTheText() async throws {
        let service = try service()
        let session = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent("audio/mmaf-session.wav")))
        let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=hark-test-boundary"]
        try await HarkRoutes.application(service).test(.live) { client in
            let plain = try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post, headers: headers,
                body: self.form([("file", "session.wav", session)]))
            let text = try XCTUnwrap(try self.object(plain.body)["text"] as? String)
            let streamed = try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post, headers: headers,
                body: self.form([("file", "session.wav", session), ("stream", nil, Array("true".utf8))]))
            XCTAssertEqual(streamed.status, .ok)
            XCTAssertEqual(streamed.headers[.contentType], "text/event-stream")
            let events = String(buffer: streamed.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }.map {
                event -> [String: Any] in
                XCTAssertTrue(event.hasPrefix("data: "), event)
                return (try? JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any]) ?? [:]
            }
            let deltas = events.filter { $0["type"] as? String == "transcript.text.delta" }.compactMap { $0["delta"] as? String }
            XCTAssertEqual(deltas.count, 3, "one per utterance of the session")
            XCTAssertEqual(deltas.joined(), text)
            XCTAssertEqual(events.last?["type"] as? String, "transcript.text.done")
            XCTAssertEqual(events.last?["text"] as? String, text)
            // The place is given back when the response body's writer returns, which can be
            // just after the client has read the last event: wait up to 2 s for it.
            for _ in 0..<200 where service.requests.current != 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            XCTAssertEqual(service.requests.current, 0, "the stream left its place")
        }
    }

    /// 16-bit little-endian PCM of `samples`, in messages of `chunk` samples.
    func pcm(_ samples: [Float], chunk: Int) -> [ByteBuffer] {
        stride(from: 0, to: samples.count, by: chunk).map { lo in
            var bytes: [UInt8] = []
            for x in samples[lo..<min(samples.count, lo + chunk)] {
                let v = UInt16(bitPattern: Int16(max(-32768, min(32767, (x * 32768).rounded()))))
                bytes += [UInt8(v & 0xFF), UInt8(v >> 8)]
            }
            return ByteBuffer(bytes: bytes)
        }
    }

    func testWebSocketStreamGivesWhatTheRecognizerGives() async throws {
        let service = try service()
        let speech = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        let samples = [Float](repeating: 0, count: 8000) + speech + [Float](repeating: 0, count: 24_000) + speech
        // What the library gives for the same 16-bit samples.
        let quantised = samples.map { Float(Int16(max(-32768, min(32767, ($0 * 32768).rounded())))) / 32768 }
        let recognizer = try StreamingRecognizer(transcriber: service.transcriber)
        let expected = (recognizer.accept(quantised) + recognizer.finish()).map(\.jsonLine)
        XCTAssertEqual(expected.filter { $0.contains(#""type":"final""#) }.count, 2)

        final class Box: @unchecked Sendable { var lines: [String] = [] }
        let got = Box()
        try await HarkRoutes.application(service).test(.live) { client in
            try await client.ws("/v1/stream?rate=16000") { inbound, outbound, _ in
                // An odd-sized first message: a sample may straddle two messages.
                var messages = self.pcm(samples, chunk: 1600)
                var first = messages.removeFirst()
                var second = messages.removeFirst()
                let byte = first.readSlice(length: first.readableBytes - 1)!
                var rest = first; rest.moveReaderIndex(forwardBy: 0)
                try await outbound.write(.binary(byte))
                var joined = ByteBuffer(bytes: rest.readBytes(length: rest.readableBytes)!)
                joined.writeBuffer(&second)
                try await outbound.write(.binary(joined))
                for m in messages { try await outbound.write(.binary(m)) }
                try await outbound.write(.text(#"{"type": "eof"}"#))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let t) = message { got.lines.append(t) }
                }
            }
        }
        XCTAssertEqual(got.lines, expected)
    }

    func testWebSocketBadInputAndLimits() async throws {
        let service = try service { $0.idleTimeout = 0.5 }
        final class Box: @unchecked Sendable { var lines: [String] = [] }
        try await HarkRoutes.application(service).test(.live) { client in
            // A text message that is not eof.
            let a = Box()
            let close = try await client.ws("/v1/stream") { inbound, outbound, _ in
                try await outbound.write(.text("hello"))
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { a.lines.append(t) } }
            }
            XCTAssertEqual(a.lines.count, 1)
            XCTAssertTrue(a.lines[0].contains(#""type":"error""#) && a.lines[0].contains("unexpected text message"), "\(a.lines)")
            XCTAssertEqual(close?.closeCode, .unacceptableData)

            // Silence from the client: closed after the idle timeout.
            let b = Box()
            let started = Date()
            _ = try await client.ws("/v1/stream") { inbound, _, _ in
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { b.lines.append(t) } }
            }
            XCTAssertTrue(b.lines.first?.contains("no message for 0.5 s") ?? false, "\(b.lines)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)

            // A bad rate, and a full server: told why, then closed.
            let c = Box()
            let badRate = try await client.ws("/v1/stream?rate=12") { inbound, _, _ in
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { c.lines.append(t) } }
            }
            XCTAssertTrue(c.lines.first?.contains("rate=12: the PCM sample rate must be") ?? false, "\(c.lines)")
            XCTAssertEqual(badRate?.closeCode, .policyViolation)
            // The idle stream's slot is freed once its close handshake ends (the client may return first).
            let closing = Date()
            while service.streams.current > 0 && Date().timeIntervalSince(closing) < 5 { try await Task.sleep(nanoseconds: 50_000_000) }
            for _ in 0..<service.streams.limit { XCTAssertTrue(service.streams.enter()) }
            let d = Box()
            let full = try await client.ws("/v1/stream") { inbound, _, _ in
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { d.lines.append(t) } }
            }
            XCTAssertTrue(d.lines.first?.contains("streams open, its limit") ?? false, "\(d.lines)")
            XCTAssertEqual(full?.closeCode, .unknown(1013))
            for _ in 0..<service.streams.limit { service.streams.leave() }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                XCTAssertTrue(text.contains(#"hark_errors_total{route="/v1/stream",kind="timeout"} 1"#), text)
                XCTAssertTrue(text.contains(#"hark_errors_total{route="/v1/stream",kind="overloaded"} 1"#), text)
            }
        }
    }

    /// A request head the HTTP parser refuses gets its status and a JSON
    /// error at once, not a silent close after the connection's deadline.
    func testMalformedRequestHeadsAreAnswered() async throws {
        let service = try service()
        try await HarkRoutes.application(service).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let heads: [(String, String)] = [
                ("POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"),
                ("POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd", "400"),
                ("POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\nabcd", "400"),
                ("POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nabcd", "400"),
                ("GARBAGE\r\n\r\n", "400"),
                ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", "400"),
                ("GET / HTTP/1.1\r\nHo st: x\r\n\r\n", "400"),
                ("GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
                ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 100_000) + "\r\n\r\n", "431"),
                ("GET /healthz HTTP/1.1\r\nHost: x\r\n" + (0..<10_000).map { "X-\($0): y\r\n" }.joined() + "\r\n", "431")
            ]
            for (head, status) in heads {
                let started = Date()
                let fd = try RawSocket.connect(port: port)
                defer { close(fd) }
                RawSocket.sendAll(fd, Array(head.utf8))
                let answer = String(decoding: RawSocket.readToEnd(fd), as: UTF8.self)
                XCTAssertTrue(answer.hasPrefix("HTTP/1.1 \(status)"), "\(head.prefix(80)): \(answer.prefix(200))")
                let body = try XCTUnwrap(answer.components(separatedBy: "\r\n\r\n").last)
                XCTAssertNotNil(try self.errorMessage(ByteBuffer(string: body)), body)
                XCTAssertLessThan(Date().timeIntervalSince(started), 3, "answered at once: \(head.prefix(80))")
            }
            XCTAssertTrue(try Self.rawExchange(port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        }
    }

    /// A method a route does not take is a 405 with Allow, an unknown path a
    /// 404, and the stream route without Upgrade a 426: all JSON.
    func testWrongMethodsAndPathsAnswerJSON() async throws {
        let service = try service()
        try await HarkRoutes.application(service).test(.live) { client in
            for (method, uri, status) in [
                (HTTPRequest.Method.head, "/healthz", 405), (.options, "/v1/transcribe", 405), (.put, "/healthz", 405),
                (.get, "/v1/audio/transcriptions", 405), (.get, "/nowhere", 404), (.get, "/v1/stream", 426)
            ] {
                try await client.execute(uri: uri, method: method) { r in
                    XCTAssertEqual(Int(r.status.code), status, "\(method) \(uri)")
                    XCTAssertEqual(r.headers[.contentType], "application/json")
                    if method != .head { XCTAssertFalse(try self.errorMessage(r.body).isEmpty) }
                    if status == 405 { XCTAssertNotNil(r.headers[.allow]) }
                }
            }
        }
    }

    /// A client that stops reading and never answers the close cannot hold
    /// its stream slot: the stream is closed after the idle timeout and the
    /// next client gets the slot.
    func testAClientThatStopsReadingLosesItsSlot() async throws {
        let service = try service {
            $0.idleTimeout = 0.5; $0.maxStreams = 1
        }
        let speech = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        try await HarkRoutes.application(service).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let fd = try RawSocket.webSocket(port: port, receiveBuffer: 4096)
            defer { close(fd) }
            for m in self.pcm(speech + speech + speech, chunk: 1600) {
                RawSocket.sendAll(fd, RawSocket.clientFrame(0x2, m.getBytes(at: 0, length: m.readableBytes)!))
            }
            // Neither reads nor sends: the slot is freed within the idle timeout and the close's grace.
            let started = Date()
            while service.streams.current > 0 && Date().timeIntervalSince(started) < 10 { try await Task.sleep(nanoseconds: 100_000_000) }
            XCTAssertEqual(service.streams.current, 0, "the silent client's slot is freed")
            XCTAssertLessThan(Date().timeIntervalSince(started), 6)
            let lines = Box()
            _ = try await client.ws("/v1/stream") { inbound, outbound, _ in
                for m in self.pcm(speech, chunk: 1600) { try await outbound.write(.binary(m)) }
                try await outbound.write(.text(#"{"type": "eof"}"#))
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { lines.lines.append(t) } }
            }
            XCTAssertTrue(lines.lines.last?.contains(#""type":"final""#) ?? false, "\(lines.lines)")
        }
    }

    final class Box: @unchecked Sendable { var lines: [String] = [] }

    /// A frame over the message limit, or a client frame without a mask, is
    /// answered with an error message and a close frame with its code and
    /// reason, delivered even while the client is still sending.
    func testOversizedAndUnmaskedFramesAreToldWhy() async throws {
        let service = try service { $0.maxMessageBytes = 64 * 1024 }
        try await HarkRoutes.application(service).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            for (frame, code, phrase) in [
                (RawSocket.clientFrame(0x2, [UInt8](repeating: 0, count: 200_000)), 1009, "larger than 65536"),
                (RawSocket.clientFrame(0x2, [0, 0, 0, 0], mask: nil), 1002, "must be masked")
            ] {
                let fd = try RawSocket.webSocket(port: port)
                defer { close(fd) }
                RawSocket.sendAll(fd, frame)
                let frames = RawSocket.serverFrames(RawSocket.readToEnd(fd))
                XCTAssertEqual(frames.map(\.0), [0x1, 0x8], phrase)
                guard frames.count == 2 else { continue }
                XCTAssertTrue(String(decoding: frames[0].1, as: UTF8.self).contains(phrase), String(decoding: frames[0].1, as: UTF8.self))
                XCTAssertEqual(Int(frames[1].1[0]) << 8 | Int(frames[1].1[1]), code)
                XCTAssertGreaterThan(frames[1].1.count, 2, "the close has a reason")
            }
        }
    }

    /// The stream protocol without a socket (what the fuzz target drives):
    /// the server's messages for a client's bytes are those of a live stream.
    func testStreamProtocolHarnessGivesTheStreamsMessages() throws {
        let service = try service()
        let speech = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        var bytes: [UInt8] = []
        for m in pcm(speech, chunk: 1600) { bytes += RawSocket.clientFrame(0x2, m.getBytes(at: 0, length: m.readableBytes)!) }
        bytes += RawSocket.clientFrame(0x1, Array(#"{"type": "eof"}"#.utf8))
        let outcome = StreamProtocolHarness.run(bytes, service: service)
        XCTAssertNil(outcome.refusal)
        XCTAssertTrue(outcome.messages.last?.contains(#""text":"ENTER SEVEN""#) ?? false, "\(outcome.messages)")
        let unmasked = StreamProtocolHarness.run(RawSocket.clientFrame(0x2, [0, 0], mask: nil), service: service)
        XCTAssertTrue(unmasked.refusal?.contains("must be masked") ?? false, "\(String(describing: unmasked.refusal))")
    }

    /// A stream that goes idle after speech gets its last final before the error and the close.
    func testIdleStreamGetsItsLastFinal() async throws {
        let service = try service { $0.idleTimeout = 0.5 }
        let speech = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        let lines = Box()
        try await HarkRoutes.application(service).test(.live) { client in
            _ = try await client.ws("/v1/stream") { inbound, outbound, _ in
                for m in self.pcm(speech, chunk: 1600) { try await outbound.write(.binary(m)) }
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { lines.lines.append(t) } }
            }
        }
        let finals = lines.lines.filter { $0.contains(#""type":"final""#) }
        XCTAssertEqual(finals.count, 1, "\(lines.lines)")
        XCTAssertTrue(finals.first?.contains("ENTER SEVEN") ?? false)
        XCTAssertTrue(lines.lines.last?.contains("no message for 0.5 s") ?? false)
    }

    func testOptionsAreChecked() {
        for configure: (inout ServerOptions) -> Void in [
            { $0.port = 70_000 }, { $0.workers = 0 }, { $0.idleTimeout = .nan },
            { $0.maxBodyBytes = 10 }, { $0.streaming.partialInterval = 0 },
            { $0.maxStreamSeconds = 1e300 }, { $0.headTimeout = -1 }, { $0.bodyTimeout = .nan }
        ] {
            var o = ServerOptions()
            configure(&o)
            XCTAssertThrowsError(try o.validate())
        }
    }
}

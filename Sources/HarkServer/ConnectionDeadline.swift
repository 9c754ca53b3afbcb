import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// A connection must send a complete request head (the blank line after the
/// headers) within `headTimeout` seconds of being accepted, and must then be
/// answered (or upgraded) within `answerTimeout` more seconds (the body
/// timeout and the head timeout); otherwise it is closed. Hummingbird's own idle timeout only starts once a
/// first request has been parsed, so without this a client that connects and
/// sends nothing, trickles its headers, or sends a head the parser rejects,
/// would hold its socket forever (and enough of them, every file descriptor).
///
/// The handler sits first in the pipeline, on the raw bytes, and leaves it
/// at the first response byte.
final class ConnectionDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let headTimeout: TimeAmount
    let answerTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// The last bytes seen, to find "\r\n\r\n" across reads.
    private var tail: [UInt8] = []
    private var headSeen = false
    /// Bytes of the request line so far (up to its line feed), and whether it has ended.
    private var requestLineBytes = 0
    private var requestLineEnded = false
    private var context: ChannelHandlerContext?

    /// The longest request line (method, URL, version) the server reads.
    static let maxRequestLine = 8 * 1024

    init(headTimeout: TimeAmount, answerTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.answerTimeout = answerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        schedule(context, after: headTimeout)
    }
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) { loopBound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headSeen {
            let buffer = unwrapInboundIn(data)
            if !requestLineEnded {
                if let lf = buffer.readableBytesView.firstIndex(of: 10) {
                    requestLineBytes += lf - buffer.readableBytesView.startIndex
                    requestLineEnded = true
                } else {
                    requestLineBytes += buffer.readableBytes
                }
            }
            tail += buffer.readableBytesView
            if tail.count > 3
                && tail.indices.dropLast(3).contains(where: {
                    tail[$0] == 13 && tail[$0 + 1] == 10 && tail[$0 + 2] == 13 && tail[$0 + 3] == 10
                })
            {
                headSeen = true
                schedule(context, after: answerTimeout)
            }
            tail = Array(tail.suffix(3))
        }
        context.fireChannelRead(data)
    }

    /// Answers a request head the HTTP parser refused (`error`) with its
    /// status and a JSON body, then closes: 414 for a request line over
    /// `maxRequestLine`, 431 for headers over the parser's limits, 400 for
    /// anything else malformed (Content-Length with Transfer-Encoding, two
    /// lengths, a bad request line or header, bare line feeds).
    func refuse(_ error: Error) {
        guard let context else { return }
        timer?.cancel()
        let (status, reason, message): (Int, String, String)
        let text = "\(error)"
        if requestLineBytes > Self.maxRequestLine {
            (status, reason, message) = (
                414, "URI Too Long", "the request line is over \(Self.maxRequestLine) bytes, the most this server reads"
            )
        } else if error as? HTTPParserError == .headerOverflow {
            (status, reason, message) = (431, "Request Header Fields Too Large", "the request's headers are larger than this server reads")
        } else {
            (status, reason, message) = (
                400, "Bad Request",
                "the request head is malformed (\(text)): send HTTP/1.1 with CRLF line ends, one Content-Length or Transfer-Encoding: chunked"
            )
        }
        let body = HarkRoutes.jsonText(["error": ["message": message, "type": "invalid_request_error", "code": "bad_request"]])
        let head =
            "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        LingeringClose.send(ByteBuffer(string: head + body), context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        timer?.cancel()
        timer = nil
        context.write(data, promise: promise)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}

/// HTTP/1.1 with WebSocket upgrade, each connection first under a `ConnectionDeadline` and a `WebSocketFrameGuard`.
struct DeadlineChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel
    let headTimeout: TimeAmount
    let answerTimeout: TimeAmount
    let maxFrameBytes: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionDeadline(headTimeout: headTimeout, answerTimeout: answerTimeout))
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard(maxFrameBytes: maxFrameBytes))
        }.flatMap { inner.setup(channel: channel, logger: logger) }.flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(HeadErrorAnswer(), position: .after(decoder))
            return value
        }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        // Hummingbird logs every connection that ends before a request head (closed by the
        // deadline, refused by `HeadErrorAnswer`) as an error; they are the client's doing.
        var quiet = logger
        quiet.logLevel = .critical
        await inner.handle(value: value, logger: quiet)
    }
}

/// Sits after the HTTP request decoder and answers a first request head it
/// refused (`ConnectionDeadline.refuse`): without it the connection would
/// get no status and wait for the deadline. Errors once a head has been
/// parsed (a broken chunked body) are the route's to answer.
final class HeadErrorAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private var headParsed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        // The first head parsed: its work is done (after an upgrade, WebSocket frames would pass here).
        if !headParsed {
            headParsed = true
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !headParsed, error is HTTPParserError,
            let deadline = try? context.pipeline.syncOperations.handler(type: ConnectionDeadline.self)
        {
            deadline.refuse(error)
        }
        context.fireErrorCaught(error)
    }
}

/// Sends a last answer and closes without losing it: the write side is shut
/// (FIN) once the answer is flushed, what the client still sends is read and
/// dropped for up to two seconds, then the connection is closed. Closing at
/// once with unread bytes in the socket would send a reset that can destroy
/// the answer before the client reads it.
enum LingeringClose {
    static func send(_ answer: ByteBuffer, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let channel = context.channel
        context.writeAndFlush(NIOAny(answer)).whenComplete { _ in
            loopBound.value.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }
}

/// Guards a WebSocket connection's frames before the protocol decoder sees
/// them (installed on every connection; it watches from the `101 Switching
/// Protocols` answer on). A frame larger than the message limit, or a
/// client frame without a mask (RFC 6455 §5.1), gets an error message and a
/// close frame with the code and reason (1009, 1002), and the connection is
/// closed without a reset; the decoder would otherwise close with no
/// message, and accept unmasked frames.
final class WebSocketFrameGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let maxFrameBytes: Int
    private var upgraded = false
    private var refused = false
    /// The header of the frame being read, and the payload bytes still to pass.
    private var header: [UInt8] = []
    private var remaining: UInt64 = 0

    /// `upgraded`: watch frames from the start (no HTTP exchange before them).
    init(maxFrameBytes: Int, upgraded: Bool = false) {
        self.maxFrameBytes = maxFrameBytes
        self.upgraded = upgraded
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !upgraded && unwrapOutboundIn(data).readableBytesView.starts(with: "HTTP/1.1 101".utf8) { upgraded = true }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard upgraded else { return context.fireChannelRead(data) }
        if refused { return }  // draining before the close
        let bytes = unwrapInboundIn(data).readableBytesView
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if remaining > 0 {
                let n = min(remaining, UInt64(bytes.endIndex - i))
                i += Int(n)
                remaining -= n
                continue
            }
            header.append(bytes[i])
            i += 1
            guard header.count >= 2 else { continue }
            let masked = header[1] & 0x80 != 0, short = header[1] & 0x7F
            let needed = 2 + (short == 126 ? 2 : short == 127 ? 8 : 0) + (masked ? 4 : 0)
            guard header.count == needed else { continue }
            var length = UInt64(short)
            if short >= 126 { length = header[2..<(short == 126 ? 4 : 10)].reduce(0) { $0 << 8 | UInt64($1) } }
            header = []
            if !masked {
                return refuse(context, code: 1002, "client frames must be masked (RFC 6455, section 5.1)")
            }
            if length > UInt64(maxFrameBytes) {
                return refuse(
                    context, code: 1009,
                    "a frame of \(length) bytes is larger than \(maxFrameBytes), the most this server takes (send PCM in smaller messages)")
            }
            remaining = length
        }
        context.fireChannelRead(data)
    }

    /// The error message, a close frame with `code` and a short reason, and a lingering close.
    private func refuse(_ context: ChannelHandlerContext, code: UInt16, _ message: String) {
        refused = true
        func frame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
            var f: [UInt8] = [0x80 | opcode]
            if payload.count < 126 {
                f.append(UInt8(payload.count))
            } else {
                f.append(126)
                f += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
            }
            return f + payload
        }
        let error = Array(HarkRoutes.jsonText(["type": "error", "error": message]).utf8)
        let reason = Array((code == 1009 ? "message too large" : "protocol error").utf8)
        let close = [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
        LingeringClose.send(ByteBuffer(bytes: frame(0x1, error) + frame(0x8, close)), context: context)
    }
}

import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

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

    init(headTimeout: TimeAmount, answerTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.answerTimeout = answerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) { schedule(context, after: headTimeout) }
    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) { loopBound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headSeen {
            let buffer = unwrapInboundIn(data)
            tail += buffer.readableBytesView
            if tail.count > 3 && tail.indices.dropLast(3).contains(where: { tail[$0] == 13 && tail[$0 + 1] == 10 && tail[$0 + 2] == 13 && tail[$0 + 3] == 10 }) {
                headSeen = true
                schedule(context, after: answerTimeout)
            }
            tail = Array(tail.suffix(3))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        timer?.cancel()
        timer = nil
        context.write(data, promise: promise)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}

/// HTTP/1.1 with WebSocket upgrade, each connection first under a `ConnectionDeadline`.
struct DeadlineChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel
    let headTimeout: TimeAmount
    let answerTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionDeadline(headTimeout: headTimeout, answerTimeout: answerTimeout))
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

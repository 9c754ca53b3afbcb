import Foundation
import HarkASR
import NIOCore
import NIOEmbedded
import NIOWebSocket

/// The server side of `/v1/stream` on raw client bytes, without a socket:
/// what a client sent after the `101 Switching Protocols` answer goes
/// through the frame guard (`WebSocketFrameGuard`), NIO's WebSocket frame
/// decoder and the stream's message handling (PCM to the recogniser, `eof`
/// to the last final, anything else refused), as on a connection. For the
/// fuzz target of the stream protocol and for tests; the server itself runs
/// the same parts on its connections.
public enum StreamProtocolHarness {
    /// What the server did with the bytes.
    public struct Outcome: Sendable {
        /// The messages the server sent (JSON text), in order.
        public var messages: [String] = []
        /// Why the stream ended early, if it did (a refused frame or message).
        public var refusal: String?
    }

    /// Runs `bytes` as one stream's client data at the model's rate.
    public static func run(_ bytes: [UInt8], service: RecognitionService) -> Outcome {
        var outcome = Outcome()
        let maxMessage = service.options.maxMessageBytes
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        do {
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard(maxFrameBytes: maxMessage, upgraded: true))
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxMessage + 1)))
            let session = try StreamSession(service: service, rate: service.sampleRate)
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            // What the guard answered itself (an error message and a close) is on the outbound side.
            while let out = try channel.readOutbound(as: ByteBuffer.self) {
                outcome.refusal = (outcome.refusal ?? "") + String(decoding: out.readableBytesView, as: UTF8.self)
            }
            var message: [UInt8] = [], opcode: WebSocketOpcode?
            while let frame = try channel.readInbound(as: WebSocketFrame.self) {
                switch frame.opcode {
                case .binary, .text:
                    opcode = frame.opcode
                    message = Array(frame.unmaskedData.readableBytesView)
                case .continuation:
                    guard opcode != nil, message.count + frame.unmaskedData.readableBytes <= maxMessage else {
                        outcome.refusal = "a continuation without a message, or a message over \(maxMessage) bytes"
                        return outcome
                    }
                    message += frame.unmaskedData.readableBytesView
                default:
                    continue  // control frames: answered by the WebSocket layer
                }
                guard frame.fin, let kind = opcode else { continue }
                opcode = nil
                if kind == .binary {
                    outcome.messages += try session.accept(message).map(\.jsonLine)
                } else if LiveStream.isEOF(String(decoding: message, as: UTF8.self)) {
                    outcome.messages += try session.finish().map(\.jsonLine)
                    return outcome
                } else {
                    outcome.refusal = "unexpected text message"
                    return outcome
                }
            }
        } catch {
            outcome.refusal = "\(error)"
        }
        return outcome
    }
}

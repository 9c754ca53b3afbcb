import Foundation
import HarkASR
import HarkAudio
import Hummingbird
import NIOCore

/// `POST /v1/audio/transcriptions` with `stream=true`: the uploaded file goes
/// through Hark's streaming recogniser block by block, and each utterance's
/// final text comes out as soon as its pause is heard, as OpenAI's streaming
/// transcription sends it — server-sent events, one JSON object per `data:`
/// line:
///
///     data: {"type": "transcript.text.delta", "delta": "ENTER SEVEN"}
///     data: {"type": "transcript.text.delta", "delta": " YES"}
///     data: {"type": "transcript.text.done", "text": "ENTER SEVEN YES"}
///
/// Deltas only ever append (partial results, which may be revised, are not
/// sent). A problem found after the answer has begun (the audio turns out
/// corrupt or too long) is an event `{"type": "error", "error": {"message",
/// "type", "code"}}`, which OpenAI's client libraries raise as an error.
enum OpenAIStream {
    /// The file opened and checked (before the 200 is sent), read and recognised later.
    final class Recognition: @unchecked Sendable {
        let reader: AudioReader
        let recognizer: StreamingRecognizer
        let name: String
        let maxSamples: Int
        let maxSeconds: Double
        private var samples = 0
        private var finished = false

        init(service: RecognitionService, bytes: [UInt8], name: String) throws {
            let rate = service.sampleRate
            maxSeconds = service.options.maxAudioSeconds
            maxSamples = Int(maxSeconds * Double(rate))
            self.name = name
            do {
                reader = try AudioReader(bytes: bytes, displayName: name, options: AudioLoadOptions(targetSampleRate: rate))
            } catch let e as AudioError {
                throw ServiceError(400, "bad_audio", e.description)
            }
            if let declared = reader.declaredSeconds, declared > maxSeconds {
                throw ServiceError(
                    413, "too_large", "\(name): \(Int(declared)) s long by its header; the most this server accepts is \(Int(maxSeconds)) s"
                )
            }
            // Only finals are sent: partials as rarely as the recogniser allows.
            var options = service.options.streaming
            options.partialInterval = max(options.partialInterval, min(10, options.maxUtterance / 2.5))
            recognizer = try StreamingRecognizer(transcriber: service.transcriber, options: options)
        }

        /// The texts of the utterances that ended in the next block (nil at the end).
        func next() throws -> [String]? {
            guard !finished else { return nil }
            let results: [StreamResult]
            do {
                if let block = try reader.read() {
                    samples += block.count
                    guard samples <= maxSamples else {
                        throw ServiceError(413, "too_large", "\(name): longer than \(Int(maxSeconds)) s, the most this server accepts")
                    }
                    results = recognizer.accept(block)
                } else {
                    finished = true
                    results = recognizer.finish()
                }
            } catch let e as AudioError {
                throw ServiceError(400, "bad_audio", e.description)
            }
            return results.filter { $0.type == .final && !$0.text.isEmpty }.map(\.text)
        }
    }

    static func event(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(string: "data: \(HarkRoutes.jsonText(object))\n\n")
    }

    /// The answer: 200 with `text/event-stream`, written as recognition goes.
    /// The request keeps its place in `service.requests` until the last event.
    static func response(_ service: RecognitionService, _ recognition: Recognition, route: String) -> Response {
        let started = Date()
        let body = ResponseBody { writer in
            defer { service.requests.leave() }
            var text = ""
            do {
                while let finals = try await service.pool.run({ try recognition.next() }) {
                    for final in finals {
                        let delta = text.isEmpty ? final : " " + final
                        text += delta
                        try await writer.write(event(["type": "transcript.text.delta", "delta": delta]))
                    }
                }
                try await writer.write(event(["type": "transcript.text.done", "text": text]))
                service.metrics.recognised(
                    route: route, audio: recognition.recognizer.secondsReceived,
                    processing: Date().timeIntervalSince(started))
            } catch let e as ServiceError {
                service.metrics.error(route: route, kind: e.kind)
                try await writer.write(
                    event(["type": "error", "error": ["message": e.message, "type": "invalid_request_error", "code": e.kind]]))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

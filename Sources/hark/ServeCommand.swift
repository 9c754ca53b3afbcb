import ArgumentParser
import Foundation
import HarkASR
import HarkCore
import HarkServer
import Hummingbird
import Logging

/// `hark serve`: the recognition server.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve recognition over HTTP and WebSocket, with a browser page that transcribes the microphone.",
        discussion: """
            Routes: GET / (the page), POST /v1/transcribe (an audio file as the body; JSON as \
            'hark transcribe --format json'), POST /v1/audio/transcriptions (OpenAI's multipart form: \
            file, response_format json|text|srt|vtt|verbose_json, timestamp_granularities[]=word), \
            GET /v1/stream?rate=HZ (WebSocket: 16-bit little-endian PCM in as binary messages, \
            {"type": "eof"} to end; partial and final JSON out), GET /healthz, GET /metrics (Prometheus).

            Recognition runs on --workers threads; a request that finds them and the queue full \
            gets 503 with Retry-After. Errors are JSON {"error": {"message", "type", "code"}}. \
            SIGTERM or SIGINT gives every live stream its last final result and a close (1001, going \
            away), then stops accepting connections, finishes the requests in flight and exits 0; a \
            second signal does not wait for the streams.
            """)

    @Option(help: "Model directory (default: the bundled model).") var model: String?
    @OptionGroup(title: "Decoding (greedy unless a beam, a language model, a vocabulary or hotwords are given)")
    var decoding: DecodingFlags
    @Option(help: "Address to listen on (default: loopback only; 0.0.0.0 for every interface).") var host = ServerOptions().host
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = ServerOptions().port
    @Option(help: "Recognition worker threads, one per core unless given.") var workers = defaultThreadCount
    @Option(help: "Requests admitted beyond the workers; more get 503.") var queue = ServerOptions().queueLimit
    @Option(help: ArgumentHelp("Largest request body.", valueName: "MiB")) var maxBodyMb = Double(ServerOptions().maxBodyBytes) / 1_048_576
    @Option(help: ArgumentHelp("Longest recording accepted by the HTTP routes.", valueName: "s")) var maxAudio = ServerOptions()
        .maxAudioSeconds
    @Option(help: "WebSocket streams open at once; more get 503.") var maxStreams = ServerOptions().maxStreams
    @Option(help: ArgumentHelp("Longest live stream (audio).", valueName: "s")) var maxStream = ServerOptions().maxStreamSeconds
    @Option(help: ArgumentHelp("A stream with no message for this long is closed.", valueName: "s")) var idleTimeout = ServerOptions()
        .idleTimeout
    @Option(help: ArgumentHelp("A request whose body takes longer to arrive gets 408.", valueName: "s")) var bodyTimeout = ServerOptions()
        .bodyTimeout
    @Option(help: ArgumentHelp("A connection that sends no complete request head for this long is closed.", valueName: "s"))
    var headTimeout = ServerOptions().headTimeout
    @Option(help: "One line per request and per stream on stderr (time, method, route, status, duration, audio seconds): on or off.")
    var accessLog: TrainCommand.OnOff = .on
    @OptionGroup(title: "Utterances (uploads are cut with --segment, streams always)") var segmentation: SegmentationFlags
    @OptionGroup(title: "Live streams") var partials: PartialFlags

    var options: ServerOptions {
        var o = ServerOptions()
        o.host = host
        o.port = port
        o.workers = workers
        o.queueLimit = queue
        o.maxBodyBytes = maxBodyMb.isFinite && maxBodyMb > 0 && maxBodyMb < 4096 ? Int(maxBodyMb * 1_048_576) : -1
        o.maxAudioSeconds = maxAudio
        o.maxStreams = maxStreams
        o.maxStreamSeconds = maxStream
        o.idleTimeout = idleTimeout
        o.bodyTimeout = bodyTimeout
        o.headTimeout = headTimeout
        o.streaming = partials.options(segmentation)
        return o
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let modelURL = try ModelLocation.resolve(model)
        let acoustic = try AcousticModel.load(directory: modelURL)
        let transcriber = Transcriber(model: acoustic, decoding: try decoding.decoding(acoustic, lm: try decoding.loadLM(acoustic)))
        transcriber.segmentation = segmentation.options
        let service = try RecognitionService(transcriber: transcriber, modelName: modelURL.lastPathComponent, options: options)
        if accessLog == .on {
            // One line per request and per stream, on stderr: "POST /v1/transcribe 200 0.214 s audio 1.50 s".
            service.accessLog = { record in writeStandardError("\(ISO8601DateFormatter().string(from: Date())) \(record)\n") }
        }
        let name = modelURL.lastPathComponent, workers = options.workers, host = self.host
        let app = HarkRoutes.application(service) { port in
            printError("serving \(name) on http://\(host):\(port)/ with \(workers) recognition worker(s); SIGTERM or Ctrl-C stops")
        }
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await HarkRoutes.runUntilSignalled(app, service: service)
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        service.pool.shutdown()
        if let error = outcome.error {
            printError("serve: \(error)")
            throw ExitCode(1)
        }
    }
}

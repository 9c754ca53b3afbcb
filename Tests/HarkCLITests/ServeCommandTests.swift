import Foundation
import HarkASR
import HarkAudio
import HarkTestSupport
import XCTest

/// `hark serve` as a process: it says where it listens, answers, and on
/// SIGTERM finishes the request in flight before exiting 0.
final class ServeCommandTests: CLITestCase {
    /// Starts `hark serve --port 0`, returns the process, its port and its standard error so far.
    func startServer(_ extra: [String] = []) throws -> (Process, Int, Pipe) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "0"] + extra
        process.currentDirectoryURL = repositoryRoot
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let port = Self.servingPort(in: text) { return (process, port, err) }
        }
        process.terminate()
        XCTFail("no 'serving … on http://127.0.0.1:PORT/' line: \(text)")
        throw CocoaError(.fileReadUnknown)
    }

    /// curl: (HTTP status, body).
    func curl(_ args: [String]) throws -> (Int, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-w", "\n%{http_code}"] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func testSigtermFinishesTheRequestInFlight() throws {
        // Two minutes of speech: long enough to be in flight when SIGTERM comes.
        let samples = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        var long: [Float] = []
        while long.count < 120 * 16_000 { long += samples }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = dir.appendingPathComponent("long.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: wav.path, contents: Data(WavBuilder.float32(long))))

        let (server, port, _) = try startServer()
        defer { if server.isRunning { server.terminate() } }
        let (status, body) = try curl(["http://127.0.0.1:\(port)/healthz"])
        XCTAssertEqual(status, 200, body)

        final class Box: @unchecked Sendable { var status = 0; var body = "" }
        let answer = Box()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            if let (s, b) = try? self.curl([
                "-H", "Content-Type: audio/wav", "--data-binary", "@\(wav.path)",
                "http://127.0.0.1:\(port)/v1/transcribe"
            ]) {
                answer.status = s
                answer.body = b
            }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.5)
        kill(server.processIdentifier, SIGTERM)
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success)
        server.waitUntilExit()
        XCTAssertEqual(answer.status, 200, answer.body)
        // 80 repetitions of "ENTER SEVEN", all recognised (the whole recording was transcribed).
        XCTAssertGreaterThanOrEqual(answer.body.components(separatedBy: "SEVEN").count - 1, 70, String(answer.body.prefix(300)))
        XCTAssertTrue(answer.body.contains(#""duration":120"#))
        XCTAssertEqual(server.terminationReason, .exit)
        XCTAssertEqual(server.terminationStatus, 0)
    }

    /// SIGTERM with a live stream open: the stream gets its last final result,
    /// an error saying the server is shutting down and a close with code 1001
    /// (going away); a client that never answers that close holds the server
    /// for 2 s at most, and the process exits 0.
    func testSigtermGivesLiveStreamsTheirLastFinal() throws {
        let samples = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        let (server, port, _) = try startServer()
        defer { if server.isRunning { server.terminate() } }
        let fd = try RawSocket.webSocket(port: port)
        defer { close(fd) }
        // The utterance as 16-bit PCM in 0.1 s messages, and no eof: the client is still talking.
        for start in stride(from: 0, to: samples.count, by: 1600) {
            let pcm = samples[start..<min(start + 1600, samples.count)].flatMap { sample -> [UInt8] in
                let v = UInt16(bitPattern: Int16(max(-32768, min(32767, (sample * 32768).rounded()))))
                return [UInt8(v & 0xFF), UInt8(v >> 8)]
            }
            RawSocket.sendAll(fd, RawSocket.clientFrame(0x2, pcm))
        }
        Thread.sleep(forTimeInterval: 1)
        let signalled = Date()
        kill(server.processIdentifier, SIGTERM)
        // Read until the server drops the connection; never answer its close.
        let frames = RawSocket.serverFrames(RawSocket.readToEnd(fd))
        server.waitUntilExit()
        let seconds = Date().timeIntervalSince(signalled)
        let texts = frames.filter { $0.0 == 0x1 }.map { String(decoding: $0.1, as: UTF8.self) }
        XCTAssertTrue(texts.contains { $0.contains(#""type":"final""#) && $0.contains("ENTER SEVEN") }, "\(texts)")
        XCTAssertTrue(texts.last?.contains("shutting down") ?? false, "\(texts)")
        XCTAssertEqual(frames.last?.0, 0x8, "the last frame is the close")
        if let close = frames.last, close.0 == 0x8, close.1.count >= 2 {
            XCTAssertEqual(Int(close.1[0]) << 8 | Int(close.1[1]), 1001)
        }
        XCTAssertLessThan(seconds, 8, "a client that never answers the close holds the shutdown for 2 s at most")
        XCTAssertEqual(server.terminationReason, .exit)
        XCTAssertEqual(server.terminationStatus, 0)
    }

    /// One access-log line per request on stderr (method, route, status,
    /// duration, audio seconds); `--access-log off` writes none. An empty
    /// OpenAI form names the field it lacks.
    func testAccessLogAndEmptyForm() throws {
        for on in [true, false] {
            let (server, port, err) = try startServer(on ? [] : ["--access-log", "off"])
            defer { if server.isRunning { server.terminate() } }
            let base = "http://127.0.0.1:\(port)"
            let (ok, body) = try curl(["-H", "Content-Type: audio/wav", "--data-binary", "@audio/an52-mmaf-b.wav", base + "/v1/transcribe"])
            XCTAssertEqual(ok, 200, body)
            XCTAssertEqual(try curl([base + "/nowhere"]).0, 404)
            let (empty, message) = try curl(["-X", "POST", base + "/v1/audio/transcriptions"])
            XCTAssertEqual(empty, 400, message)
            XCTAssertTrue(message.contains("'file' field"), message)
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
            let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let lines = log.split(separator: "\n").filter { $0.contains(" /v1/") || $0.contains(" /nowhere ") }
            if on {
                XCTAssertEqual(lines.count, 3, log)
                XCTAssertTrue(
                    lines.contains {
                        $0.range(of: #"POST /v1/transcribe 200 [0-9.]+ s audio 1\.[0-9]{2} s$"#, options: .regularExpression) != nil
                    }, log)
                XCTAssertTrue(lines.contains { $0.contains("GET /nowhere 404 ") }, log)
                XCTAssertTrue(lines.contains { $0.contains("POST /v1/audio/transcriptions 400 ") && !$0.contains("audio ") }, log)
            } else {
                XCTAssertEqual(lines.count, 0, log)
            }
        }
    }

    /// A model directory whose config.json asks for a beam and a language
    /// model: the library (`Transcriber(model:request:)` with no request),
    /// `hark transcribe`, `hark eval` and `hark serve` all decode with them,
    /// and give the same words with the same confidences and times.
    func testEveryEntryPointDecodesAsTheModelSays() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(
                at: repositoryRoot.appendingPathComponent("models/an4-blstm/" + f), to: model.appendingPathComponent(f))
        }
        let corpus = dir.appendingPathComponent("corpus.txt")
        try String(repeating: "ENTER SEVEN\nENTER EIGHT\nSTART FIVE TWO SEVEN\n", count: 5).write(
            to: corpus, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try hark(["lm", "--order", "2", "--discount-fallback", "-o", model.appendingPathComponent("lm.arpa").path, corpus.path]).status,
            0)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("config.json"))) as! [String: Any]
        config["decoder"] = ["lm": "lm.arpa", "beam": 8, "alpha": 0.8, "beta": 1]
        try JSONSerialization.data(withJSONObject: config).write(to: model.appendingPathComponent("config.json"))
        let audio = repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path

        let acoustic = try AcousticModel.load(directory: model)
        guard case .beam(let options) = try acoustic.decoding(lm: nil) else { return XCTFail("the model's decoder asks for a beam") }
        XCTAssertEqual(options.width, 8)
        let library = try Transcriber(model: acoustic, request: DecodingRequest()).transcribe(path: audio).0
        func words(_ json: Any?) -> [String] {
            ((json as? [String: Any])?["words"] as? [[String: Any]] ?? []).map {
                "\($0["word"]!) \($0["start"]!) \($0["end"]!) \($0["confidence"]!)"
            }
        }
        let expected = words(try JSONSerialization.jsonObject(with: Data(TranscriptFormat.json.render(library, source: audio).utf8)))
        XCTAssertFalse(expected.isEmpty)

        let transcribe = try hark(["transcribe", "--model", model.path, "--format", "json", audio])
        XCTAssertEqual(words(try JSONSerialization.jsonObject(with: Data(transcribe.stdout.utf8))), expected, transcribe.stderr)

        let manifest = dir.appendingPathComponent("m.jsonl")
        try "{\"audio_filepath\": \"\(audio)\", \"text\": \"ENTER SEVEN\"}\n".write(to: manifest, atomically: true, encoding: .utf8)
        let eval = try hark(["eval", "--model", model.path, manifest.path, "--per-utterance", "-"])
        let row = try XCTUnwrap(eval.stdout.split(separator: "\n").first { $0.hasPrefix("{") })
        let object = try JSONSerialization.jsonObject(with: Data(row.utf8)) as! [String: Any]
        XCTAssertEqual(object["hypothesis"] as? String, library.text)

        let (server, port, _) = try startServer(["--model", model.path])
        defer { if server.isRunning { server.terminate() } }
        let (status, body) = try curl([
            "-H", "Content-Type: audio/wav", "--data-binary", "@\(audio)", "http://127.0.0.1:\(port)/v1/transcribe"
        ])
        XCTAssertEqual(status, 200, body)
        XCTAssertEqual(words(try JSONSerialization.jsonObject(with: Data(body.utf8))), expected)
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
    }

    func testBadServeFlags() throws {
        for (args, message) in [
            (["serve", "--port", "70000"], "port"), (["serve", "--workers", "0"], "workers"),
            (["serve", "--idle-timeout", "nan"], "idle timeout")
        ] {
            let run = try hark(args)
            XCTAssertNotEqual(run.status, 0)
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
        }
    }
}

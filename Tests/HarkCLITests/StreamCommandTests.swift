import Foundation
import HarkAudio
import HarkTestSupport
import XCTest

/// `hark transcribe --stream`: JSON lines of partial and final results from a
/// file, a WAV on standard input, or raw PCM on standard input.
final class StreamCommandTests: CLITestCase {
    struct Line: Decodable, Equatable {
        struct W: Decodable, Equatable { let word: String; let start: Double; let end: Double; let confidence: Double }
        let type: String; let text: String; let start: Double; let end: Double; let words: [W]
    }

    func lines(_ stdout: String) throws -> [Line] {
        try stdout.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    func samples() throws -> [Float] {
        try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
    }

    /// Plain `transcribe -` decodes standard input as it arrives: the same
    /// transcript as the file gives, and the memory of the file's run, not
    /// that plus the input (61 MB: two minutes of 8-channel float WAV).
    func testOfflineStandardInputIsNotHeldWhole() throws {
        let session = repositoryRoot.appendingPathComponent("audio/mmaf-session.wav")
        let file = try hark(["transcribe", "--format", "json", session.path])
        let piped = try hark(["transcribe", "--format", "json", "-"], stdin: try Data(contentsOf: session))
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertEqual(piped.stdout, file.stdout.replacingOccurrences(of: session.path, with: "-"))
        // FLAC, which libsndfile cannot decode from a pipe, is held and decoded (offline and streaming).
        let flac = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/HarkAudioTests/Fixtures/flac.flac"))
        for arguments in [["transcribe", "-"], ["transcribe", "--stream", "-"]] {
            let run = try hark(arguments, stdin: flac)
            XCTAssertEqual(run.status, 0, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stdout.contains("SEVEN"), "\(arguments): \(run.stdout)")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = dir.appendingPathComponent("quiet.wav")
        let payload = [UInt8](repeating: 0, count: 120 * 16_000 * 8 * 4)
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: wav.path, contents: Data(WavBuilder.wav(payload: payload, channels: 8, bitsPerSample: 32, format: 3))))
        let fromFile = try harkPeakMemory(["transcribe", wav.path])
        let fromStdin = try harkPeakMemory(["transcribe", "-"], stdin: wav.path)
        XCTAssertEqual(fromFile.status, 0)
        XCTAssertEqual(fromStdin.status, 0)
        XCTAssertLessThan(
            fromStdin.kilobytes, fromFile.kilobytes + 16_000,
            "stdin \(fromStdin.kilobytes) KiB against the file's \(fromFile.kilobytes) KiB")
    }

    /// Standard input that cannot be read (here a directory) is an error
    /// saying so, offline and streaming, not an empty recording.
    func testUnreadableStandardInputIsNamed() throws {
        for arguments in [["transcribe", "-"], ["transcribe", "--stream", "-"]] {
            let (status, stderr) = try hark(
                arguments, input: try FileHandle(forReadingFrom: URL(fileURLWithPath: "/")), output: FileHandle.nullDevice)
            XCTAssertEqual(status, 1, "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains("reading standard input failed: Is a directory"), "\(arguments): \(stderr)")
        }
    }

    func testFileAndStandardInputGiveTheSameResults() throws {
        let file = try hark(["transcribe", "--stream", "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(file.status, 0, file.stderr)
        let results = try lines(file.stdout)
        XCTAssertEqual(results.last?.type, "final")
        XCTAssertEqual(results.last?.text, "ENTER SEVEN")
        XCTAssertGreaterThanOrEqual(results.filter { $0.type == "partial" }.count, 2)

        let wav = try Data(contentsOf: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav"))
        let piped = try hark(["transcribe", "--stream", "-"], stdin: wav)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(try lines(piped.stdout), results)

        // Headerless 16-bit PCM at 8 kHz: resampled to the model's 16 kHz as it arrives.
        let pcm8k = try Resampler.resample(try samples(), from: 16_000, to: 8_000)
        var raw = Data()
        for x in pcm8k {
            let v = Int16(max(-32768, min(32767, (x * 32768).rounded())))
            withUnsafeBytes(of: v.littleEndian) { raw.append(contentsOf: $0) }
        }
        let rawRun = try hark(["transcribe", "--stream", "--raw-rate", "8000", "-"], stdin: raw)
        XCTAssertEqual(rawRun.status, 0, rawRun.stderr)
        let rawResults = try lines(rawRun.stdout)
        XCTAssertEqual(rawResults.last?.type, "final")
        XCTAssertEqual(rawResults.last!.end, 1.5, accuracy: 1e-3)
    }

    /// A stream carries one recording: what follows a WAV's data on a pipe
    /// is read and must be chunks a WAV may end with; a second recording or
    /// raw bytes there is an error after the results (it was dropped
    /// silently, as if the stream had ended).
    func testWhatFollowsAPipedRecordingIsChecked() throws {
        let wav = try Data(contentsOf: repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav"))
        let alone = try hark(["transcribe", "--stream", "-"], stdin: wav)
        XCTAssertEqual(alone.status, 0, alone.stderr)
        let list = Data("LIST".utf8) + Data([4, 0, 0, 0]) + Data("INFO".utf8)
        let tagged = try hark(["transcribe", "--stream", "-"], stdin: wav + list)
        XCTAssertEqual(tagged.status, 0, "a chunk after the data is part of a WAV: \(tagged.stderr)")
        XCTAssertEqual(tagged.stdout, alone.stdout)
        for (what, tail, phrase) in [
            ("a second WAV", wav, "another recording follows"),
            ("raw audio", Data((0..<64_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }), "bytes follow this recording's audio")
        ] {
            let run = try hark(["transcribe", "--stream", "-"], stdin: wav + tail)
            XCTAssertEqual(run.status, 1, what)
            XCTAssertTrue(run.stderr.contains(phrase), "\(what): \(run.stderr)")
            XCTAssertEqual(run.stdout, alone.stdout, "\(what): the first recording's results still come")
        }
    }

    func testRealtimePacing() throws {
        let started = Date()
        let run = try hark(["transcribe", "--stream", "--realtime", "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        // 1.5 s of audio is not read faster than real time.
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.4)
    }

    func testBadStreamArguments() throws {
        for (args, message) in [
            (["transcribe", "--raw-rate", "16000", "-"], "--realtime and --raw-rate need --stream"),
            (["transcribe", "--stream", "audio/an52-mmaf-b.wav", "audio/7_jackson_0.wav"], "--stream takes one input"),
            (["transcribe", "--stream", "--raw-rate", "5", "-"], "--raw-rate"),
            (["transcribe", "--stream", "--partial-interval", "0", "-"], "partial interval"),
            (["transcribe", "--stream", "--format", "srt", "-"], "JSON lines")
        ] {
            let run = try hark(args)
            XCTAssertNotEqual(run.status, 0, args.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
        }
        let missing = try hark(["transcribe", "--stream", "no/such.wav"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no/such.wav"), missing.stderr)
        let garbage = try hark(["transcribe", "--stream", "-"], stdin: Data("this is not audio at all, not even close".utf8))
        XCTAssertEqual(garbage.status, 1)
        XCTAssertTrue(garbage.stderr.contains("-"), garbage.stderr)
    }
}

import Foundation
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

/// The model that ships in models/an4-fsdd-recordings, on recordings of speakers it
/// never heard in training (AN4 speaker mmaf and FSDD speaker jackson, held out).
final class DefaultModelTests: CLITestCase {
    func testTranscribesTheBundledSample() throws {
        // No --model: the default is found from the executable's location.
        let run = try hark(["transcribe", "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "ENTER SEVEN\n")
    }

    /// An 8 kHz clip trimmed tight around one word: the AN4-only model
    /// (models/an4-blstm) hears "TOP".
    func testTranscribesTheTrimmedTelephoneBandSample() throws {
        let run = try hark(["transcribe", "audio/7_jackson_0.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "SEVEN\n")
        XCTAssertTrue(run.stderr.contains("upsampling from 8000 Hz to 16000 Hz"), run.stderr)
    }

    /// A quiet voice in a clip cut tight around it (FSDD's theo, whose "zero"
    /// peaks at −40 dBFS and never stands 12 dB above the clip's first frame):
    /// the segmenter finds no utterance, so the clip is decoded whole rather
    /// than dropped.
    func testATightQuietClipIsDecodedWhole() throws {
        let run = try hark(["transcribe", "examples/digits/0_theo_0.wav", "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains(#""text":"ZERO""#), run.stdout)
        XCTAssertTrue(run.stdout.contains(#""segments":[{"#), "one segment, the whole clip: \(run.stdout)")
    }

    /// A voice memo of three utterances with pauses: cut at the pauses, one
    /// subtitle cue each, timed on the speech. (The model mishears NINETY.)
    func testTranscribesTheBundledSession() throws {
        let run = try hark(["transcribe", "audio/mmaf-session.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "START FIVE TWO SEVEN ENTER NIGHTY FIVE\n")
        let srt = try hark(["transcribe", "--format", "srt", "audio/mmaf-session.wav"])
        XCTAssertEqual(
            srt.stdout,
            """
            1
            00:00:01,350 --> 00:00:01,750
            START

            2
            00:00:03,240 --> 00:00:04,470
            FIVE TWO SEVEN

            3
            00:00:06,050 --> 00:00:07,400
            ENTER NIGHTY FIVE

            """)
        // As one utterance (before segmentation), the same words run together into one cue.
        let whole = try hark(["transcribe", "--no-segment", "--format", "srt", "audio/mmaf-session.wav"])
        XCTAssertEqual(whole.stdout.components(separatedBy: " --> ").count, 2, whole.stdout)
    }

    func testSubtitlesOfTheBundledSample() throws {
        let run = try hark(["transcribe", "--format", "vtt", "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("WEBVTT\n\n00:00:00."), run.stdout)
        XCTAssertTrue(run.stdout.hasSuffix("ENTER SEVEN\n"), run.stdout)
    }

    func testBadInputsAmongGoodOnesWithTheDefaultModel() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("broken.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: bad.path, contents: Data("not audio".utf8)))
        let run = try hark(["transcribe", "audio/an52-mmaf-b.wav", bad.path])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.contains("audio/an52-mmaf-b.wav\tENTER SEVEN\n"), run.stdout)
        XCTAssertTrue(run.stderr.contains("broken.wav: not a recognised audio file"), run.stderr)
    }
}

/// Recordings without speech transcribe as empty text, whatever the model
/// would make of them: digital silence, a DC offset, faint noise, stereo
/// channels that cancel.
final class SilenceTests: CLITestCase {
    func testNoSpeechGivesEmptyText() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 3)
        let n = 32_000
        let speech = try HarkAudio.AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path).waveform.samples
        let files: [(String, [UInt8])] = [
            ("silence", WavBuilder.pcm16([Int16](repeating: 0, count: n))),
            ("dc", WavBuilder.pcm16([Int16](repeating: 9000, count: n))),
            ("faint", WavBuilder.pcm16((0..<n).map { _ in Int16(max(-32768, min(32767, rng.nextGaussian() * 20))) })),
            // Steady hiss at −45 dBFS: loud enough to be decoded whole (no utterance is found in it), and heard as nothing.
            ("hiss", WavBuilder.pcm16((0..<n).map { _ in Int16(max(-32768, min(32767, rng.nextGaussian() * 184))) })),
            (
                "cancel",
                WavBuilder.pcm16(
                    speech.flatMap { x -> [Int16] in
                        let v = Int16(max(-32767, min(32767, x * 32767)))
                        return [v, -v]
                    }, channels: 2)
            )
        ]
        for (name, bytes) in files {
            let url = dir.appendingPathComponent(name + ".wav")
            try Data(bytes).write(to: url)
            let run = try hark(["transcribe", url.path])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout, "\n", "\(name): \(run.stdout)")
        }
        // The same speech on one channel of the stereo file is heard.
        let left = try hark(["transcribe", "--channel", "0", dir.appendingPathComponent("cancel.wav").path])
        XCTAssertEqual(left.stdout, "ENTER SEVEN\n", left.stderr)
    }
}

import Foundation
import HarkASR
import HarkAudio
import HarkCore
import HarkFeatures
import HarkIO
import HarkTestSupport
import XCTest

/// `hark features` end to end, through the built binary.
final class FeaturesCommandTests: CLITestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testHelpListsTheSubcommands() throws {
        let run = try hark(["--help"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stdout.contains("features"), run.stdout)
    }

    func testNpyPerFileMirroringTheFolder() throws {
        let out = dir.appendingPathComponent("out")
        let run = try hark(["features", "audio", "--output-dir", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        // The 8 kHz sample is upsampled to the default 16 kHz, with a note.
        XCTAssertTrue(run.stderr.contains("upsampling from 8000 Hz to 16000 Hz"), run.stderr)
        XCTAssertTrue(run.stderr.contains("3 done, 0 failed"), run.stderr)
        let m = try NPY.read(out.appendingPathComponent("an52-mmaf-b.npy"))
        XCTAssertEqual(m.shape, [148, 13])
        XCTAssertEqual(try NPY.read(out.appendingPathComponent("7_jackson_0.npy")).cols, 13)
        // One long file on two threads: the same bytes as on one.
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        for (d, threads) in [(one, "1"), (two, "2")] {
            XCTAssertEqual(
                try hark(["features", "audio/mmaf-session.wav", "--type", "fbank", "--threads", threads, "--output-dir", d.path]).status, 0)
        }
        XCTAssertEqual(
            FileManager.default.contents(atPath: one.appendingPathComponent("mmaf-session.npy").path),
            FileManager.default.contents(atPath: two.appendingPathComponent("mmaf-session.npy").path))
    }

    /// `--model DIR` computes that model's input features (its config.json's
    /// "features"), the ones it recognises from, bit for bit.
    func testModelFeatures() throws {
        let model = "models/an4-fsdd-recordings"
        let run = try hark(["features", "--model", model, "audio/an52-mmaf-b.wav", "--format", "npy", "--output-dir", dir.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let config = try AcousticModel.readConfig(directory: repositoryRoot.appendingPathComponent(model))
        let samples = try AudioLoader.load(
            repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path,
            options: AudioLoadOptions(targetSampleRate: Int(config.features.frame.sampleFrequency))
        ).waveform.samples
        let expected = try FeatureExtractor(config.features).compute(samples)
        let got = try NPY.read(dir.appendingPathComponent("an52-mmaf-b.npy"))
        XCTAssertEqual(got.shape, [expected.rows, expected.cols])
        XCTAssertEqual(got.data, expected.data)
        // Feature options cannot change a model's features; a missing model is named.
        let both = try hark(["features", "--model", model, "--num-mel-bins", "23", "audio/an52-mmaf-b.wav", "--output-dir", dir.path])
        XCTAssertEqual(both.status, 64, both.stderr)
        XCTAssertTrue(both.stderr.contains("feature options cannot change them"), both.stderr)
        let missing = try hark([
            "features", "--model", dir.appendingPathComponent("nowhere").path, "audio/an52-mmaf-b.wav", "--output-dir", dir.path
        ])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nowhere: no such directory"), missing.stderr)
    }

    /// The same note for many inputs is said once and counted, not once per file.
    func testNotesAreCollapsed() throws {
        let clips = dir.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
        for i in 0..<5 {
            try FileManager.default.copyItem(
                at: repositoryRoot.appendingPathComponent("audio/7_jackson_0.wav"),
                to: clips.appendingPathComponent("c\(i).wav"))
        }
        let run = try hark(["features", clips.path, "--output-dir", dir.appendingPathComponent("out").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr.components(separatedBy: "upsampling from 8000 Hz").count - 1, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("4 more input(s): upsampling from 8000 Hz to 16000 Hz"), run.stderr)
        XCTAssertTrue(run.stderr.contains("5 done, 0 failed"), run.stderr)
    }

    func testOptionsReachTheFeatures() throws {
        let out = dir.appendingPathComponent("out")
        let run = try hark([
            "features", "audio/an52-mmaf-b.wav", "--type", "fbank", "--num-mel-bins", "40",
            "--snip-edges=false", "--deltas", "2", "--cmvn", "meanvar", "--output-dir", out.path
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try NPY.read(out.appendingPathComponent("an52-mmaf-b.npy")).shape, [150, 120])
    }

    func testKaldiArchive() throws {
        let run = try hark(["features", "audio", "--format", "ark", "--output-dir", dir.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let entries = try KaldiArchiveReader.read(dir.appendingPathComponent("feats.ark"))
        XCTAssertEqual(entries.map(\.key), ["7_jackson_0", "an52-mmaf-b", "mmaf-session"])
        let direct = try NPY.read(
            { () -> URL in
                _ = try? hark(["features", "audio/an52-mmaf-b.wav", "--output-dir", dir.appendingPathComponent("n").path])
                return dir.appendingPathComponent("n/an52-mmaf-b.npy")
            }())
        assertClose(entries[1].matrix, direct, absolute: 0, "the archive holds exactly what .npy holds")
        let scp = try String(contentsOf: dir.appendingPathComponent("feats.scp"), encoding: .utf8)
        XCTAssertTrue(scp.hasPrefix("7_jackson_0 \(dir.appendingPathComponent("feats.ark").path):12\n"), scp)
    }

    /// A Kaldi archive is written as the features are computed: its peak
    /// memory is that of .npy output, not that plus the matrix (10 minutes
    /// of 80 filterbanks, 19 MB).
    func testKaldiArchiveMemoryDoesNotGrowWithTheInput() throws {
        // Ten minutes of 16-bit noise (a multiplicative hash of the byte's place).
        var payload = [UInt8](repeating: 0, count: 600 * 16_000 * 2)
        payload.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = UInt8(truncatingIfNeeded: (UInt32(truncatingIfNeeded: i) &* 2_654_435_761) >> 13) }
        }
        let wav = dir.appendingPathComponent("ten-minutes.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: wav.path, contents: Data(WavBuilder.wav(payload: payload))))
        let common = ["features", wav.path, "--type", "fbank", "--num-mel-bins", "80"]
        let npy = try harkPeakMemory(common + ["--output-dir", dir.appendingPathComponent("npy").path])
        let ark = try harkPeakMemory(common + ["--format", "ark", "--output-dir", dir.appendingPathComponent("ark").path])
        XCTAssertEqual(npy.status, 0)
        XCTAssertEqual(ark.status, 0)
        let entries = try KaldiArchiveReader.read(dir.appendingPathComponent("ark/feats.ark"))
        XCTAssertEqual(entries.first?.matrix.rows, 59_998)
        XCTAssertEqual(entries.first?.matrix.cols, 80)
        XCTAssertLessThan(ark.kilobytes, npy.kilobytes + 8_000, "ark \(ark.kilobytes) KiB against npy \(npy.kilobytes) KiB")
        // The spool it was copied from is gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("ark").path)
        XCTAssertEqual(Set(left), ["feats.ark", "feats.scp"])
    }

    func testStandardInput() throws {
        let bytes = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/HarkAudioTests/Fixtures/flac.flac"))
        let run = try hark(["features", "-", "--output-dir", dir.path], stdin: bytes)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try NPY.read(dir.appendingPathComponent("stdin.npy")).shape, [98, 13])
    }

    /// Each bad input gets its own one-line message naming it; the good files
    /// of the same batch are still written; the exit status is non-zero.
    func testBadInputsDoNotStopTheBatch() throws {
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("no-audio-here"), withIntermediateDirectories: true)
        func put(_ name: String, _ bytes: [UInt8]) -> String {
            let url = inputs.appendingPathComponent(name)
            XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(bytes)))
            return url.path
        }
        let tone = WavBuilder.tone(count: 8000)
        var nan = [Float](repeating: 0.1, count: 4000)
        nan[100] = .nan
        let full = WavBuilder.pcm16(tone)
        let cases: [(String, [UInt8], String)] = [
            ("empty.wav", [], "empty file: 0 bytes"),
            ("header-only.wav", WavBuilder.pcm16([]), "no audio samples"),
            ("truncated.wav", Array(full.prefix(5000)), "truncated file: the header declares 16000 bytes"),
            ("lying.wav", WavBuilder.pcm16(tone, declaredDataBytes: 1 << 30), "truncated file: the header declares 1073741824 bytes"),
            ("text.wav", Array("hello, I am text\n".utf8), "not a recognised audio file"),
            ("random.ogg", (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }, "not a recognised audio file"),
            ("zero-channels.wav", WavBuilder.wav(payload: [UInt8](repeating: 0, count: 64), channels: 0), "the header claims 0 channels"),
            ("zero-rate.wav", WavBuilder.wav(payload: [UInt8](repeating: 0, count: 64), sampleRate: 0), "a sample rate of 0 Hz"),
            ("nan.wav", WavBuilder.float32(nan), "non-finite sample: NaN or infinity at frame 100")
        ]
        var arguments = ["features", "--output-dir", dir.appendingPathComponent("out").path, "audio/an52-mmaf-b.wav"]
        for (name, bytes, _) in cases { arguments.append(put(name, bytes)) }
        arguments += [
            inputs.appendingPathComponent("missing.wav").path, dir.appendingPathComponent("no-audio-here").path,
            "audio/7_jackson_0.wav"
        ]
        let run = try hark(arguments)
        XCTAssertEqual(run.status, 1, run.stderr)
        for (name, _, message) in cases {
            let line = run.stderr.split(separator: "\n").first { $0.contains(inputs.appendingPathComponent(name).path + ":") }
            XCTAssertNotNil(line, "no message for \(name) in:\n\(run.stderr)")
            XCTAssertTrue(line?.contains(message) ?? false, "\(name): expected \"\(message)\" in \(line ?? "")")
        }
        XCTAssertTrue(run.stderr.contains("missing.wav: no such file or directory"), run.stderr)
        XCTAssertTrue(run.stderr.contains("no-audio-here: directory contains no audio files"), run.stderr)
        XCTAssertTrue(run.stderr.contains("2 done, 9 failed"), run.stderr)
        XCTAssertTrue(run.stderr.contains("11 input(s) failed"), run.stderr)
        XCTAssertEqual(try NPY.read(dir.appendingPathComponent("out/an52-mmaf-b.npy")).shape, [148, 13])
        XCTAssertEqual(try NPY.read(dir.appendingPathComponent("out/7_jackson_0.npy")).cols, 13)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/empty.npy").path))
    }

    func testInvalidOptionIsAUsageError() throws {
        let run = try hark(["features", "audio", "--output-dir", dir.path, "--num-ceps", "40"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("num-ceps"), run.stderr)
    }
}

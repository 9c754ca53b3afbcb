import Foundation
import HarkTestSupport
import XCTest

@testable import HarkAudio

/// Broken inputs give a typed error that names the file and the problem.
final class BadAudioTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let url = dir.appendingPathComponent(name)
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(bytes)))
        return url.path
    }

    func expect(
        _ path: String, _ kind: AudioError.Kind, _ fragment: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try AudioLoader.load(path), file: file, line: line) { error in
            guard let e = error as? AudioError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertEqual(e.input, path, file: file, line: line)
            XCTAssertTrue(e.description.contains(fragment), "\(e) lacks \"\(fragment)\"", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line", file: file, line: line)
        }
    }

    func testMissingAndDirectory() {
        expect(dir.appendingPathComponent("nope.wav").path, .notFound, "no such file")
        expect(dir.path, .isDirectory, "is a directory")
    }

    func testEmptyAndHeaderOnly() {
        expect(write("empty.wav", []), .empty, "0 bytes")
        expect(write("header-only.wav", WavBuilder.pcm16([])), .noSamples, "no audio data")
    }

    func testTruncatedAndLyingHeaders() {
        let tone = WavBuilder.tone(count: 1000)
        // The header says 2,000,000,000 bytes follow; 2,000 do.
        expect(
            write("lying.wav", WavBuilder.pcm16(tone, declaredDataBytes: 2_000_000_000)), .truncated,
            "declares 2000000000 bytes of audio data but only 2000 follow")
        // A file cut in the middle of its data.
        let full = WavBuilder.pcm16(tone)
        expect(write("cut.wav", Array(full.prefix(full.count / 2))), .truncated, "declares 2000 bytes")
    }

    func testZeroChannelsAndZeroRate() {
        let payload = [UInt8](repeating: 0, count: 200)
        expect(write("zero-channels.wav", WavBuilder.wav(payload: payload, channels: 0)), .badHeader, "0 channels")
        expect(write("zero-rate.wav", WavBuilder.wav(payload: payload, sampleRate: 0)), .badHeader, "0 Hz")
    }

    func testTextAndNoiseWithAudioExtensions() {
        expect(write("text.wav", Array("this is not audio at all\n".utf8)), .unrecognized, "libsndfile says")
        var rng = SystemRandomNumberGenerator()
        expect(
            write("noise.flac", (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }), .unrecognized,
            "not a recognised audio file")
    }

    func testNonFiniteSamples() {
        var samples = [Float](repeating: 0.1, count: 800)
        samples[400] = .nan
        expect(write("nan.wav", WavBuilder.float32(samples)), .nonFinite, "frame 400 (0.025 s)")
        samples[400] = 0
        samples[10] = .infinity
        expect(write("inf.wav", WavBuilder.float32(samples)), .nonFinite, "frame 10")
    }

    func testInMemoryBadInputNamesStandardInput() {
        XCTAssertThrowsError(try AudioLoader.load(bytes: Array("junk".utf8), displayName: "-")) { error in
            XCTAssertTrue("\(error)".hasPrefix("-: not a recognised audio file"), "\(error)")
        }
        XCTAssertThrowsError(try AudioLoader.load(bytes: [], displayName: "-")) { error in
            XCTAssertEqual((error as? AudioError)?.kind, .empty)
        }
    }
}

import Foundation
import HarkTestSupport
import XCTest

@testable import HarkAudio

/// Inputs that once crashed, hung, allocated without bound or were silently
/// accepted: each now gives one line naming the input, or works.
final class InputLimitsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let url = dir.appendingPathComponent(name)
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(bytes)))
        return url.path
    }

    func expect(
        _ path: String, _ kind: AudioError.Kind, _ fragment: String, options: AudioLoadOptions = AudioLoadOptions(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try AudioLoader.load(path, options: options), file: file, line: line) { error in
            guard let e = error as? AudioError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertEqual(e.input, path, file: file, line: line)
            XCTAssertTrue(e.description.contains(fragment), "\(e) lacks \"\(fragment)\"", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line", file: file, line: line)
        }
    }

    static let tone = WavBuilder.tone(count: 4000)
    /// (name, whole file, bytes before the audio data).
    static let containers: [(String, [UInt8], Int)] = [
        ("t.aiff", ContainerBuilder.aiff(tone), 54),
        ("t.au", ContainerBuilder.au(tone), 24),
        ("t.w64", ContainerBuilder.w64(tone), 104),
        ("t.sph", ContainerBuilder.nist(tone), 1024)
    ]

    /// The whole files decode to the tone; any cut inside their data is a
    /// truncation, from a file and from memory (standard input).
    func testTruncatedAiffAuWave64AndSphereAreErrors() throws {
        let expected = Self.tone.map { Float($0) / 32_768 }
        for (name, bytes, header) in Self.containers {
            let whole = try AudioLoader.load(write(name, bytes))
            XCTAssertEqual(whole.waveform.samples, expected, name)
            for keep in [header + 2, header + 4000, bytes.count - 2] {
                let cut = Array(bytes.prefix(keep))
                expect(
                    write("cut-\(keep)-" + name, cut), .truncated,
                    "the header declares 8000 bytes of audio data but only \(keep - header) follow it")
                XCTAssertThrowsError(try AudioLoader.load(bytes: cut, displayName: "-"), name) { error in
                    XCTAssertEqual((error as? AudioError)?.kind, .truncated, "\(error)")
                }
            }
        }
    }

    func testImplausibleSampleRatesAreRefused() {
        let limits = "Hark accepts 1000 to 384000 Hz"
        // 500 KB of 8-bit audio "at 63 Hz" would be 2.2 hours at 16 kHz.
        let cases: [(Int, Int)] = [(63, 8), (999, 16), (384_001, 16), (1_000_000, 16)]
        for (rate, bits) in cases {
            let payload = [UInt8](repeating: 0x80, count: 2000)
            expect(
                write("rate-\(rate).wav", WavBuilder.wav(payload: payload, sampleRate: rate, bitsPerSample: bits)),
                .badSampleRate, "the header claims \(rate) Hz; \(limits)")
        }
        for rate in [1000, 384_000] {
            XCTAssertNoThrow(try AudioLoader.load(write("ok-\(rate).wav", WavBuilder.pcm16(Self.tone, sampleRate: rate))), "\(rate)")
        }
    }

    /// A device that never ends is read up to the limit, then refused.
    func testEndlessStreamStopsAtTheLimit() {
        let options = AudioLoadOptions(maxStreamBytes: 1 << 20)
        expect("/dev/zero", .tooLong, "a character device longer than 1 MiB, the most read from a stream", options: options)
    }

    /// /proc files report size 0 but have content: read as a stream, then judged.
    func testFileWithoutSizeIsReadAsAStream() {
        expect("/proc/self/status", .unrecognized, "libsndfile says")
    }

    func makeFifo(_ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        guard mkfifo(path, 0o600) == 0 else { throw XCTSkip("mkfifo failed: \(String(cString: strerror(errno)))") }
        return path
    }

    /// A FIFO with a writer is read like a pipe; without one, the wait is
    /// bounded; found in a directory, it is refused at once.
    func testFifos() throws {
        let fifo = try makeFifo("f.wav")
        let bytes = WavBuilder.pcm16(Self.tone)
        let writer = Thread {
            // Opening for writing waits for the reader.
            if let h = FileHandle(forWritingAtPath: fifo) { h.write(Data(bytes)); h.closeFile() }
        }
        writer.start()
        XCTAssertEqual(try AudioLoader.load(fifo).waveform.samples.count, Self.tone.count)

        let lonely = try makeFifo("lonely.wav")
        let started = Date()
        expect(lonely, .unreadable, "a FIFO with no writer: nothing arrived within 0.2 s", options: AudioLoadOptions(fifoWriterWait: 0.2))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        expect(lonely, .unreadable, "a FIFO, not a regular file", options: AudioLoadOptions(allowStreams: false))
    }

    /// Blocks from the reader add up to the whole load; `rewind` starts over.
    func testReaderBlocksAndRewind() throws {
        let path = write("long.wav", WavBuilder.pcm16(WavBuilder.tone(count: 40_000, sampleRate: 8000), sampleRate: 8000))
        let options = AudioLoadOptions(targetSampleRate: 16_000)
        let whole = try AudioLoader.load(path, options: options).waveform.samples
        XCTAssertEqual(whole.count, 80_000)
        let reader = try AudioReader(path, options: options)
        var first: [Float] = []
        while let b = try reader.read() { first += b }
        try reader.rewind()
        var second: [Float] = []
        while let b = try reader.read() { second += b }
        XCTAssertEqual(first, whole)
        XCTAssertEqual(second, whole)
        // Streaming libsamplerate equals the one-shot conversion to float rounding.
        let once = try Resampler.resample(
            WavBuilder.tone(count: 40_000, sampleRate: 8000).map { Float($0) / 32_768 }, from: 8000, to: 16_000)
        XCTAssertEqual(once.count, whole.count)
        XCTAssertNil(compare(whole, once, absolute: 1e-5).firstBad)
    }
}

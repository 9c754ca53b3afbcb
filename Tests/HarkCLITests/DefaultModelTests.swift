import Foundation
import HarkTestSupport
import XCTest

/// The model that ships in models/an4-blstm, on a recording of a speaker it
/// never heard in training (AN4 speaker mmaf, held out).
final class DefaultModelTests: CLITestCase {
    func testTranscribesTheBundledSample() throws {
        // No --model: the default is found from the executable's location.
        let run = try hark(["transcribe", "audio/an52-mmaf-b.wav"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "ENTER SEVEN\n")
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

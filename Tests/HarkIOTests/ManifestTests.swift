import Foundation
import XCTest

@testable import HarkIO

/// A manifest line that cannot mean what it says is an error naming the line.
final class ManifestTests: XCTestCase {
    func parse(_ text: String, json: Bool = true) throws -> [ManifestEntry] {
        try Manifest.parse(Data(text.utf8), path: "/data/m.jsonl", json: json)
    }

    func expect(_ text: String, json: Bool = true, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text, json: json), file: file, line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix("/data/m.jsonl: "), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    /// The release binary read sub/enter.wav for this line: a C path ends at the NUL.
    func testNulInAPathIsAnError() {
        expect(
            #"{"audio_filepath": "ok.wav"}"# + "\n" + #"{"audio_filepath": "sub/enter.wav\u0000evil", "text": "ENTER"}"#,
            #"line 2: the audio path "sub/enter.wav\u0000evil" contains a NUL character"#)
        expect("x.wav\tA\nsub/enter.wav\u{0}evil\tB\n", json: false, "line 2: the audio path")
    }

    /// The release binary scored `"text": 7` against an empty reference.
    func testNonStringTextIsAnError() {
        expect(#"{"audio_filepath": "a.wav", "text": 7}"#, #"line 1: "text" is the number 7, not a string"#)
        expect(#"{"audio_filepath": "a.wav", "text": null}"#, #""text" is null, not a string"#)
        expect(#"{"audio_filepath": "a.wav", "text": ["A"]}"#, #""text" is a list, not a string"#)
        expect(#"{"audio_filepath": "a.wav", "text": true}"#, #""text" is true, not a string"#)
        XCTAssertEqual(try parse(#"{"audio_filepath": "a.wav"}"#).map(\.text), [nil], "no text at all is fine")
    }

    func testDurationMustBeANonNegativeNumber() throws {
        expect(#"{"audio_filepath": "a.wav", "duration": "1.5"}"#, #"line 1: "duration" is the string "1.5", not a non-negative number"#)
        expect(#"{"audio_filepath": "a.wav", "duration": -1}"#, #""duration" is the number -1"#)
        expect(#"{"audio_filepath": "a.wav", "duration": false}"#, #""duration" is false"#)
        XCTAssertEqual(try parse(#"{"audio_filepath": "a.wav", "duration": 2}"#).map(\.duration), [2])
    }

    /// "\r\n" is one Character in Swift: splitting on "\n" alone read a CR LF
    /// TSV manifest as one line whose transcript held every other line.
    func testCrLfLines() throws {
        let t = try parse("a.wav\tONE\r\nb.wav\tTWO\r\n", json: false)
        XCTAssertEqual(t.map(\.writtenPath), ["a.wav", "b.wav"])
        XCTAssertEqual(t.map(\.text), ["ONE", "TWO"])
        XCTAssertEqual(t.map(\.line), [1, 2])
        let j = try parse(#"{"audio_filepath": "a.wav"}"# + "\r\n" + #"{"audio_filepath": "b.wav"}"# + "\r\n")
        XCTAssertEqual(j.map(\.audioPath), ["/data/a.wav", "/data/b.wav"])
    }

    /// A manifest is held in memory: a directory, a file over the size limit
    /// or an endless stream is refused with the file named, never read whole.
    func testManifestsAreReadWithinALimit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-limit-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func refused(_ path: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Manifest.read(path), line: line) { error in
                XCTAssertEqual("\(error)", "\(path): \(fragment)", line: line)
            }
        }
        let folder = dir.appendingPathComponent("sub.jsonl")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        refused(folder.path, "is a directory, not a manifest")
        // A sparse file: larger than the limit, without the disk space.
        let big = dir.appendingPathComponent("big.jsonl")
        FileManager.default.createFile(atPath: big.path, contents: Data())
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: UInt64(Manifest.maxBytes) + 1)
        try handle.close()
        refused(big.path, "the manifest is larger than 256 MiB")
        // A stream gives no size beforehand: it is read up to the limit.
        let zero = dir.appendingPathComponent("zero.jsonl")
        try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
        refused(zero.path, "the manifest is larger than 256 MiB")
        refused(dir.appendingPathComponent("none.jsonl").path, "no such manifest")
        let ok = dir.appendingPathComponent("ok.jsonl")
        try Data(#"{"audio_filepath": "a.wav", "text": "A"}"#.utf8).write(to: ok)
        XCTAssertEqual(try Manifest.read(ok.path).map(\.text), ["A"])
    }
}

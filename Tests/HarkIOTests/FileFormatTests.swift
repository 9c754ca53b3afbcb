import Foundation
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkIO

final class FileFormatTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testNpyRoundTripAndHeaderLayout() throws {
        let m = Matrix([[1, 2, 3], [4, 5, -6.5]])
        let bytes = [UInt8](NPY.encode(m))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data starts on a 64-byte boundary")
        XCTAssertEqual(bytes[10 + headerLength - 1], 0x0A)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertEqual(bytes.count, 10 + headerLength + 24)
        let url = dir.appendingPathComponent("m.npy")
        try NPY.write(m, to: url)
        XCTAssertEqual(try NPY.read(url), m)
        // Zero rows survive too.
        XCTAssertEqual(try NPY.decode(NPY.encode(Matrix(rows: 0, cols: 13)), name: "e").shape, [0, 13])
    }

    func testNpyRejectsWhatItCannotRead() {
        XCTAssertThrowsError(try NPY.decode(Data("hello".utf8), name: "x.npy")) { XCTAssertTrue("\($0)".contains("not a .npy file")) }
        var bytes = [UInt8](NPY.encode(Matrix([[1, 2]])))
        bytes.removeLast(2)
        XCTAssertThrowsError(try NPY.decode(Data(bytes), name: "x.npy")) { XCTAssertTrue("\($0)".contains("needs 8 bytes"), "\($0)") }
    }

    func testKaldiArchiveLayoutAndScriptOffsets() throws {
        let ark = dir.appendingPathComponent("feats.ark"), scp = dir.appendingPathComponent("feats.scp")
        let writer = try KaldiArchiveWriter(ark: ark, scp: scp)
        let a = Matrix([[1, 2], [3, 4], [5, 6]]), b = Matrix([[7, 8, 9]])
        try writer.append(key: "utt1", a)
        try writer.append(key: "spk/utt2", b)
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: ark))
        // "utt1 \0BFM \4<rows>\4<cols>" then floats.
        XCTAssertEqual(Array(bytes.prefix(15)), Array("utt1 ".utf8) + [0, 0x42] + Array("FM ".utf8) + [4, 3, 0, 0, 0])
        let lines = try String(contentsOf: scp, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines, ["utt1 \(ark.path):5", "spk/utt2 \(ark.path):\(5 + 15 + 24 + 9)"])
        let entries = try KaldiArchiveReader.read(ark)
        XCTAssertEqual(entries.map(\.key), ["utt1", "spk/utt2"])
        XCTAssertEqual(entries.map(\.matrix), [a, b])
    }

    func testManifestsJsonLinesAndTsv() throws {
        let jsonl = dir.appendingPathComponent("m.jsonl")
        try """
        {"audio_filepath": "a/x.wav", "text": "hello world", "duration": 1.5}

        {"audio_filepath": "/abs/y.flac"}
        """.write(to: jsonl, atomically: true, encoding: .utf8)
        let entries = try Manifest.read(jsonl.path)
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0].audioPath, dir.appendingPathComponent("a/x.wav").path)
        XCTAssertEqual(entries[0].text, "hello world")
        XCTAssertEqual(entries[0].duration, 1.5)
        XCTAssertEqual(entries[1].audioPath, "/abs/y.flac")
        XCTAssertEqual(entries[1].line, 3)

        let tsv = dir.appendingPathComponent("m.tsv")
        try "x.wav\tONE TWO\nz.wav\n".write(to: tsv, atomically: true, encoding: .utf8)
        let t = try Manifest.read(tsv.path)
        XCTAssertEqual(t.map(\.text), ["ONE TWO", nil])

        let bad = dir.appendingPathComponent("bad.jsonl")
        try "{\"text\": \"no path\"}\n".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Manifest.read(bad.path)) { XCTAssertTrue("\($0)".contains("line 1: no \"audio_filepath\""), "\($0)") }
    }

    func testInputCollectionNamesAreUniqueAndMirrorFolders() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("set/sub"), withIntermediateDirectories: true)
        for name in ["set/a.wav", "set/sub/b.flac", "set/sub/b.wav", "set/notes.txt", "x.wav", "x.flac"] {
            XCTAssertTrue(fm.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([1])))
        }
        try fm.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let c = InputCollection(arguments: [
            dir.appendingPathComponent("set").path, dir.appendingPathComponent("x.wav").path,
            dir.appendingPathComponent("x.flac").path, dir.appendingPathComponent("missing.wav").path,
            dir.appendingPathComponent("empty").path, "-"
        ])
        XCTAssertEqual(c.inputs.map(\.name), ["a", "sub/b.flac", "sub/b.wav", "x.wav", "x.flac", "stdin"])
        XCTAssertEqual(c.failures.count, 2)
        XCTAssertEqual(c.notes.count, 4)
        // Two inputs with the same name and extension get numbered.
        let twice = InputCollection(arguments: [dir.appendingPathComponent("x.wav").path, dir.appendingPathComponent("x.wav").path])
        XCTAssertEqual(twice.inputs.map(\.name), ["x.wav", "x.wav-2"])
    }

    /// A full disk: the failed entry is an error naming the archive, not a trap.
    func testArchiveOnAFullDeviceThrows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try KaldiArchiveWriter(ark: URL(fileURLWithPath: "/dev/full"), scp: dir.appendingPathComponent("feats.scp"))
        XCTAssertThrowsError(try writer.append(key: "utt1", Matrix(rows: 2, cols: 3))) {
            XCTAssertEqual("\($0)", "cannot write to /dev/full: No space left on device")
        }
    }
}

import Foundation
import HarkTestSupport
import XCTest

@testable import HarkIO

final class InputCollectionTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func touch(_ relative: String) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data([1])))
    }

    /// Creates `dir/relative + name bytes` through the C API: Swift strings
    /// cannot hold bytes that are not UTF-8.
    func touchRaw(_ relativeFolder: String, _ name: [UInt8]) throws {
        let path = Array(dir.appendingPathComponent(relativeFolder).path.utf8) + [0x2F] + name + [0]
        let fd = path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: path.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
    }

    /// The release binary skipped such a file without a word and exited 0.
    func testNamesThatAreNotUtf8AreReportedNotSkipped() throws {
        try touch("set/ok.wav")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("set/sub"), withIntermediateDirectories: true)
        try touchRaw("set/sub", Array("caf".utf8) + [0xE9] + Array(".wav".utf8))  // Latin-1 "café.wav"
        try touchRaw("set", [0xFF, 0xFE] + Array("notes.txt".utf8))  // not audio: ignored
        let set = dir.appendingPathComponent("set").path
        let c = InputCollection(arguments: [set])
        XCTAssertEqual(c.inputs.map(\.name), ["ok"])
        XCTAssertEqual(c.failures.count, 1)
        XCTAssertEqual(c.failures.first?.input, set)
        XCTAssertEqual(
            c.failures.first?.message,
            #"skipped "sub/caf\xE9.wav": the file name is not UTF-8 (bytes shown as \xNN), which Hark cannot open — rename it"#)
        // A directory holding only such a file is not "empty".
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("only"), withIntermediateDirectories: true)
        try touchRaw("only", [0x80] + Array(".flac".utf8))
        let only = InputCollection(arguments: [dir.appendingPathComponent("only").path])
        XCTAssertEqual(
            only.failures.map(\.message),
            [#"skipped "\x80.flac": the file name is not UTF-8 (bytes shown as \xNN), which Hark cannot open — rename it"#])
    }

    func testAnArgumentThatLostItsBytesSaysWhy() {
        let c = InputCollection(arguments: [dir.appendingPathComponent("caf\u{FFFD}.wav").path])
        XCTAssertTrue(c.failures.first?.message.contains("not UTF-8") == true, "\(c.failures)")
    }

    func testEscapingKeepsValidUtf8() {
        XCTAssertEqual(InputCollection.escaped(Array("é/".utf8) + [0xC3] + Array("x".utf8)), #"é/\xC3x"#)
    }

    /// The release binary wrote three archive entries keyed `a_b`.
    func testArchiveKeysAreUnique() throws {
        for name in ["a b.wav", "a\tb.wav", "a_b.wav", "c d.wav"] { try touch(name) }
        let c = InputCollection(arguments: ["a b.wav", "a\tb.wav", "a_b.wav", "c d.wav"].map { dir.appendingPathComponent($0).path })
        XCTAssertEqual(c.inputs.map(\.name), ["a b", "a\tb", "a_b", "c d"], "file names differ, so output names do")
        XCTAssertEqual(c.inputs.map(\.archiveKey), ["a_b", "a_b-2", "a_b-3", "c_d"])
        XCTAssertEqual(c.notes.count, 2)
        XCTAssertTrue(c.notes[0].hasSuffix(#"archive key "a_b-2" because another input's key is also "a_b""#), c.notes[0])
    }

    /// Renaming used to try -2, -3, … from the start for every duplicate:
    /// 20,000 copies took minutes. Now each base remembers its next suffix.
    func testTwentyThousandDuplicateNames() throws {
        try touch("x.wav")
        let path = dir.appendingPathComponent("x.wav").path
        let c = InputCollection(arguments: [String](repeating: path, count: 20_000))
        XCTAssertEqual(c.inputs.count, 20_000)
        XCTAssertEqual(c.inputs.first?.name, "x.wav")
        XCTAssertEqual(c.inputs[1].name, "x.wav-2")
        XCTAssertEqual(c.inputs.last?.name, "x.wav-20000")
        XCTAssertEqual(Set(c.inputs.map(\.name)).count, 20_000)
        XCTAssertEqual(Set(c.inputs.map(\.archiveKey)).count, 20_000)
    }

    func testRenamedNamesAvoidNamesTakenLater() {
        var names = UniqueNames()
        XCTAssertEqual(["a", "a", "a-2", "a", "b"].map { names.claim($0) }, ["a", "a-2", "a-2-2", "a-3", "b"])
    }

    /// Links with absolute targets all got their target's stem, so names
    /// collided; the name comes from the path as written.
    func testManifestNamesComeFromThePathAsWritten() throws {
        try touch("store/blob.wav")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("set/sub"), withIntermediateDirectories: true)
        let target = dir.appendingPathComponent("store/blob.wav").path
        for link in ["set/one.wav", "set/sub/two.wav"] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(link).path, withDestinationPath: target)
        }
        let manifest = dir.appendingPathComponent("set/m.jsonl")
        try """
        {"audio_filepath": "one.wav"}
        {"audio_filepath": "./sub/two.wav"}
        {"audio_filepath": "\(dir.appendingPathComponent("set/sub/two.wav").path)"}
        {"audio_filepath": "../store/blob.wav"}
        """.write(to: manifest, atomically: true, encoding: .utf8)
        let c = InputCollection(arguments: [manifest.path])
        XCTAssertEqual(c.failures.count, 0, "\(c.failures)")
        XCTAssertEqual(c.inputs.map(\.name), ["one", "sub/two.wav", "sub/two.wav-2", "blob"])
    }

    func testEmptyManifestIsReported() throws {
        let manifest = dir.appendingPathComponent("m.tsv")
        try "\n\n".write(to: manifest, atomically: true, encoding: .utf8)
        XCTAssertEqual(InputCollection(arguments: [manifest.path]).failures.map(\.message), ["the manifest has no entries"])
    }

    func testLexicalNormalization() {
        XCTAssertEqual(InputCollection.lexicallyNormalized("/a/./b//c/../d"), "/a/b/d")
        XCTAssertEqual(InputCollection.lexicallyNormalized("/../x"), "/x")
        XCTAssertEqual(InputCollection.lexicallyNormalized("/"), "/")
    }
}

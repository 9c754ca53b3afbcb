import Foundation
import HarkCore
import HarkTestSupport
import XCTest

/// Writes that fail are errors naming the destination, never traps; atomic
/// writes leave nothing behind; a directory lock is exclusive.
final class FileWritingTests: XCTestCase {
    func testFullDeviceIsAnErrorNotATrap() {
        XCTAssertThrowsError(try FileWriting.append(Array("line\n".utf8), to: "/dev/full")) {
            XCTAssertEqual("\($0)", "cannot write to /dev/full: No space left on device")
        }
        let fd = open("/dev/full", O_WRONLY)
        defer { close(fd) }
        XCTAssertThrowsError(try FileWriting.writeAll([1, 2, 3], to: fd, destination: "standard output")) {
            XCTAssertEqual("\($0)", "cannot write to standard output: No space left on device")
        }
        XCTAssertThrowsError(try FileWriting.writeAll([1], to: -1, destination: "nowhere"))
    }

    func testAtomicWriteReplacesWholeAndLeavesNoTemporary() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("file.bin")
        try FileWriting.writeAtomically([1, 2, 3], to: url)
        try FileWriting.writeAtomically([4, 5], to: url)
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), [4, 5])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["file.bin"])
        // Into a missing directory: an error, and no temporary left anywhere.
        XCTAssertThrowsError(try FileWriting.writeAtomically([1], to: dir.appendingPathComponent("missing/file.bin")))
        // Appends add whole lines.
        let log = dir.appendingPathComponent("log").path
        try FileWriting.append(Array("a\n".utf8), to: log)
        try FileWriting.append(Array("b\n".utf8), to: log)
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "a\nb\n")
    }

    /// A device or a symbolic link is written through, never replaced.
    func testAtomicWriteLeavesDevicesAndLinksInPlace() throws {
        XCTAssertThrowsError(try FileWriting.writeAtomically([1, 2], to: URL(fileURLWithPath: "/dev/full"))) {
            XCTAssertEqual("\($0)", "cannot write to /dev/full: No space left on device")
        }
        var info = stat()
        XCTAssertEqual(lstat("/dev/full", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/full is still a device")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target"), link = dir.appendingPathComponent("link")
        try Data([9]).write(to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try FileWriting.writeAtomically([7, 8], to: link)
        XCTAssertEqual([UInt8](try Data(contentsOf: target)), [7, 8])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link.path), target.path)
    }

    func testStaleTemporariesAreRemoved() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in [".model.safetensors.tmp-123", ".dat.nosync99", "keep.txt", ".hidden"] {
            try Data([0]).write(to: dir.appendingPathComponent(name))
        }
        XCTAssertEqual(Set(FileWriting.removeStaleTemporaries(in: dir)), [".model.safetensors.tmp-123", ".dat.nosync99"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), ["keep.txt", ".hidden"])
    }

    func testDirectoryLockIsExclusive() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var first: DirectoryLock? = try DirectoryLock(dir)
        XCTAssertThrowsError(try DirectoryLock(dir)) {
            XCTAssertTrue("\($0)".contains("is in use by another process (pid \(getpid()))"), "\($0)")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try DirectoryLock(dir), "released with its owner")
    }
}

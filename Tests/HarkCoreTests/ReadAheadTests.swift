import Foundation
import HarkCore
import XCTest

/// Blocks read ahead come in order, at most `depth` ahead, with the read's
/// error at its block, and nothing is read after `stop()`.
final class ReadAheadTests: XCTestCase {
    /// A source of blocks 0, 1, 2, … that counts its reads (from the reading thread).
    final class Source: @unchecked Sendable {
        let lock = NSLock()
        private var nextBlock = 0
        let count: Int, failAt: Int?
        init(count: Int, failAt: Int? = nil) {
            self.count = count
            self.failAt = failAt
        }
        var reads: Int {
            lock.lock()
            defer { lock.unlock() }
            return nextBlock
        }
        func read() throws -> [Int]? {
            lock.lock()
            defer { lock.unlock() }
            guard nextBlock < count else { return nil }
            if nextBlock == failAt { throw CocoaError(.fileReadCorruptFile) }
            nextBlock += 1
            return [nextBlock - 1]
        }
    }

    func testBlocksComeInOrderAndEndWithNil() throws {
        let source = Source(count: 500)
        let ahead = ReadAhead(depth: 3, read: source.read)
        defer { ahead.stop() }
        var got: [Int] = []
        while let block = try ahead.next() { got += block }
        XCTAssertEqual(got, Array(0..<500))
        XCTAssertNil(try ahead.next(), "after the end, still the end")
    }

    func testTheReadsErrorComesAtItsBlock() throws {
        let source = Source(count: 100, failAt: 7)
        let ahead = ReadAhead(read: source.read)
        defer { ahead.stop() }
        var got: [Int] = []
        XCTAssertThrowsError(try { while let block = try ahead.next() { got += block } }())
        XCTAssertEqual(got, Array(0..<7), "every block before the error, then the error")
        XCTAssertEqual(source.reads, 7, "nothing is read after the error")
    }

    func testReadsAtMostDepthAheadAndNothingAfterStop() throws {
        let source = Source(count: 1_000)
        let ahead = ReadAhead(depth: 2, read: source.read)
        XCTAssertEqual(try ahead.next(), [0])
        // The reader fills its two places and waits: blocks 1 and 2, and no more.
        let deadline = Date().addingTimeInterval(10)
        while source.reads < 3 && Date() < deadline { usleep(1_000) }
        usleep(50_000)
        XCTAssertEqual(source.reads, 3)
        ahead.stop()
        let afterStop = source.reads
        usleep(50_000)
        XCTAssertEqual(source.reads, afterStop, "not read again once stop() has returned")
        XCTAssertLessThanOrEqual(afterStop, 4)
    }
}

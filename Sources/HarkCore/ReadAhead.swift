import Foundation

/// Blocks read on a thread of their own, up to `depth` ahead of the one who
/// takes them: decoding the next block of a recording overlaps with the work
/// on this one.
///
/// `next()` returns the blocks in the order `read` returned them, and throws
/// `read`'s error at the block where it happened; reading ends at the first
/// nil or error. Memory: at most `depth` blocks waiting. `read` is called on
/// the reading thread only, never twice at once; after `stop()` returns it is
/// not called again, so its source can be rewound or closed.
public final class ReadAhead<Block>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Blocks read and not yet taken, oldest first.
    private var ready: [Result<Block?, Error>] = []
    private var stopping = false
    private var reading = true
    private let depth: Int

    /// Starts reading with `read` (nil: the end) on a new thread.
    public init(depth: Int = 2, read: @escaping () throws -> Block?) {
        self.depth = max(1, depth)
        let thread = Thread { [self] in run(read) }
        thread.name = "hark read-ahead"
        thread.start()
    }

    private func run(_ read: () throws -> Block?) {
        defer {
            condition.lock()
            reading = false
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while ready.count >= depth && !stopping { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { return }
            let result = Result { try read() }
            condition.lock()
            ready.append(result)
            condition.broadcast()
            condition.unlock()
            // A nil block or an error ends the reading.
            guard case .success(.some) = result else { return }
        }
    }

    /// The next block; nil at the end (and after it).
    public func next() throws -> Block? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty {
            if !reading { return nil }
            condition.wait()
        }
        let result = ready.removeFirst()
        condition.broadcast()
        return try result.get()
    }

    /// Stops reading, drops the blocks not taken, and returns once the
    /// reading thread has left `read`. Call it before the source is touched
    /// again, and before the last reference goes (the thread holds one).
    public func stop() {
        condition.lock()
        stopping = true
        ready.removeAll()
        condition.broadcast()
        while reading { condition.wait() }
        condition.unlock()
    }
}

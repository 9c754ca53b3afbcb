import Foundation

/// The server's recognition work runs here: a fixed set of worker threads
/// (one per core by default) and a bounded queue. Recognition is CPU-bound, so
/// it stays off Swift's cooperative threads and SwiftNIO's event loops, which
/// keep answering `/healthz`, `/metrics` and the WebSocket while the workers
/// are busy.
///
/// The queue is bounded by admission, not here: a request is admitted
/// (`Admission`) before its body is read, and a live stream has at most one
/// job outstanding.
public final class RecognitionPool: @unchecked Sendable {
    /// The number of worker threads (at least 1).
    public let workers: Int
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var threads: [Thread] = []

    /// Jobs waiting for a worker.
    public var queued: Int { condition.lock(); defer { condition.unlock() }; return jobs.count }

    /// A pool of `workers` threads (at least 1), started now and running until `shutdown()`.
    public init(workers: Int) {
        self.workers = max(1, workers)
        for i in 0..<self.workers {
            let thread = Thread { self.loop() }  // the workers keep the pool until shutdown()
            thread.name = "hark-recognition-\(i)"
            thread.start()
            threads.append(thread)
        }
    }

    /// Lets the workers finish the queue and stop.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `work` on a worker and returns its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            defer { condition.unlock() }
            jobs.append {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
            condition.signal()
        }
    }
    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}

/// A counter with a ceiling: requests in progress (running, queued, or
/// having their body read), or open streams. `enter` fails at the ceiling,
/// which the routes answer with 503 and `Retry-After`.
public final class Admission: @unchecked Sendable {
    /// The ceiling.
    public let limit: Int
    private let lock = NSLock()
    private var count = 0

    /// A counter at 0 with the given ceiling.
    public init(limit: Int) { self.limit = limit }

    /// The count now.
    public var current: Int { lock.lock(); defer { lock.unlock() }; return count }

    /// Counts one more and returns true, or returns false at the ceiling (nothing counted).
    public func enter() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    /// Counts one less: the end of what a successful `enter` admitted.
    public func leave() {
        lock.lock()
        count -= 1
        lock.unlock()
    }

}

import Dispatch
import Foundation

/// The number of worker threads to use when the caller does not say.
public var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

/// Splits `0..<count` into at most `threads` contiguous chunks and runs `body`
/// on each chunk concurrently. With `threads == 1` it runs inline.
public func parallelChunks(
    count: Int, threads: Int, minimumChunk: Int = 1,
    _ body: (Range<Int>) -> Void
) {
    guard count > 0 else { return }
    let workers = max(1, min(threads, (count + minimumChunk - 1) / max(1, minimumChunk)))
    if workers == 1 {
        body(0..<count)
        return
    }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let start = w * chunk
        let end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// A pointer handed to worker threads that write disjoint parts of one buffer.
package struct SendablePointer: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
    package init(_ p: UnsafePointer<Float>) { pointer = UnsafeMutablePointer(mutating: p) }
}

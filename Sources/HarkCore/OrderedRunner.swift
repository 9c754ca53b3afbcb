import Dispatch
import Foundation

/// Runs `work` on every item, `threads` items at a time, and hands each
/// result to `emit` in item order, so output never depends on timing. A
/// thrown error goes to `failed` (in order too) and the batch goes on.
///
/// Items are taken in windows of 16 per thread: at most that many results
/// wait in memory for their turn. Within a window each thread takes the
/// next item not yet taken, so a long item does not hold up the others'.
public func processInOrder<Item, Result>(
    _ items: [Item], threads: Int,
    work: (Item) throws -> Result,
    emit: (Int, Item, Result) throws -> Void,
    failed: (Int, Item, Error) -> Void
) {
    let threads = max(1, threads)
    let window = threads * 16
    let lock = NSLock()
    var start = 0
    while start < items.count {
        let range = start..<min(items.count, start + window)
        var outcomes = [Swift.Result<Result, Error>?](repeating: nil, count: range.count)
        var taken = 0
        DispatchQueue.concurrentPerform(iterations: min(threads, range.count)) { _ in
            while true {
                lock.lock()
                let i = taken
                taken += 1
                lock.unlock()
                guard i < range.count else { return }
                let outcome = Swift.Result { try work(items[range.lowerBound + i]) }
                lock.lock(); outcomes[i] = outcome; lock.unlock()
            }
        }
        for (i, outcome) in outcomes.enumerated() {
            let index = range.lowerBound + i
            switch outcome! {
            case .success(let r):
                do { try emit(index, items[index], r) } catch { failed(index, items[index], error) }
            case .failure(let e):
                failed(index, items[index], e)
            }
        }
        start = range.upperBound
    }
}

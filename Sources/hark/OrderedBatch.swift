import Dispatch
import Foundation
import HarkIO

/// Runs `work` on every input, `threads` inputs at a time, and hands each
/// result to `emit` in input order (so output never depends on timing).
/// A thrown error goes to `failed` and the batch goes on.
func processInOrder<Result>(_ inputs: [AudioInput], threads: Int,
                            work: (AudioInput) throws -> Result,
                            emit: (AudioInput, Result) throws -> Void,
                            failed: (AudioInput, Error) -> Void) {
    let window = max(threads * 16, 1)
    let lock = NSLock()
    var start = 0
    while start < inputs.count {
        let batch = Array(inputs[start..<min(inputs.count, start + window)])
        var results = [Result?](repeating: nil, count: batch.count)
        var errors = [Error?](repeating: nil, count: batch.count)
        DispatchQueue.concurrentPerform(iterations: min(threads, batch.count)) { worker in
            var i = worker
            while i < batch.count {
                do {
                    let r = try work(batch[i])
                    lock.lock(); results[i] = r; lock.unlock()
                } catch {
                    lock.lock(); errors[i] = error; lock.unlock()
                }
                i += threads
            }
        }
        for i in batch.indices {
            if let e = errors[i] {
                failed(batch[i], e)
            } else if let r = results[i] {
                do { try emit(batch[i], r) } catch { failed(batch[i], error) }
            }
        }
        start += batch.count
    }
}

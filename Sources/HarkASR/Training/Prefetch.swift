import Dispatch

/// A value computed on another thread, waited for by `take`.
final class Prefetch<Value>: @unchecked Sendable {
    private var value: Value?
    private let done = DispatchSemaphore(value: 0)

    init(_ compute: @escaping () -> Value) {
        DispatchQueue.global().async {
            self.value = compute()
            self.done.signal()
        }
    }

    func take() -> Value {
        done.wait()
        return value!
    }
}

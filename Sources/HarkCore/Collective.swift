import Foundation

/// The processes of a data-parallel job and the collective operations among
/// them: one process alone (`SingleProcess`), the ranks of an MPI job
/// (`MPICollective` in HarkMPI, under `mpirun` or `srun`), or threads of one
/// process standing in for ranks (`LocalGroup`, for tests).
///
/// Every rank calls every collective operation in the same order with
/// buffers of the same size (`allgather`: any size).
public protocol Collective: AnyObject {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Element-wise sum over the ranks, in place.
    func allreduceSum(_ values: inout [Float])
    /// Element-wise sum over the ranks, in place.
    func allreduceSum(_ values: inout [Double])
    /// Every rank's bytes, in rank order.
    func allgather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Rank `root`'s bytes on every rank.
    func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8]
    /// Returns when every rank has called it.
    func barrier()
}

extension Collective {
    /// Whether this process is rank 0.
    public var isRoot: Bool { rank == 0 }

    /// `allgather` for payloads of any size: sent in rounds of at most
    /// `chunk` bytes per rank (MPI counts are 32-bit), concatenated again.
    public func allgatherLarge(_ bytes: [UInt8], chunk: Int = 256 << 20) -> [[UInt8]] {
        var result = [[UInt8]](repeating: [], count: size)
        var offset = 0
        while true {
            let piece = Array(bytes[min(offset, bytes.count)..<min(bytes.count, offset + chunk)])
            offset += piece.count
            var remaining: [Double] = [Double(bytes.count - offset)]
            let parts = allgather(piece)
            for (r, p) in parts.enumerated() { result[r] += p }
            allreduceSum(&remaining)
            if remaining[0] == 0 { return result }
        }
    }

    /// The items of `0 ..< count` this rank takes when they are dealt round-robin: rank, rank + size, ….
    public func dealt(_ count: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }

    /// The slice of `0 ..< count` this rank takes: contiguous, sizes differing by at most one.
    public func share(of count: Int) -> Range<Int> {
        let lo = count * rank / size, hi = count * (rank + 1) / size
        return lo..<hi
    }
}

/// One process: every collective operation is the identity.
public final class SingleProcess: Collective {
    /// The process alone.
    public init() {}
    /// 0, the only rank.
    public var rank: Int { 0 }
    /// 1.
    public var size: Int { 1 }
    /// Leaves the values as they are: the sum over one rank.
    public func allreduceSum(_ values: inout [Float]) {}
    /// Leaves the values as they are: the sum over one rank.
    public func allreduceSum(_ values: inout [Double]) {}
    /// `[bytes]`.
    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    /// `bytes`.
    public func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] { bytes }
    /// Returns at once.
    public func barrier() {}
}

/// `size` ranks as threads of one process, for testing data-parallel code
/// without an MPI launcher: `LocalGroup.run(size:) { collective in … }` runs
/// the body once per rank, concurrently, and returns the results in rank
/// order. Sums are taken in rank order, as a deterministic MPI reduction would.
public final class LocalGroup: @unchecked Sendable {
    /// The number of ranks.
    public let size: Int
    private let condition = NSCondition()
    private var generation = 0
    private var arrived = 0
    private var slots: [Any?]
    private var result: Any?

    init(size: Int) {
        self.size = size
        slots = [Any?](repeating: nil, count: size)
    }

    /// Runs `body` on `size` threads, one per rank.
    public static func run<T>(size: Int, _ body: @escaping (Collective) -> T) -> [T] {
        let group = LocalGroup(size: size)
        let results = Slots<T>(size)
        let lock = NSLock()
        let done = DispatchSemaphore(value: 0)
        // One thread per rank (not a pool: a rank blocked in a collective must not hold up another).
        for rank in 0..<size {
            let thread = Thread {
                let value = body(Member(group: group, rank: rank))
                lock.lock(); results.values[rank] = value; lock.unlock()
                done.signal()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        for _ in 0..<size { done.wait() }
        return results.values.map { $0! }
    }

    final class Slots<T>: @unchecked Sendable {
        var values: [T?]
        init(_ n: Int) { values = [T?](repeating: nil, count: n) }
    }

    /// Every rank deposits `value`; the last to arrive combines them; all get the combination.
    func exchange(rank: Int, _ value: Any, combine: ([Any]) -> Any) -> Any {
        condition.lock()
        defer { condition.unlock() }
        let myGeneration = generation
        slots[rank] = value
        arrived += 1
        if arrived == size {
            result = combine(slots.map { $0! })
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        return result!
    }

    final class Member: Collective {
        let group: LocalGroup
        let rank: Int
        var size: Int { group.size }

        init(group: LocalGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }

        func allreduceSum(_ values: inout [Float]) { values = summed(values) }
        func allreduceSum(_ values: inout [Double]) { values = summed(values) }

        /// The element-wise sum of every member's `values`.
        private func summed<T: AdditiveArithmetic>(_ values: [T]) -> [T] {
            group.exchange(rank: rank, values) { all in
                var sum = all[0] as! [T]
                for other in all.dropFirst() { for (i, x) in (other as! [T]).enumerated() { sum[i] += x } }
                return sum
            } as! [T]
        }

        func allgather(_ bytes: [UInt8]) -> [[UInt8]] {
            group.exchange(rank: rank, bytes) { all in all.map { $0 as! [UInt8] } } as! [[UInt8]]
        }

        func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] {
            allgather(bytes)[root]
        }

        func barrier() { _ = allgather([]) }
    }
}

import COpenBLAS
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// The threads Hark's own parallel work may use: the blocks of a large
/// product (`sgemm`) and the two directions of a bidirectional layer. Set
/// once at start (the command line's `--threads`); it decides only how much
/// runs at once, never what is computed, so results are the same bits on one
/// thread or many.
public enum ComputeThreads {
    /// The number of threads; by default `defaultThreadCount`.
    public static var count: Int = defaultThreadCount
}

/// OpenBLAS runs on one thread, always: its multithreaded GEMM sums a large
/// K in another order than its single-threaded one, and its thread count is
/// process-wide, so it could not be changed per call without changing results
/// with the timing of other threads. Hark parallelises products itself, in
/// blocks that depend on the shape only (`gemmBlocks`). Set before the first
/// product.
let openBLASOnOneThread: Void = releaseOpenBLASThreads()

/// Puts OpenBLAS on one thread and stops the worker threads its threaded
/// builds (Debian's default, libopenblas0-pthread) start when the library
/// loads: Hark never gives them work, and each spins on `sched_yield` for
/// its first ~0.1 s, taking a core from Hark's own threads at the start of
/// every process (a tenth of `hark features`' time on a 10-minute file).
/// Call it first thing; later calls do nothing. OpenBLAS builds without the
/// thread server (serial, OpenMP) have no `blas_thread_shutdown_`: then
/// only the thread count is set.
public func releaseOpenBLASThreads() {
    _ = releasedOpenBLASThreads
}

private let releasedOpenBLASThreads: Void = {
    openblas_set_num_threads(1)
    if let symbol = dlsym(nil, "blas_thread_shutdown_") {
        typealias Shutdown = @convention(c) () -> Int32
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }
}()

/// How many blocks `sgemm` computes c[M, N] in: one for products under 2²¹
/// multiply-adds, else one per 2²¹ up to 8, each a slice of the longer of M
/// and N (at least 16 wide). A function of the shape alone.
func gemmBlocks(m: Int, n: Int, k: Int) -> Int {
    let work = m * n * max(k, 1)
    guard work >= 1 << 21 else { return 1 }
    return max(1, min(8, work >> 21, max(m, n) / 16))
}

/// Single-precision GEMM on row-major matrices:
/// `c[M, N] = alpha · op(a) · op(b) + beta · c`, where `op(x)` is `x` or `xᵀ`.
///
/// OpenBLAS computes each block (see `gemmBlocks`) single-threaded; the
/// blocks run on `ComputeThreads.count` threads. Every element is computed by
/// the same call whatever the thread count, so the result is too.
///
/// - Shapes: `op(a)` is [M, K], `op(b)` is [K, N], `c` is [M, N]. Each buffer
///   holds a row-major matrix whose rows are `lda`, `ldb`, `ldc` floats apart
///   (by default: its column count, i.e. contiguous).
package func sgemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    if m == 0 || n == 0 { return }
    _ = openBLASOnOneThread
    let lda = max(1, lda ?? (transA ? m : k)), ldb = max(1, ldb ?? (transB ? k : n)), ldc = max(1, ldc ?? n)
    /// c[rows, cols] of the product.
    func block(_ rows: Range<Int>, _ cols: Range<Int>) {
        // op(a) rows r…: a row of a, or (transposed) a column of a; op(b) columns likewise.
        let aBlock = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let bBlock = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(rows.count), Int32(cols.count), Int32(k), alpha,
            aBlock, Int32(lda), bBlock, Int32(ldb), beta, c + rows.lowerBound * ldc + cols.lowerBound, Int32(ldc))
    }
    let blocks = gemmBlocks(m: m, n: n, k: k)
    guard blocks > 1 else { return block(0..<m, 0..<n) }
    // Slices of the longer side, edges on multiples of 16.
    let long = max(m, n)
    let edges = (0...blocks).map { i in i == blocks ? long : (long * i / blocks) / 16 * 16 }
    let sliceRows = m >= n
    let work = { (i: Int) in
        let slice = edges[i]..<edges[i + 1]
        guard !slice.isEmpty else { return }
        if sliceRows { block(slice, 0..<n) } else { block(0..<m, slice) }
    }
    if ComputeThreads.count > 1 {
        DispatchQueue.concurrentPerform(iterations: blocks, execute: work)
    } else {
        for i in 0..<blocks { work(i) }
    }
}

/// OpenBLAS's own thread count: one (see `openBLASOnOneThread`).
public enum BLASThreads {
    /// The thread count OpenBLAS reports, read after putting it on one thread.
    public static var count: Int {
        _ = openBLASOnOneThread
        return Int(openblas_get_num_threads())
    }
}

/// What OpenBLAS says of itself: which build and which kernels it chose for
/// this processor (its "core", e.g. Haswell, SkylakeX, Cooperlake, Zen; the
/// environment variable `OPENBLAS_CORETYPE` overrides the choice in builds
/// with DYNAMIC_ARCH, such as Debian's).
public enum BLASInfo {
    /// The core type whose kernels run, e.g. "Cooperlake".
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// The build: version and options, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
    public static var configuration: String { String(cString: openblas_get_config()) }
}

import COpenBLAS

/// Single-precision GEMM on row-major matrices through OpenBLAS:
/// `c[M, N] = alpha · op(a) · op(b) + beta · c`, where `op(x)` is `x` or `xᵀ`.
///
/// - Shapes: `op(a)` is [M, K], `op(b)` is [K, N], `c` is [M, N]. Each buffer
///   holds a row-major matrix whose rows are `lda`, `ldb`, `ldc` floats apart
///   (by default: its column count, i.e. contiguous).
package func sgemm(transA: Bool = false, transB: Bool = false,
                  m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int? = nil,
                  b: UnsafePointer<Float>, ldb: Int? = nil,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    if m == 0 || n == 0 { return }
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(max(1, lda)), b, Int32(max(1, ldb)), beta, c, Int32(max(1, ldc ?? n)))
}

/// OpenBLAS's own thread count (it is process-wide).
public enum BLASThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
}

extension Matrix {
    /// `op(a) · op(b)` as a new matrix.
    ///
    /// - Shapes: `op(a)` [M, K], `op(b)` [K, N] → [M, N].
    public static func multiply(_ a: Matrix, _ b: Matrix,
                                transA: Bool = false, transB: Bool = false) -> Matrix {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb, "inner dimensions differ: \(a.shape) · \(b.shape)")
        var c = Matrix(rows: m, cols: n)
        if m == 0 || n == 0 || k == 0 { return c }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                c.data.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                          a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        return c
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

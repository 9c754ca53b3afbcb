import COpenBLAS

/// Single-precision GEMM on row-major matrices through OpenBLAS:
/// `c[M, N] = alpha · op(a) · op(b) + beta · c`, where `op(x)` is `x` or `xᵀ`.
///
/// - Shapes: `op(a)` is [M, K], `op(b)` is [K, N], `c` is [M, N]; each buffer
///   holds a row-major matrix with leading dimension equal to its column count.
public func sgemm(transA: Bool = false, transB: Bool = false,
                  m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    let lda = transA ? m : k
    let ldb = transB ? k : n
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
}

extension Matrix {
    /// `a · bᵀ` (or other transposes) as a new matrix.
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
        if m == 0 || n == 0 { return c }
        if k == 0 { return c }
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

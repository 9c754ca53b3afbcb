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

import CHarkKernels

/// Which implementation of Hark's hand-written kernels runs. A value passed
/// to the code that uses them (`PackedRightMatrix`, `Recurrent.kernels`), so
/// that tests run both and compare each with PyTorch.
public enum KernelChoice: String, Sendable, Codable, CaseIterable {
    /// Portable Swift and OpenBLAS only: the reference the fast kernels are checked against.
    case reference
    /// Hark's AVX2/FMA kernels (CHarkKernels) where the processor and the sizes allow them.
    case fast

    /// Whether this processor has AVX2 and FMA, so that `.fast` can take the C kernels.
    public static let fastAvailable: Bool = hark_gemm_acc_available() == 1

    /// Whether the C kernels run under this choice on this processor.
    public var usesVectorKernels: Bool { self == .fast && KernelChoice.fastAvailable }
}

/// A matrix b [K, N] laid out for repeated `c += a · b` with small a (the
/// recurrent product of every time step; a general GEMM would re-pack b at
/// every call). With `.fast` kernels on a processor with AVX2 and FMA, and N a
/// multiple of 16, it is stored as
/// column panels of 16, each K rows of 16 contiguous floats, which Hark's
/// register-blocked kernel streams linearly; otherwise OpenBLAS multiplies.
/// Build it once, multiply by it at every time step.
public struct PackedRightMatrix {
    public let k: Int
    public let n: Int
    /// panels[j·K + p·16 + q] = b[p, j + q] for j a multiple of 16 (packed
    /// layout), or b itself, row-major, when the kernel is not used.
    let storage: [Float]
    /// Whether the packed AVX2 kernel multiplies (false: OpenBLAS).
    public let usesPackedKernel: Bool

    /// Packs `b` given row-major [K, N] (contiguous), or its transpose: with
    /// `transposed`, `source` is bᵀ [N, K].
    package init(k: Int, n: Int, source: UnsafePointer<Float>, transposed: Bool, kernels: KernelChoice = .fast) {
        self.k = k
        self.n = n
        let packed = kernels.usesVectorKernels && n % 16 == 0
        usesPackedKernel = packed
        let element = { (p: Int, j: Int) -> Float in transposed ? source[j * k + p] : source[p * n + j] }
        var s = [Float](repeating: 0, count: k * n)
        if packed {
            for j in stride(from: 0, to: n, by: 16) {
                for p in 0..<k { for q in 0..<16 { s[j * k + p * 16 + q] = element(p, j + q) } }
            }
        } else {
            for p in 0..<k { for j in 0..<n { s[p * n + j] = element(p, j) } }
        }
        storage = s
    }

    /// c[M, N] += a[M, K] · b.
    package func multiplyAccumulate(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 || k == 0 { return }
        storage.withUnsafeBufferPointer { b in
            if usesPackedKernel {
                hark_gemm_acc_packed(Int32(m), Int32(n), Int32(k), a, Int32(lda), b.baseAddress!, c, Int32(ldc))
            } else {
                sgemm(m: m, n: n, k: k, a: a, lda: lda, b: b.baseAddress!, ldb: n, beta: 1, c: c, ldc: ldc)
            }
        }
    }
}

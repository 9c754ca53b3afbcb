import CHarkKernels
import Foundation

/// Which implementation of Hark's hand-written kernels runs. A value passed
/// to the code that uses them (`PackedRightMatrix`, `Recurrent.kernels`), so
/// that tests run both and compare each with PyTorch.
///
/// The choice is made at run time, once per process: the C kernels
/// (CHarkKernels) are 256-bit AVX2 with FMA. A processor with AVX-512 runs
/// those same AVX2 kernels (there are no AVX-512 ones); a processor without
/// AVX2 or FMA runs the reference path, portable Swift and OpenBLAS, whatever
/// `.fast` asks for. OpenBLAS chooses its own kernels for its core type
/// (`OPENBLAS_CORETYPE` overrides it). `HARK_KERNELS=reference` in the
/// environment forces the reference path on any processor, as if it had no
/// AVX2, which is how the fallback is tested on a machine that has it.
public enum KernelChoice: String, Sendable, Codable, CaseIterable {
    /// Portable Swift and OpenBLAS only: the reference the fast kernels are checked against.
    case reference
    /// Hark's AVX2/FMA kernels (CHarkKernels) where the processor and the sizes allow them.
    case fast

    /// Whether this processor has AVX2 and FMA, which the C kernels need.
    public static let processorHasAVX2FMA: Bool = hark_gemm_acc_available() == 1

    /// The environment variable that forces the reference path: `HARK_KERNELS=reference`.
    public static let environmentVariable = "HARK_KERNELS"

    /// Whether `HARK_KERNELS=reference` turned the C kernels off for this process.
    public static let forcedToReference: Bool =
        ProcessInfo.processInfo.environment[environmentVariable] == KernelChoice.reference.rawValue

    /// Whether `.fast` can take the C kernels in this process: the processor
    /// has AVX2 and FMA and the environment does not force the reference.
    public static let fastAvailable: Bool = processorHasAVX2FMA && !forcedToReference

    /// Whether the C kernels run under this choice in this process.
    public var usesVectorKernels: Bool { self == .fast && KernelChoice.fastAvailable }

    /// One line for diagnostics: which recurrent kernels `.fast` runs here, and why.
    public static var summary: String {
        if fastAvailable { return "AVX2+FMA (CHarkKernels)" }
        if forcedToReference { return "reference (Swift and OpenBLAS; \(environmentVariable)=reference)" }
        return "reference (Swift and OpenBLAS; the processor lacks AVX2 or FMA)"
    }
}

/// How many times each of Hark's C kernels has run in this process, as the
/// kernels themselves count it (an atomic count per call). Tests take the
/// difference of two readings to see which kernel executed — a property the
/// bits of a result cannot show, since OpenBLAS may round in the same order.
public struct KernelRuns: Equatable, Sendable, CustomStringConvertible {
    /// Calls of the packed per-step product (`PackedRightMatrix` with `usesPackedKernel`).
    public var packedGEMM: Int
    /// Calls of the AVX2 LSTM pointwise step.
    public var lstmStep: Int

    /// Counts of the given runs.
    public init(packedGEMM: Int, lstmStep: Int) {
        self.packedGEMM = packedGEMM
        self.lstmStep = lstmStep
    }

    /// The counts so far.
    public static var now: KernelRuns {
        var counts = hark_kernel_run_counts()
        hark_kernel_runs(&counts)
        return KernelRuns(packedGEMM: Int(counts.gemm_acc_packed), lstmStep: Int(counts.lstm_forward_step))
    }

    /// The runs between two readings.
    public static func - (later: KernelRuns, earlier: KernelRuns) -> KernelRuns {
        KernelRuns(packedGEMM: later.packedGEMM - earlier.packedGEMM, lstmStep: later.lstmStep - earlier.lstmStep)
    }

    /// "packed GEMM ×N, LSTM step ×M".
    public var description: String { "packed GEMM ×\(packedGEMM), LSTM step ×\(lstmStep)" }
}

/// A matrix b [K, N] laid out for repeated `c += a · b` with small a (the
/// recurrent product of every time step; a general GEMM would re-pack b at
/// every call). With `.fast` kernels on a processor with AVX2 and FMA, and N a
/// multiple of 16, it is stored as
/// column panels of 16, each K rows of 16 contiguous floats, which Hark's
/// register-blocked kernel streams linearly; otherwise OpenBLAS multiplies.
/// Build it once, multiply by it at every time step.
public struct PackedRightMatrix {
    /// K, the rows of b.
    public let k: Int
    /// N, the columns of b.
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

import HarkCore
import XCTest

/// `PackedRightMatrix.multiplyAccumulate`, c[M, N] += a[M, K] · b[K, N],
/// against a naive triple loop in Double.
///
/// Sizes: M = 1 … 17 covers every row block of the packed kernel (blocks of 6,
/// the last 7–9 rows split into two: every block height 1 … 6, one, two and
/// three full blocks); K = 1, 3, 40, 129; N = 16, 32, 48 take the packed
/// kernel (one to three panels of 16 columns) under `.fast`, and N = 1, 7,
/// 24, 33 (not multiples of 16) OpenBLAS. b is given as [K, N] and as its
/// transpose [N, K]. Row strides lda = K + 3 and ldc = N + 5: the padding of a
/// holds NaN (read, it would poison the result) and that of c a sentinel that
/// must survive. c starts nonzero, so the product must accumulate.
///
/// Tolerance: a float32 dot product of K terms added to c is within
/// γ = (K + 1)·u/(1 − (K + 1)·u), u = 2⁻²⁴, of the exact value, relative to
/// |c| + Σ_p |a_ip · b_pj| (Higham, Accuracy and Stability of Numerical
/// Algorithms, §3.1), whatever the summation order; the reference in Double
/// is exact to far better than that.
final class PackedRightMatrixTests: XCTestCase {
    static let rows = 1...17
    static let depths = [1, 3, 40, 129]
    static let packedWidths = [16, 32, 48]
    static let otherWidths = [1, 7, 24, 33]

    func testFastKernelsMatchNaiveProduct() {
        check(kernels: .fast)
    }

    func testReferenceKernelsMatchNaiveProduct() {
        check(kernels: .reference)
    }

    func check(kernels: KernelChoice, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: 42)
        var worst = 0.0, products = 0
        for n in Self.packedWidths + Self.otherWidths {
            for k in Self.depths {
                for transposed in [false, true] {
                    // b [K, N] row-major, or bᵀ [N, K] when `transposed`.
                    let source = (0..<k * n).map { _ in rng.nextUniform() * 2 - 1 }
                    let b = { (p: Int, j: Int) -> Float in transposed ? source[j * k + p] : source[p * n + j] }
                    let packed = source.withUnsafeBufferPointer {
                        PackedRightMatrix(k: k, n: n, source: $0.baseAddress!, transposed: transposed, kernels: kernels)
                    }
                    let expectPacked = kernels.usesVectorKernels && n % 16 == 0
                    XCTAssertEqual(packed.usesPackedKernel, expectPacked, "n \(n), \(kernels)", file: file, line: line)
                    if kernels == .fast && KernelChoice.fastAvailable {
                        XCTAssertEqual(packed.usesPackedKernel, Self.packedWidths.contains(n), file: file, line: line)
                    }
                    for m in Self.rows {
                        let lda = k + 3, ldc = n + 5
                        let sentinel: Float = 12345
                        var a = [Float](repeating: .nan, count: m * lda)
                        var c = [Float](repeating: sentinel, count: m * ldc)
                        for i in 0..<m {
                            for p in 0..<k { a[i * lda + p] = rng.nextUniform() * 2 - 1 }
                            for j in 0..<n { c[i * ldc + j] = rng.nextUniform() * 2 - 1 }
                        }
                        let c0 = c
                        let before = KernelRuns.now
                        a.withUnsafeBufferPointer { pa in
                            c.withUnsafeMutableBufferPointer { pc in
                                packed.multiplyAccumulate(m: m, a: pa.baseAddress!, lda: lda, c: pc.baseAddress!, ldc: ldc)
                            }
                        }
                        // The packed kernel ran (counted by itself) exactly when it was chosen.
                        XCTAssertEqual(
                            KernelRuns.now - before, KernelRuns(packedGEMM: expectPacked ? 1 : 0, lstmStep: 0),
                            "m \(m), n \(n), k \(k), \(kernels)", file: file, line: line)
                        var firstBad: String?
                        for i in 0..<m {
                            for j in 0..<n {
                                var exact = Double(c0[i * ldc + j]), magnitude = abs(exact)
                                for p in 0..<k {
                                    let t = Double(a[i * lda + p]) * Double(b(p, j))
                                    exact += t
                                    magnitude += abs(t)
                                }
                                let u = 0x1p-24, gamma = Double(k + 1) * u / (1 - Double(k + 1) * u)
                                let error = abs(Double(c[i * ldc + j]) - exact)
                                worst = max(worst, error / magnitude)
                                if firstBad == nil && !(error <= gamma * magnitude) {
                                    firstBad = "c[\(i), \(j)] = \(c[i * ldc + j]), exact \(exact), error \(error) > \(gamma * magnitude)"
                                }
                            }
                            for j in n..<ldc where c[i * ldc + j].bitPattern != sentinel.bitPattern {
                                firstBad = firstBad ?? "c[\(i), \(j)] beyond column \(n) was written: \(c[i * ldc + j])"
                            }
                        }
                        XCTAssertNil(
                            firstBad,
                            "m \(m), k \(k), n \(n), transposed \(transposed), \(kernels) " + "(packed kernel: \(packed.usesPackedKernel))",
                            file: file, line: line)
                        products += 1
                    }
                }
            }
        }
        print("PackedRightMatrix, kernels \(kernels): \(products) products, worst error \(worst) relative to |c| + Σ|a·b|")
    }
}

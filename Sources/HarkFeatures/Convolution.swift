import CFFTW
import Foundation

/// Linear convolution through FFTW: y = x ∗ h, computed as the inverse FFT of
/// the product of both signals' FFTs, zero-padded to a power of two at least
/// len(x) + len(h) − 1 long (so the circular convolution equals the linear one).
///
/// - Returns: the first `x.count` samples of the full convolution (the
///   input's own length: a reverberated recording keeps its duration).
public func convolve(_ x: [Float], _ h: [Float]) -> [Float] {
    guard !x.isEmpty, !h.isEmpty else { return [Float](repeating: 0, count: x.count) }
    var n = 1
    while n < x.count + h.count - 1 { n <<= 1 }
    let bins = n / 2 + 1
    let a = fftwf_alloc_real(n)!, b = fftwf_alloc_real(n)!
    let fa = fftwf_alloc_complex(bins)!, fb = fftwf_alloc_complex(bins)!
    defer { fftwf_free(a); fftwf_free(b); fftwf_free(fa); fftwf_free(fb) }
    // Planning is not thread-safe in FFTW; executing is.
    RealFFT.planningLock.lock()
    let forwardA = fftwf_plan_dft_r2c_1d(Int32(n), a, fa, UInt32(FFTW_ESTIMATE))!
    let forwardB = fftwf_plan_dft_r2c_1d(Int32(n), b, fb, UInt32(FFTW_ESTIMATE))!
    let inverse = fftwf_plan_dft_c2r_1d(Int32(n), fa, a, UInt32(FFTW_ESTIMATE))!
    RealFFT.planningLock.unlock()
    defer {
        RealFFT.planningLock.lock()
        fftwf_destroy_plan(forwardA); fftwf_destroy_plan(forwardB); fftwf_destroy_plan(inverse)
        RealFFT.planningLock.unlock()
    }
    a.initialize(repeating: 0, count: n)
    b.initialize(repeating: 0, count: n)
    x.withUnsafeBufferPointer { a.update(from: $0.baseAddress!, count: x.count) }
    h.withUnsafeBufferPointer { b.update(from: $0.baseAddress!, count: h.count) }
    fftwf_execute(forwardA)
    fftwf_execute(forwardB)
    // FA ← FA · FB / n (FFTW's inverse is unnormalised).
    let pa = UnsafeMutableRawPointer(fa).bindMemory(to: Float.self, capacity: 2 * bins)
    let pb = UnsafeMutableRawPointer(fb).bindMemory(to: Float.self, capacity: 2 * bins)
    let scale = 1 / Float(n)
    for k in 0..<bins {
        let re = pa[2 * k] * pb[2 * k] - pa[2 * k + 1] * pb[2 * k + 1]
        let im = pa[2 * k] * pb[2 * k + 1] + pa[2 * k + 1] * pb[2 * k]
        pa[2 * k] = re * scale
        pa[2 * k + 1] = im * scale
    }
    fftwf_execute(inverse)
    return Array(UnsafeBufferPointer(start: a, count: x.count))
}

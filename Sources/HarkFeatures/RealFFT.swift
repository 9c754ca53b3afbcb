import CFFTW
import Foundation

/// A real-to-complex FFT of one fixed length N through FFTW (single precision).
///
/// The plan is made with FFTW_ESTIMATE: FFTW_MEASURE times candidate
/// algorithms and may pick a different one in each process, which changes the
/// last bits of the output from run to run. Hark's output is deterministic.
///
/// The plan is made once (planning is not thread-safe in FFTW, so it happens
/// under a lock); executing it on other, equally aligned buffers is safe from
/// any number of threads, which is how every worker uses it.
final class RealFFT: @unchecked Sendable {
    let size: Int
    private let plan: fftwf_plan
    static let planningLock = NSLock()

    init(size: Int) {
        precondition(size >= 2, "FFT length \(size) is too short")
        self.size = size
        let input = fftwf_alloc_real(size)!
        let output = fftwf_alloc_complex(size / 2 + 1)!
        RealFFT.planningLock.lock()
        plan = fftwf_plan_dft_r2c_1d(Int32(size), input, output, UInt32(FFTW_ESTIMATE))!
        RealFFT.planningLock.unlock()
        fftwf_free(input)
        fftwf_free(output)
    }

    deinit {
        RealFFT.planningLock.lock()
        fftwf_destroy_plan(plan)
        RealFFT.planningLock.unlock()
    }

    /// One thread's buffers: `input` holds N reals, `output` N/2 + 1 complex
    /// values as interleaved (re, im) floats.
    final class Buffers {
        let input: UnsafeMutablePointer<Float>
        let output: UnsafeMutablePointer<Float>
        private let complex: UnsafeMutablePointer<fftwf_complex>

        init(size: Int) {
            input = fftwf_alloc_real(size)!
            complex = fftwf_alloc_complex(size / 2 + 1)!
            output = UnsafeMutableRawPointer(complex).bindMemory(to: Float.self, capacity: 2 * (size / 2 + 1))
            input.initialize(repeating: 0, count: size)
        }

        deinit {
            fftwf_free(input)
            fftwf_free(complex)
        }

        fileprivate var complexOutput: UnsafeMutablePointer<fftwf_complex> { complex }
    }

    func makeBuffers() -> Buffers { Buffers(size: size) }

    /// output[k] = Σₙ input[n] · e^(−2πi·k·n/N), k = 0 … N/2.
    func forward(_ buffers: Buffers) {
        fftwf_execute_dft_r2c(plan, buffers.input, buffers.complexOutput)
    }
}

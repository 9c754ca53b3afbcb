import Foundation
import HarkCore

/// Computes Kaldi-compatible MFCC or log-mel filterbank features, then
/// per-utterance CMVN and deltas, for whole utterances.
///
/// Everything constant — the window, the mel filterbank, the DCT matrix, the
/// FFT plan — is made once here; `compute` can then be called from any number
/// of threads at once. Each call splits its frames over `threads` workers.
///
/// - Shapes: a waveform of N samples gives a [T, F] matrix, T =
///   `frame.frameCount(sampleCount: N)`, F = `options.dimension`.
public final class FeatureExtractor: @unchecked Sendable {
    /// Kaldi reads 16-bit WAV files as integer sample values; Hark's waveforms
    /// are in [-1, 1], so they are scaled by 2¹⁵ before analysis. This is what
    /// makes energies and log-mel values equal Kaldi's, not just proportional.
    public static let sampleScale: Float = 32_768

    /// The options the features are computed with.
    public let options: FeatureOptions
    let frame: FrameOptions
    let spectrum: SpectrumSettings
    let window: [Float]
    let melBanks: MelBanks
    let fft: RealFFT
    /// [M, C]: the lifted DCT matrix transposed (bin-major), nil for fbank.
    let dctByBin: [Float]?
    /// Columns before deltas.
    public let baseDimension: Int
    /// The frame geometry, read once per frame (`FrameOptions` computes it).
    let windowSize: Int, windowShift: Int, snipEdges: Bool
    /// FFT bins the mel filters reach.
    let melBinsUsed: Int
    /// Frames per block: the unit of work one worker takes.
    static let blockFrames = 64
    /// A group of frames' values of one FFT bin, one frame per SIMD lane.
    typealias Lanes = SIMD8<Float>
    /// Frames whose mel energies are computed together, one per lane.
    static let groupFrames = Lanes.scalarCount

    /// The per-frame choices shared by MFCC and fbank.
    struct SpectrumSettings {
        var useEnergy: Bool
        var rawEnergy: Bool
        /// log(energy_floor), or nil when there is no floor.
        var logEnergyFloor: Float?
        var usePower: Bool
        var takeLog: Bool
    }

    /// - Throws: `FeatureError` naming the first option its declaration in
    ///   `FeatureOption.all` rejects, or that `MelBanks` rejects.
    public init(_ options: FeatureOptions) throws {
        try options.validate()
        self.options = options
        let mel: MelOptions
        switch options.kind {
        case .mfcc(let o):
            frame = o.frame
            mel = o.mel
            spectrum = SpectrumSettings(
                useEnergy: o.useEnergy, rawEnergy: o.rawEnergy,
                logEnergyFloor: o.energyFloor > 0 ? logf(Float(o.energyFloor)) : nil,
                usePower: true, takeLog: true)
            let d = liftedDctMatrix(numCeps: o.numCeps, numBins: mel.numBins, cepstralLifter: o.cepstralLifter)
            dctByBin = (0..<(mel.numBins * o.numCeps)).map { i in d[(i % o.numCeps) * mel.numBins + i / o.numCeps] }
            baseDimension = o.numCeps
        case .fbank(let o):
            frame = o.frame
            mel = o.mel
            spectrum = SpectrumSettings(
                useEnergy: o.useEnergy, rawEnergy: o.rawEnergy,
                logEnergyFloor: o.energyFloor > 0 ? logf(Float(o.energyFloor)) : nil,
                usePower: o.usePower, takeLog: o.useLogFbank)
            dctByBin = nil
            baseDimension = mel.numBins + (o.useEnergy ? 1 : 0)
        }
        window = frame.windowType.coefficients(length: frame.windowSize, blackmanCoeff: frame.blackmanCoeff)
        melBanks = try MelBanks(
            options: mel, sampleFrequency: frame.sampleFrequency,
            paddedWindowSize: frame.paddedWindowSize)
        fft = RealFFT(size: frame.paddedWindowSize)
        windowSize = frame.windowSize
        windowShift = frame.windowShift
        snipEdges = frame.snipEdges
        melBinsUsed = melBanks.binsUsed
    }

    /// The sample rate `compute` expects.
    public var sampleRate: Int { Int(frame.sampleFrequency) }

    /// Features of one utterance: analysis, then CMVN, then deltas.
    ///
    /// - Parameter samples: mono, in [-1, 1], at `sampleRate`.
    /// - Shapes: returns [T, F].
    public func compute(_ samples: [Float], threads: Int = 1) -> Matrix {
        normalize(computeBase(samples, threads: threads))
    }

    /// What follows the analysis: CMVN over the utterance, then deltas.
    /// Offline (`compute`) and live (`StreamingRecognizer`) features go
    /// through it.
    ///
    /// - Shapes: base [T, baseDimension] → [T, dimension].
    public func normalize(_ base: Matrix) -> Matrix {
        var features = base
        applyCmvn(&features, options: options)
        if options.deltas > 0 {
            features = addDeltas(features, order: options.deltas, window: options.deltaWindow)
        }
        return features
    }

    /// The MFCC or fbank matrix alone, without CMVN or deltas.
    ///
    /// - Shapes: returns [T, baseDimension].
    public func computeBase(_ samples: [Float], threads: Int = 1) -> Matrix {
        let frames = frame.frameCount(sampleCount: samples.count)
        var out = Matrix(rows: frames, cols: baseDimension)
        guard frames > 0 else { return out }
        let blocks = (frames + Self.blockFrames - 1) / Self.blockFrames
        samples.withUnsafeBufferPointer { wave in
            out.data.withUnsafeMutableBufferPointer { dst in
                let dstBase = SendablePointer(dst.baseAddress!)
                parallelChunks(count: blocks, threads: threads) { blockRange in
                    let work = Workspace(self)
                    for b in blockRange {
                        let t0 = b * Self.blockFrames
                        let t1 = min(frames, t0 + Self.blockFrames)
                        self.computeBlock(t0..<t1, wave: wave, origin: 0, out: dstBase.pointer + t0 * self.baseDimension, work: work)
                    }
                }
            }
        }
        return out
    }

    /// One worker's scratch memory; nothing is allocated per frame.
    final class Workspace {
        let fft: RealFFT.Buffers
        /// [windowSize] the extracted frame before pre-emphasis and windowing.
        let frame: UnsafeMutablePointer<Float>
        /// [N/2 + 1, G] the power (or magnitude) spectra of a group of G frames,
        /// bin-major: bin k of the group's frame f at k · G + f.
        var power: [Lanes]
        /// [blockFrames, M] mel energies (log) of one block.
        var mel: [Float]
        /// [blockFrames] log energies.
        var energy: [Float]

        init(_ e: FeatureExtractor) {
            fft = e.fft.makeBuffers()
            frame = .allocate(capacity: e.windowSize)
            power = [Lanes](repeating: .zero, count: e.fft.size / 2 + 1)
            mel = [Float](repeating: 0, count: FeatureExtractor.blockFrames * e.melBanks.count)
            energy = [Float](repeating: 0, count: FeatureExtractor.blockFrames)
        }

        deinit { frame.deallocate() }
    }

    /// Frames `range` into `out` ([range.count, baseDimension], row-major).
    /// `wave` holds samples `origin ..< origin + wave.count` of the signal.
    func computeBlock(
        _ range: Range<Int>, wave: UnsafeBufferPointer<Float>, origin: Int,
        out: UnsafeMutablePointer<Float>, work: Workspace
    ) {
        let numBins = melBanks.count
        work.mel.withUnsafeMutableBufferPointer { mel in
            work.energy.withUnsafeMutableBufferPointer { energy in
                // Frames in groups of G = 8 (`groupFrames`): each frame's spectrum goes to its
                // lane of `work.power`, then the filters run over the group's lanes at once.
                let n = range.count
                var i = 0
                while i < n {
                    let g = min(FeatureExtractor.groupFrames, n - i)
                    for f in 0..<g {
                        energy[i + f] = analyseFrame(range.lowerBound + i + f, wave: wave, origin: origin, work: work, lane: f)
                    }
                    applyMelBanks(frames: g, work: work, melOut: mel.baseAddress! + i * numBins)
                    i += g
                }
                if let dctByBin {
                    // cepstra[t, c] = Σ_m logmel[t, m] · D[c, m]   (D lifted, [C, M])
                    // Frame by frame, m in order: a frame's cepstra round the same
                    // way wherever it falls in a block, on any processor (a GEMM's
                    // kernel sums by the row's position in its tile).
                    let C = baseDimension
                    dctByBin.withUnsafeBufferPointer { d in
                        for i in 0..<n {
                            let row = out + i * C, logmel = mel.baseAddress! + i * numBins
                            row.initialize(repeating: 0, count: C)
                            for m in 0..<numBins {
                                let x = logmel[m], dm = d.baseAddress! + m * C
                                for c in 0..<C { row[c] += x * dm[c] }
                            }
                        }
                    }
                    if spectrum.useEnergy {
                        for i in 0..<n { out[i * baseDimension] = energy[i] }
                    }
                } else {
                    let shift = spectrum.useEnergy ? 1 : 0
                    for i in 0..<n {
                        let row = out + i * baseDimension
                        if spectrum.useEnergy { row[0] = energy[i] }
                        (row + shift).update(from: mel.baseAddress! + i * numBins, count: numBins)
                    }
                }
            }
        }
    }

    /// The textbook recipe for frame t, as Kaldi's `ExtractWindow`,
    /// `ProcessWindow` and `Mfcc/FbankComputer::Compute`:
    /// extract (edges reflected) → dither → remove DC → raw energy →
    /// pre-emphasis → window → zero-pad → FFT → power spectrum; then
    /// `applyMelBanks`: mel filters → log.
    ///
    /// Writes the power spectrum to lane `lane` of `work.power`; returns the
    /// frame's log energy (floored; 0 when energy is not used).
    @inline(__always)
    private func analyseFrame(
        _ t: Int, wave: UnsafeBufferPointer<Float>, origin: Int, work: Workspace, lane: Int
    ) -> Float {
        let length = windowSize
        let padded = fft.size
        let x = work.fft.input
        let raw = work.frame
        let scale = FeatureExtractor.sampleScale
        // Sample indices are the signal's; `wave` starts at `origin` and its end is the signal's end so far.
        let n = origin + wave.count
        let start = snipEdges ? t * windowShift : t * windowShift + windowShift / 2 - windowSize / 2

        // Extract, reflecting at the edges: index −1 → 0, N → N−1.
        if start >= origin && start + length <= n {
            let src = UnsafeRawPointer(wave.baseAddress! + (start - origin))
            let dst = UnsafeMutableRawPointer(raw)
            var i = 0
            while i + 8 <= length {
                dst.storeBytes(
                    of: src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * scale,
                    toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < length { raw[i] = wave[start - origin + i] * scale; i += 1 }
        } else {
            let last = wave.count - 1
            for i in 0..<length {
                var s = start + i
                while s < 0 || s >= n { s = s < 0 ? -s - 1 : 2 * n - 1 - s }
                // A stream keeps the samples a frame can reach, so the clamp never bites.
                raw[i] = wave[min(max(s - origin, 0), last)] * scale
            }
        }
        if frame.dither != 0 {
            var rng = SeededGenerator(seed: frame.ditherSeed, stream: UInt64(t))
            let d = Float(frame.dither)
            for i in 0..<length { raw[i] += rng.nextGaussian() * d }
        }
        if frame.removeDcOffset {
            let mean = vectorSum(raw, length) / Float(length)
            for i in 0..<length { raw[i] -= mean }
        }
        var logEnergy: Float = 0
        if spectrum.useEnergy && spectrum.rawEnergy { logEnergy = logf(max(vectorDot(raw, raw, length), Float.ulpOfOne)) }
        // Pre-emphasis and window in one pass:
        // x[i] = (raw[i] − p · raw[i−1]) · w[i], with raw[−1] = raw[0]; then zeros up to N.
        let p = Float(frame.preemphasisCoefficient)
        window.withUnsafeBufferPointer { w in
            x[0] = (raw[0] - p * raw[0]) * w[0]
            for i in 1..<length { x[i] = (raw[i] - p * raw[i - 1]) * w[i] }
        }
        for i in length..<padded { x[i] = 0 }
        if spectrum.useEnergy && !spectrum.rawEnergy { logEnergy = logf(max(vectorDot(x, x, length), Float.ulpOfOne)) }
        if let floor = spectrum.logEnergyFloor, logEnergy < floor { logEnergy = floor }

        fft.forward(work.fft)
        let spec = work.fft.output
        work.power.withUnsafeMutableBufferPointer { power in
            // |X[k]|² (or |X[k]|), only for the bins the filters reach (never the Nyquist bin).
            let bins = melBinsUsed
            if spectrum.usePower {
                for k in 0..<bins {
                    let re = spec[2 * k], im = spec[2 * k + 1]
                    power[k][lane] = re * re + im * im
                }
            } else {
                for k in 0..<bins {
                    let re = spec[2 * k], im = spec[2 * k + 1]
                    power[k][lane] = (re * re + im * im).squareRoot()
                }
            }
        }
        return logEnergy
    }

    /// The mel energies of the group's first `frames` frames from their
    /// spectra in `work.power`, [frames, M] into `melOut`:
    /// E[m] = Σ_k w_m[k] · P[offset_m + k], then log(max(E, ε)) when taking logs.
    /// Each lane sums its frame's terms in k's order, so a frame's energies are
    /// the same bits as one frame's sum alone; eight frames run side by side.
    @inline(__always)
    private func applyMelBanks(frames: Int, work: Workspace, melOut: UnsafeMutablePointer<Float>) {
        let numBins = melBanks.count
        work.power.withUnsafeBufferPointer { power in
            melBanks.packed.withUnsafeBufferPointer { w in
                melBanks.packedStart.withUnsafeBufferPointer { starts in
                    melBanks.offsets.withUnsafeBufferPointer { offsets in
                        for m in 0..<numBins {
                            let p = power.baseAddress! + offsets[m]
                            var e = Lanes.zero
                            var j = 0
                            for i in starts[m]..<starts[m + 1] {
                                e += w[i] * p[j]
                                j += 1
                            }
                            for f in 0..<frames {
                                melOut[f * numBins + m] = spectrum.takeLog ? logf(max(e[f], Float.ulpOfOne)) : e[f]
                            }
                        }
                    }
                }
            }
        }
    }

}

/// Σ x[i] for i < n, with eight running partial sums (as a BLAS would) so the
/// additions do not form one long dependency chain.
@inline(__always)
func vectorSum(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// Σ x[i]·y[i] for i < n, with eight running partial sums.
@inline(__always)
func vectorDot(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    while i + 8 <= n {
        acc +=
            rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

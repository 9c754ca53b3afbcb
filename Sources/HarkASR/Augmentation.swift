import Foundation
import HarkAudio
import HarkCore
import HarkFeatures

/// Data augmentation of training audio, applied to every utterance afresh at
/// every step, so that one 16 kHz model hears the recordings users bring:
/// other speaking rates and levels, noise, telephone bandwidth, rooms, and
/// clips trimmed tight or padded with silence. SpecAugment (on the features)
/// is separate (`TrainingOptions.specAugment`).
///
/// Each part is off when its field is nil (or its probability 0). Draws come
/// from a generator seeded by (seed, step, position in the batch), so a run
/// resumed after a kill reaches bit-identical weights. The order is that of a
/// recording chain: speed, silence, room, telephone line, noise, level.
public struct Augmentation: Codable, Equatable, Sendable {
    /// Speed perturbation as Kaldi's and ESPnet's recipes do it (Ko et al.,
    /// 2015): the waveform is resampled (libsamplerate) as if played at a
    /// factor drawn from this list, changing tempo and pitch; the duration
    /// becomes duration / factor; the transcript is unchanged.
    public var speedFactors: [Double]?
    /// Gain in dB, drawn uniformly from [min, max].
    public var volumeDecibels: [Double]?
    /// Probability of adding noise, at an SNR drawn uniformly from `snrDecibels`.
    public var noiseProbability: Double = 0
    public var snrDecibels: [Double] = [5, 30]
    /// A directory or manifest of noise recordings (nil: generated noise).
    public var noiseRecordings: String?
    /// Noise generated when no recordings are given: kinds drawn uniformly.
    public var noiseKinds: [NoiseKind] = NoiseKind.allCases
    /// Probability of band-limiting to telephone bandwidth: down to 8 kHz and up again.
    public var telephoneProbability: Double = 0
    /// The rate band-limited audio passes through, Hz, drawn uniformly from
    /// [min, max] (nil: 8000): 6000:8000 cuts between 3 and 4 kHz, as some
    /// lines, codecs and microphones do, so that a model does not count on
    /// the energy just below 4 kHz.
    public var telephoneRates: [Double]?
    /// Probability of reverberation by a synthetic room impulse response
    /// (exponentially decaying noise) whose RT60, in seconds, is drawn from `rt60Seconds`.
    public var reverbProbability: Double = 0
    public var rt60Seconds: [Double] = [0.2, 0.8]
    /// Probability of re-cutting the silence around the speech: the leading
    /// and trailing silence each become a length drawn from [0, maxSilenceSeconds]
    /// (shorter than the original: trimmed; longer: padded with faint noise).
    public var silenceProbability: Double = 0
    public var maxSilenceSeconds: Double = 0.3

    public enum NoiseKind: String, Codable, CaseIterable, Sendable {
        /// Flat spectrum.
        case white
        /// −3 dB per octave (Paul Kellet's filter of white noise).
        case pink
        /// −6 dB per octave (leaky integration of white noise).
        case brown
        /// Several other training utterances summed.
        case babble
    }

    public init() {}

    /// Kaldi- and ESPnet-style settings that make a model robust: speed 0.9,
    /// 1.0, 1.1; level ±6 dB; noise at 5–30 dB SNR on half the utterances;
    /// telephone band and reverberation on a fifth; silence re-cut on half.
    public static var recommended: Augmentation {
        var a = Augmentation()
        a.speedFactors = [0.9, 1.0, 1.1]
        a.volumeDecibels = [-6, 6]
        a.noiseProbability = 0.5
        a.telephoneProbability = 0.2
        a.reverbProbability = 0.2
        a.silenceProbability = 0.5
        return a
    }

    /// Whether any part is on.
    public var isActive: Bool {
        (speedFactors.map { $0.contains { $0 != 1 } } ?? false) || volumeDecibels != nil || noiseProbability > 0
            || telephoneProbability > 0 || reverbProbability > 0 || silenceProbability > 0
    }

    /// Checks every field; the error names it.
    public func validate() throws {
        func probability(_ name: String, _ p: Double) throws {
            guard p.isFinite && (0...1).contains(p) else { throw InvalidValue("\(name) \(p) must be a probability in [0, 1]") }
        }
        func range(_ name: String, _ r: [Double], _ bounds: ClosedRange<Double>) throws {
            guard r.count == 2, r.allSatisfy({ $0.isFinite && bounds.contains($0) }), r[0] <= r[1] else {
                throw InvalidValue("\(name) \(r.map { "\($0)" }.joined(separator: ":")) must be MIN:MAX with \(bounds.lowerBound) ≤ MIN ≤ MAX ≤ \(bounds.upperBound)")
            }
        }
        if let s = speedFactors {
            guard !s.isEmpty, s.count <= 16, s.allSatisfy({ $0.isFinite && (0.5...2).contains($0) }) else {
                throw InvalidValue("--speed-perturb \(s) must list 1 to 16 factors in [0.5, 2]")
            }
        }
        if let v = volumeDecibels { try range("--volume-perturb", v, -40...40) }
        try probability("--noise-prob", noiseProbability)
        try range("--noise-snr", snrDecibels, -20...100)
        guard !noiseKinds.isEmpty else { throw InvalidValue("--noise-kinds must name at least one kind") }
        try probability("--telephone-prob", telephoneProbability)
        if let r = telephoneRates { try range("--telephone-rates", r, 4000...16000) }
        try probability("--reverb-prob", reverbProbability)
        try range("--rt60", rt60Seconds, 0.05...3)
        try probability("--silence-prob", silenceProbability)
        guard maxSilenceSeconds.isFinite && (0...5).contains(maxSilenceSeconds) else {
            throw InvalidValue("--max-silence \(maxSilenceSeconds) must be in [0, 5] seconds")
        }
    }

    /// Where noise comes from: recordings given by the user, and other
    /// training utterances for babble.
    public struct NoiseSources: Sendable {
        /// Noise recordings at the model's rate (empty: generated noise).
        public var recordings: [[Float]]
        /// Returns another training utterance's waveform, chosen with the generator.
        public var utterance: @Sendable (inout SeededGenerator) -> [Float]

        public init(recordings: [[Float]] = [], utterance: @escaping @Sendable (inout SeededGenerator) -> [Float] = { _ in [] }) {
            self.recordings = recordings
            self.utterance = utterance
        }
    }

    /// The augmented waveform.
    public func apply(_ samples: [Float], sampleRate: Int, noise: NoiseSources,
                      rng: inout SeededGenerator) throws -> [Float] {
        var x = samples
        if let factors = speedFactors, !factors.isEmpty {
            let factor = factors[Int(rng.next() % UInt64(factors.count))]
            x = try changeSpeed(x, by: factor, sampleRate: sampleRate)
        }
        if silenceProbability > 0, Double(rng.nextUniform()) < silenceProbability {
            let lead = Double(rng.nextUniform()) * maxSilenceSeconds, trail = Double(rng.nextUniform()) * maxSilenceSeconds
            x = recutSilence(x, sampleRate: sampleRate, leading: lead, trailing: trail, rng: &rng)
        }
        if reverbProbability > 0, Double(rng.nextUniform()) < reverbProbability {
            let rt60 = uniform(rt60Seconds, &rng)
            x = reverberate(x, rt60: rt60, sampleRate: sampleRate, rng: &rng)
        }
        if telephoneProbability > 0, Double(rng.nextUniform()) < telephoneProbability {
            // Drawn only when a range is given, so that runs without one draw as before.
            let line = telephoneRates.map { Int(uniform($0, &rng).rounded()) } ?? 8000
            if sampleRate > line {
                x = try Resampler.resample(try Resampler.resample(x, from: sampleRate, to: line, quality: .fastest),
                                           from: line, to: sampleRate, quality: .fastest)
            }
        }
        if noiseProbability > 0, Double(rng.nextUniform()) < noiseProbability {
            let snr = uniform(snrDecibels, &rng)
            let n = makeNoise(count: x.count, sources: noise, rng: &rng)
            x = mix(x, n, snrDecibels: snr)
        }
        if let range = volumeDecibels {
            let gain = Float(pow(10, uniform(range, &rng) / 20))
            for i in x.indices { x[i] *= gain }
        }
        return x
    }

    private func uniform(_ r: [Double], _ rng: inout SeededGenerator) -> Double {
        r[0] + (r[1] - r[0]) * Double(rng.nextUniform())
    }

    // MARK: - The parts, each usable alone

    /// The waveform as if played `factor` times faster: treated as sampled
    /// at factor · rate and resampled to the rate.
    public func changeSpeed(_ x: [Float], by factor: Double, sampleRate: Int) throws -> [Float] {
        if factor == 1 { return x }
        return try Resampler.resample(x, from: Int((Double(sampleRate) * factor).rounded()), to: sampleRate, quality: .fastest)
    }

    /// The speech (frames of 10 ms within 35 dB of the loudest) with new
    /// leading and trailing silence of the given lengths, filled with noise
    /// 60 dB below the speech's RMS level.
    public func recutSilence(_ x: [Float], sampleRate: Int, leading: Double, trailing: Double,
                             rng: inout SeededGenerator) -> [Float] {
        let hop = max(1, sampleRate / 100)
        let frames = x.count / hop
        guard frames > 0 else { return x }
        let energies = (0..<frames).map { f -> Float in
            var e: Float = 0
            for i in (f * hop)..<((f + 1) * hop) { e += x[i] * x[i] }
            return e / Float(hop)
        }
        let loudest = energies.max() ?? 0
        guard loudest > 0 else { return x }
        let threshold = loudest * powf(10, -3.5)
        let first = energies.firstIndex { $0 >= threshold }!, last = energies.lastIndex { $0 >= threshold }!
        let speech = Array(x[(first * hop)..<min(x.count, (last + 1) * hop)])
        let rms = (speech.reduce(0) { $0 + $1 * $1 } / Float(max(speech.count, 1))).squareRoot()
        func silence(_ seconds: Double) -> [Float] {
            (0..<Int(seconds * Double(sampleRate))).map { _ in rng.nextGaussian() * rms * 1e-3 }
        }
        return silence(leading) + speech + silence(trailing)
    }

    /// x convolved with a synthetic room impulse response: a direct path,
    /// then Gaussian noise decaying by 60 dB over `rt60` seconds
    /// (amplitude e^(−3·ln 10 · t / RT60)); the output keeps the input's RMS level.
    public func reverberate(_ x: [Float], rt60: Double, sampleRate: Int, rng: inout SeededGenerator) -> [Float] {
        let length = max(2, Int(min(rt60, 1.5) * Double(sampleRate)))
        let decay = 3 * log(10.0) / (rt60 * Double(sampleRate))
        var h = (0..<length).map { n in rng.nextGaussian() * Float(exp(-decay * Double(n))) * 0.3 }
        h[0] = 1
        let y = convolve(x, h)
        let before = x.reduce(0) { $0 + Double($1 * $1) }, after = y.reduce(0) { $0 + Double($1 * $1) }
        let scale = after > 0 ? Float((before / after).squareRoot()) : 1
        return y.map { $0 * scale }
    }

    /// Noise of `count` samples: a random stretch of a given recording
    /// (looped if short), or generated noise of a random kind.
    public func makeNoise(count: Int, sources: NoiseSources, rng: inout SeededGenerator) -> [Float] {
        if !sources.recordings.isEmpty {
            let r = sources.recordings[Int(rng.next() % UInt64(sources.recordings.count))]
            guard !r.isEmpty else { return [Float](repeating: 0, count: count) }
            let start = Int(rng.next() % UInt64(r.count))
            return (0..<count).map { r[(start + $0) % r.count] }
        }
        return generateNoise(noiseKinds[Int(rng.next() % UInt64(noiseKinds.count))], count: count, sources: sources, rng: &rng)
    }

    public func generateNoise(_ kind: NoiseKind, count: Int, sources: NoiseSources, rng: inout SeededGenerator) -> [Float] {
        switch kind {
        case .white:
            return (0..<count).map { _ in rng.nextGaussian() }
        case .pink:
            var b = [Float](repeating: 0, count: 7)
            return (0..<count).map { _ in
                let w = rng.nextGaussian()
                b[0] = 0.99886 * b[0] + w * 0.0555179
                b[1] = 0.99332 * b[1] + w * 0.0750759
                b[2] = 0.96900 * b[2] + w * 0.1538520
                b[3] = 0.86650 * b[3] + w * 0.3104856
                b[4] = 0.55000 * b[4] + w * 0.5329522
                b[5] = -0.7616 * b[5] - w * 0.0168980
                let out = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362
                b[6] = w * 0.115926
                return out
            }
        case .brown:
            var level: Float = 0
            return (0..<count).map { _ in
                level = 0.998 * level + 0.05 * rng.nextGaussian()
                return level
            }
        case .babble:
            var sum = [Float](repeating: 0, count: count)
            let talkers = 3 + Int(rng.next() % 4)
            for _ in 0..<talkers {
                let u = sources.utterance(&rng)
                guard !u.isEmpty else { continue }
                let offset = Int(rng.next() % UInt64(u.count))
                for i in 0..<count { sum[i] += u[(offset + i) % u.count] }
            }
            return sum
        }
    }

    /// x + n·g with g chosen so that 10·log₁₀(P(x) / P(n·g)) = `snrDecibels`,
    /// P the mean square. Silent x or n: x unchanged.
    public func mix(_ x: [Float], _ n: [Float], snrDecibels: Double) -> [Float] {
        let px = x.reduce(0) { $0 + Double($1 * $1) } / Double(max(x.count, 1))
        let pn = n.reduce(0) { $0 + Double($1 * $1) } / Double(max(n.count, 1))
        guard px > 0, pn > 0 else { return x }
        let g = Float((px / (pn * pow(10, snrDecibels / 10))).squareRoot())
        return zip(x, n).map { $0 + g * $1 }
    }
}

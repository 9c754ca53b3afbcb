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
    /// The range [min, max] of the SNR in dB, drawn uniformly.
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
    /// The range [min, max] of the RT60 in seconds, drawn uniformly.
    public var rt60Seconds: [Double] = [0.2, 0.8]
    /// Probability of re-cutting the silence around the speech: the leading
    /// and trailing silence each become a length drawn from [0, maxSilenceSeconds]
    /// (shorter than the original: trimmed; longer: padded with faint noise).
    public var silenceProbability: Double = 0
    /// The longest new leading or trailing silence, in seconds.
    public var maxSilenceSeconds: Double = 0.3
    /// The level of the noise that fills new silence (and the pauses of
    /// joined utterances), dB relative to the speech's RMS level, drawn
    /// uniformly from [min, max] per utterance (nil: −60 dB).
    public var silenceFloorDecibels: [Double]?
    /// Probability that new silence is digital silence (zeros) instead.
    public var digitalSilenceProbability: Double = 0
    /// Probability that a training example is this utterance followed by
    /// 1 to `joinMax` − 1 others (drawn from the training set), with pauses
    /// of `pauseSeconds` between them: a session recorded in one go. The
    /// transcript is theirs joined by spaces.
    public var joinProbability: Double = 0
    /// The most utterances one joined example holds (2 to 8).
    public var joinMax = 3
    /// The range [min, max] of the pause between joined utterances, in seconds, drawn uniformly.
    public var pauseSeconds: [Double] = [0.3, 1.5]
    /// Vocal tract length perturbation: a warp factor of the mel filterbank
    /// (Kaldi's VTLN warp, `--vtln-warp`) drawn per utterance from [min, max]
    /// and rounded to 0.01, for voices of other lengths of vocal tract.
    public var vtlnWarps: [Double]?

    /// A kind of generated noise.
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

    /// Every part off.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case speedFactors, volumeDecibels, noiseProbability, snrDecibels, noiseRecordings, noiseKinds
        case telephoneProbability, telephoneRates, reverbProbability, rt60Seconds, silenceProbability, maxSilenceSeconds
        case silenceFloorDecibels, digitalSilenceProbability, joinProbability, joinMax, pauseSeconds, vtlnWarps
    }

    /// A missing key takes its default, so that the options recorded in a
    /// checkpoint from before a setting existed still read (as without it).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Augmentation()
        speedFactors = try c.decodeIfPresent([Double].self, forKey: .speedFactors)
        volumeDecibels = try c.decodeIfPresent([Double].self, forKey: .volumeDecibels)
        noiseProbability = try c.decodeIfPresent(Double.self, forKey: .noiseProbability) ?? d.noiseProbability
        snrDecibels = try c.decodeIfPresent([Double].self, forKey: .snrDecibels) ?? d.snrDecibels
        noiseRecordings = try c.decodeIfPresent(String.self, forKey: .noiseRecordings)
        noiseKinds = try c.decodeIfPresent([NoiseKind].self, forKey: .noiseKinds) ?? d.noiseKinds
        telephoneProbability = try c.decodeIfPresent(Double.self, forKey: .telephoneProbability) ?? d.telephoneProbability
        telephoneRates = try c.decodeIfPresent([Double].self, forKey: .telephoneRates)
        reverbProbability = try c.decodeIfPresent(Double.self, forKey: .reverbProbability) ?? d.reverbProbability
        rt60Seconds = try c.decodeIfPresent([Double].self, forKey: .rt60Seconds) ?? d.rt60Seconds
        silenceProbability = try c.decodeIfPresent(Double.self, forKey: .silenceProbability) ?? d.silenceProbability
        maxSilenceSeconds = try c.decodeIfPresent(Double.self, forKey: .maxSilenceSeconds) ?? d.maxSilenceSeconds
        silenceFloorDecibels = try c.decodeIfPresent([Double].self, forKey: .silenceFloorDecibels)
        digitalSilenceProbability = try c.decodeIfPresent(Double.self, forKey: .digitalSilenceProbability) ?? d.digitalSilenceProbability
        joinProbability = try c.decodeIfPresent(Double.self, forKey: .joinProbability) ?? d.joinProbability
        joinMax = try c.decodeIfPresent(Int.self, forKey: .joinMax) ?? d.joinMax
        pauseSeconds = try c.decodeIfPresent([Double].self, forKey: .pauseSeconds) ?? d.pauseSeconds
        vtlnWarps = try c.decodeIfPresent([Double].self, forKey: .vtlnWarps)
    }

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

    /// Settings for recordings as people make them, on top of `recommended`:
    /// silence re-cut on half the utterances up to 1.5 s at a floor 25 to
    /// 70 dB under the speech (digital silence one time in ten), a third of
    /// the examples two or three utterances joined with 0.3–1.5 s pauses, and
    /// a VTLN warp in [0.9, 1.1] for every utterance.
    public static var recordings: Augmentation {
        var a = recommended
        a.maxSilenceSeconds = 1.5
        a.silenceFloorDecibels = [-70, -25]
        a.digitalSilenceProbability = 0.1
        a.joinProbability = 0.3
        a.vtlnWarps = [0.9, 1.1]
        return a
    }

    /// Whether any part is on.
    public var isActive: Bool {
        (speedFactors.map { $0.contains { $0 != 1 } } ?? false) || volumeDecibels != nil || noiseProbability > 0
            || telephoneProbability > 0 || reverbProbability > 0 || silenceProbability > 0 || joinProbability > 0
            || vtlnWarps != nil
    }

    /// Checks every field; the error names it.
    public func validate() throws {
        func probability(_ name: String, _ p: Double) throws {
            guard p.isFinite && (0...1).contains(p) else { throw InvalidValue("\(name) \(p) must be a probability in [0, 1]") }
        }
        func range(_ name: String, _ r: [Double], _ bounds: ClosedRange<Double>) throws {
            guard r.count == 2, r.allSatisfy({ $0.isFinite && bounds.contains($0) }), r[0] <= r[1] else {
                throw InvalidValue(
                    "\(name) \(r.map { "\($0)" }.joined(separator: ":")) must be MIN:MAX with \(bounds.lowerBound) ≤ MIN ≤ MAX ≤ \(bounds.upperBound)"
                )
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
        if let f = silenceFloorDecibels { try range("--silence-floor", f, -120...0) }
        try probability("--digital-silence-prob", digitalSilenceProbability)
        try probability("--join-prob", joinProbability)
        guard (2...8).contains(joinMax) else { throw InvalidValue("--join-max \(joinMax) must be in 2…8") }
        try range("--join-pause", pauseSeconds, 0...5)
        if let w = vtlnWarps { try range("--vtln", w, 0.5...2) }
    }

    /// Where noise comes from: recordings given by the user, and other
    /// training utterances for babble.
    public struct NoiseSources: Sendable {
        /// Noise recordings at the model's rate (empty: generated noise).
        public var recordings: [[Float]]
        /// Returns another training utterance's waveform, chosen with the generator.
        public var utterance: @Sendable (inout SeededGenerator) -> [Float]

        /// Sources of the given recordings (none: generated noise) and babble utterances (none by default: babble is silent).
        public init(recordings: [[Float]] = [], utterance: @escaping @Sendable (inout SeededGenerator) -> [Float] = { _ in [] }) {
            self.recordings = recordings
            self.utterance = utterance
        }
    }

    /// The augmented waveform.
    ///
    /// `speedChanged`, when given, returns `samples` at a speed factor in
    /// place of `changeSpeed` (the same samples from a cache: training keeps
    /// each utterance's perturbed copies, as Kaldi makes them once).
    public func apply(
        _ samples: [Float], sampleRate: Int, noise: NoiseSources,
        rng: inout SeededGenerator, speedChanged: ((Double) throws -> [Float])? = nil
    ) throws -> [Float] {
        var x = samples
        if let factors = speedFactors, !factors.isEmpty {
            let factor = factors[Int(rng.next() % UInt64(factors.count))]
            x = try speedChanged.map { try $0(factor) } ?? changeSpeed(x, by: factor, sampleRate: sampleRate)
        }
        if silenceProbability > 0, Double(rng.nextUniform()) < silenceProbability {
            let lead = Double(rng.nextUniform()) * maxSilenceSeconds, trail = Double(rng.nextUniform()) * maxSilenceSeconds
            // Drawn only when asked for, so that runs without them draw as before.
            let floor = silenceFloor(&rng)
            x = recutSilence(x, sampleRate: sampleRate, leading: lead, trailing: trail, floorDecibels: floor, rng: &rng)
        }
        if reverbProbability > 0, Double(rng.nextUniform()) < reverbProbability {
            let rt60 = uniform(rt60Seconds, &rng)
            x = reverberate(x, rt60: rt60, sampleRate: sampleRate, rng: &rng)
        }
        if telephoneProbability > 0, Double(rng.nextUniform()) < telephoneProbability {
            // Drawn only when a range is given, so that runs without one draw as before.
            let line = telephoneRates.map { Int(uniform($0, &rng).rounded()) } ?? 8000
            if sampleRate > line {
                x = try SoxResampler.resample(
                    try SoxResampler.resample(x, from: sampleRate, to: line), from: line, to: sampleRate)
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

    /// The level of new silence, dB under the speech (−∞: digital silence).
    func silenceFloor(_ rng: inout SeededGenerator) -> Double {
        if digitalSilenceProbability > 0, Double(rng.nextUniform()) < digitalSilenceProbability { return -.infinity }
        return silenceFloorDecibels.map { uniform($0, &rng) } ?? -60
    }

    /// The warp factor of this utterance's filterbank, rounded to 0.01 (nil: none).
    public func drawWarp(_ rng: inout SeededGenerator) -> Double? {
        vtlnWarps.map { (uniform($0, &rng) * 100).rounded() / 100 }
    }

    /// How many utterances this example joins (1: the utterance alone).
    public func drawJoinCount(_ rng: inout SeededGenerator) -> Int {
        guard joinProbability > 0, Double(rng.nextUniform()) < joinProbability else { return 1 }
        return 2 + Int(rng.next() % UInt64(joinMax - 1))
    }

    /// `parts` one after another with a pause drawn from `pauseSeconds`
    /// between each two, filled with noise at a floor drawn as new silence's.
    public func join(_ parts: [[Float]], sampleRate: Int, rng: inout SeededGenerator) -> [Float] {
        guard var out = parts.first else { return [] }
        for part in parts.dropFirst() {
            let floor = silenceFloor(&rng)
            let n = Int(uniform(pauseSeconds, &rng) * Double(sampleRate))
            let rms = Self.rms(out + part)
            let sigma = floor.isFinite ? rms * Float(pow(10, floor / 20)) : 0
            out += rng.gaussians(count: n).map { sigma * $0 }
            out += part
        }
        return out
    }

    static func rms(_ x: [Float]) -> Float {
        (x.reduce(0) { $0 + $1 * $1 } / Float(max(x.count, 1))).squareRoot()
    }

    // MARK: - The parts, each usable alone

    /// The waveform as if played `factor` times faster: treated as sampled
    /// at factor · rate and resampled to the rate.
    public func changeSpeed(_ x: [Float], by factor: Double, sampleRate: Int) throws -> [Float] {
        if factor == 1 { return x }
        return try SoxResampler.resample(x, from: Int((Double(sampleRate) * factor).rounded()), to: sampleRate)
    }

    /// The speech (frames of 10 ms within 35 dB of the loudest) with new
    /// leading and trailing silence of the given lengths, filled with noise
    /// `floorDecibels` below the speech's RMS level (−∞: zeros).
    public func recutSilence(
        _ x: [Float], sampleRate: Int, leading: Double, trailing: Double,
        floorDecibels: Double = -60, rng: inout SeededGenerator
    ) -> [Float] {
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
        // −60 dB is 1e-3, the factor this used before the floor could be chosen (the same bits).
        let gain: Float = floorDecibels == -60 ? 1e-3 : floorDecibels.isFinite ? Float(pow(10, floorDecibels / 20)) : 0
        let rms = Self.rms(speech)
        func silence(_ seconds: Double) -> [Float] {
            rng.gaussians(count: Int(seconds * Double(sampleRate))).map { $0 * rms * gain }
        }
        return silence(leading) + speech + silence(trailing)
    }

    /// x convolved with a synthetic room impulse response: a direct path,
    /// then Gaussian noise decaying by 60 dB over `rt60` seconds
    /// (amplitude e^(−3·ln 10 · t / RT60)); the output keeps the input's RMS level.
    public func reverberate(_ x: [Float], rt60: Double, sampleRate: Int, rng: inout SeededGenerator) -> [Float] {
        let length = max(2, Int(min(rt60, 1.5) * Double(sampleRate)))
        let decay = 3 * log(10.0) / (rt60 * Double(sampleRate))
        // e^(−decay·n) as a running product (one multiplication a tap, not one exp).
        let step = exp(-decay)
        var envelope = 1.0
        var h = rng.gaussians(count: length).map { w -> Float in
            defer { envelope *= step }
            return w * Float(envelope) * 0.3
        }
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

    /// `count` samples of generated noise of the given kind (unit-variance Gaussian for white; babble sums 3 to 6
    /// other utterances from `sources`, each from a random offset, looped).
    public func generateNoise(_ kind: NoiseKind, count: Int, sources: NoiseSources, rng: inout SeededGenerator) -> [Float] {
        switch kind {
        case .white:
            return rng.gaussians(count: count)
        case .pink:
            // Paul Kellet's filter: white noise through six first-order sections, b0…b6.
            var b0: Float = 0, b1: Float = 0, b2: Float = 0, b3: Float = 0, b4: Float = 0, b5: Float = 0, b6: Float = 0
            return rng.gaussians(count: count).map { w in
                b0 = 0.99886 * b0 + w * 0.0555179
                b1 = 0.99332 * b1 + w * 0.0750759
                b2 = 0.96900 * b2 + w * 0.1538520
                b3 = 0.86650 * b3 + w * 0.3104856
                b4 = 0.55000 * b4 + w * 0.5329522
                b5 = -0.7616 * b5 - w * 0.0168980
                let out = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362
                b6 = w * 0.115926
                return out
            }
        case .brown:
            var level: Float = 0
            return rng.gaussians(count: count).map { w in
                level = 0.998 * level + 0.05 * w
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

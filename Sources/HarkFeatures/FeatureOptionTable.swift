extension FeatureOption {
    /// Every feature option, each declared once. Adding an entry adds its
    /// `config.json` key, its `--flag` for `hark features` and `hark train`,
    /// its line in their `--help`, and its check.
    ///
    /// The order is the order `--help` lists them in, and the order the keys
    /// are handed to the encoder (as before the table; config.json sorts
    /// them). `type` comes first: setting it resets the options of the type,
    /// so it is applied before the others.
    /// A check's message completes "invalid --name=value: …".
    public static let all: [FeatureOption] = [
        FeatureOption(
            "type", .pipeline(\.type),
            "Feature type: mfcc (cepstra) or fbank (log-mel filterbank energies).",
            reason: "Kaldi's usual ASR features (compute-mfcc-feats); also what a config without \"type\" means"),

        // MARK: Framing and windowing (Kaldi's FrameExtractionOptions, feature-window.h)

        FeatureOption(
            "sample-frequency", .frame(\.sampleFrequency), unit: "Hz",
            "Sample rate of the analysis; audio at another rate is resampled.",
            reason: "Kaldi's default; the rate of most speech corpora",
            check: { hz, _ in
                hz.isFinite && hz.rounded() == hz && (1...384_000).contains(hz)
                    ? nil : "must be a whole number of Hz in [1, 384000]"
            }),
        FeatureOption(
            "frame-length", .frame(\.frameLength), unit: "ms",
            "Frame length in milliseconds.",
            reason: "Kaldi's default; 400 samples at 16 kHz",
            check: { ms, options in
                guard ms.isFinite, ms > 0, ms <= 10_000 else {
                    return "must be a finite number of milliseconds in (0, 10000]"
                }
                guard let frame = options?.frame, frame.windowSize < 2 else { return nil }
                return "gives \(frame.windowSize) samples at \(frame.sampleFrequency.text) Hz; a frame needs at least 2"
            }),
        FeatureOption(
            "frame-shift", .frame(\.frameShift), unit: "ms",
            "Frame shift in milliseconds.",
            reason: "Kaldi's default; 100 frames a second",
            check: { ms, options in
                guard ms.isFinite, ms > 0, ms <= 10_000 else {
                    return "must be a finite number of milliseconds in (0, 10000]"
                }
                guard let frame = options?.frame, frame.windowShift < 1 else { return nil }
                return "gives a shift of \(frame.windowShift) samples at \(frame.sampleFrequency.text) Hz; it must be at least one sample"
            }),
        FeatureOption(
            "preemphasis-coefficient", .frame(\.preemphasisCoefficient),
            "Pre-emphasis x[i] -= c·x[i-1].",
            reason: "Kaldi's default",
            check: { c, _ in (0...1).contains(c) ? nil : "must be in [0, 1]" }),
        FeatureOption(
            "remove-dc-offset", .frame(\.removeDcOffset),
            "Subtract each frame's mean before everything else.",
            reason: "Kaldi's default"),
        FeatureOption(
            "window-type", .frame(\.windowType),
            "The taper applied to each frame before the FFT.",
            reason: "Kaldi's default; a Hann window raised to 0.85, which does not reach zero as fast"),
        FeatureOption(
            "blackman-coeff", .frame(\.blackmanCoeff),
            "The constant c of the generalised Blackman window.",
            reason: "Kaldi's default; the classic Blackman window",
            check: { c, _ in c.isFinite ? nil : "must be a finite number" }),
        FeatureOption(
            "round-to-power-of-two", .frame(\.roundToPowerOfTwo),
            "Zero-pad each frame to a power of two before the FFT.",
            reason: "Kaldi's default; a 512-point FFT for 400-sample frames"),
        FeatureOption(
            "snip-edges", .frame(\.snipEdges),
            "true: only frames that fit entirely in the signal; false: frames centred every shift, the edges reflected, T = round(N / shift).",
            reason: "Kaldi's default"),
        FeatureOption(
            "dither", .frame(\.dither),
            "Standard deviation of Gaussian noise added to every sample, on the 16-bit integer scale; 0 = off.",
            reason: "Hark's default, Kaldi's is 1; output is deterministic unless asked otherwise",
            check: { d, _ in
                d.isFinite && (0...32_768).contains(d) ? nil : "must be a finite number in [0, 32768] (0 = off)"
            }),
        FeatureOption(
            "dither-seed", .frame(\.ditherSeed),
            "Seed of the dither noise; frame t uses sub-stream t, so results do not depend on the thread count.",
            reason: "any fixed seed makes dithered features reproducible"),

        // MARK: Mel filterbank (Kaldi's MelBanksOptions, mel-computations.h)

        FeatureOption(
            "num-mel-bins", .mel(\.numBins),
            "Number of triangular mel filters.",
            reason: "Kaldi's default; 40 or 80 are common for fbank",
            check: { n, _ in (3...1024).contains(n) ? nil : "must be a whole number in [3, 1024]" }),
        FeatureOption(
            "low-freq", .mel(\.lowFreq), unit: "Hz",
            "Lower edge of the lowest mel filter.",
            reason: "Kaldi's default; below the speech band",
            check: { hz, _ in hz.isFinite ? nil : "must be a finite number of Hz" }),
        FeatureOption(
            "high-freq", .mel(\.highFreq), unit: "Hz",
            "Upper edge of the highest mel filter; 0 or negative: an offset from the Nyquist frequency.",
            reason: "Kaldi's default; the Nyquist frequency",
            check: { hz, _ in hz.isFinite ? nil : "must be a finite number of Hz" }),

        FeatureOption(
            "vtln-low", .mel(\.vtlnLow), unit: "Hz",
            "Lower knee of the VTLN warp (applies with --vtln-warp).",
            reason: "Kaldi's default", writtenOnlyWhenSet: true,
            check: { hz, _ in hz.isFinite ? nil : "must be a finite number of Hz" }),
        FeatureOption(
            "vtln-high", .mel(\.vtlnHigh), unit: "Hz",
            "Upper knee of the VTLN warp; 0 or negative: an offset from the Nyquist frequency.",
            reason: "Kaldi's default", writtenOnlyWhenSet: true,
            check: { hz, _ in hz.isFinite ? nil : "must be a finite number of Hz" }),
        FeatureOption(
            "vtln-warp", .mel(\.vtlnWarp),
            "Vocal tract length warp factor of the filterbank (1 = none); hark train --vtln draws one per utterance.",
            reason: "Kaldi's default; no warp", writtenOnlyWhenSet: true,
            check: { a, _ in a.isFinite && a >= 0.5 && a <= 2 ? nil : "must be a number in [0.5, 2]" }),

        // MARK: MFCC and fbank (Kaldi's MfccOptions, feature-mfcc.h; FbankOptions, feature-fbank.h)

        FeatureOption(
            "num-ceps", .mfcc(\.numCeps),
            "Cepstra kept, C0 included.",
            reason: "Kaldi's default",
            check: { n, options in
                guard let bins = options?.mel.numBins else {
                    return (1...1024).contains(n) ? nil : "must be a whole number in [1, 1024]"
                }
                return n >= 1 && n <= bins ? nil : "must be between 1 and the number of mel bins (\(bins))"
            }),
        FeatureOption(
            "use-energy", .mfccAndFbank(\.useEnergy, \.useEnergy),
            "Use the log energy: it replaces C0 in mfcc, and is an extra first column in fbank.",
            reason: "Kaldi's defaults"),
        FeatureOption(
            "energy-floor", .mfccAndFbank(\.energyFloor, \.energyFloor),
            "Floor on the energy (not its log); 0 = none.",
            reason: "Kaldi's default; no floor",
            check: { e, _ in e.isFinite && e >= 0 ? nil : "must be a finite number ≥ 0 (0 = none)" }),
        FeatureOption(
            "raw-energy", .mfccAndFbank(\.rawEnergy, \.rawEnergy),
            "Energy before pre-emphasis and windowing (true) or after (false).",
            reason: "Kaldi's default"),
        FeatureOption(
            "cepstral-lifter", .mfcc(\.cepstralLifter),
            "Q of the sinusoidal lifter 1 + (Q/2)·sin(π i / Q); 0 = none.",
            reason: "Kaldi's default",
            check: { q, _ in q.isFinite && q >= 0 ? nil : "must be a finite number ≥ 0 (0 = none)" }),
        FeatureOption(
            "use-log-fbank", .fbank(\.useLogFbank),
            "Log of the mel energies (true) or the energies themselves (false).",
            reason: "Kaldi's default"),
        FeatureOption(
            "use-power", .fbank(\.usePower),
            "Power spectrum (true) or magnitude spectrum (false).",
            reason: "Kaldi's default"),

        // MARK: After the features (Kaldi's apply-cmvn and add-deltas)

        FeatureOption(
            "cmvn", .pipeline(\.cmvn),
            "Per-utterance normalisation with the utterance's own statistics: none, mean, or mean and variance.",
            reason: "what compute-mfcc-feats and compute-fbank-feats give; hark train's default is meanvar"),
        FeatureOption(
            "cmvn-frames", .pipeline(\.cmvnFrames),
            "The frames CMVN's statistics are taken over: all, or speech (within 40 dB of the loudest frame, so that silence around the speech changes nothing).",
            reason: "Kaldi's compute-cmvn-stats over the utterance; what configs without the key mean",
            writtenOnlyWhenSet: true),
        FeatureOption(
            "deltas", .pipeline(\.deltas),
            "Delta order appended (add-deltas --delta-order): 0 = none, 2 = deltas and delta-deltas.",
            reason: "the features alone",
            check: { n, _ in (0...4).contains(n) ? nil : "must be a whole number in [0, 4]" }),
        FeatureOption(
            "delta-window", .pipeline(\.deltaWindow),
            "Delta window half-width (add-deltas --delta-window).",
            reason: "Kaldi's default",
            check: { n, _ in (1...16).contains(n) ? nil : "must be a whole number in [1, 16]" })
    ]
}

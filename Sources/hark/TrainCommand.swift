import ArgumentParser
import Dispatch
import Foundation
import HarkASR
import HarkAudio
import HarkCore
import HarkFeatures
import HarkIO
import HarkMPI
import HarkNN

/// `hark train`: labeled audio in, a model directory out.
struct TrainCommand: ParsableCommand, StartingFeatures {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a recurrent CTC model on a manifest of labeled audio.",
        discussion: """
            --out DIR receives the model (config.json + model.safetensors; the best by validation CER when \
            --valid is given), checkpoint.safetensors and train.log.jsonl. The loss is CTC with PyTorch's \
            'mean' reduction (each utterance's loss divided by its transcript length, averaged over the batch). \
            Ctrl-C saves a checkpoint; --resume continues exactly where a run stopped, even after SIGKILL.
            """)

    @Option(help: "Training manifest (.jsonl with audio_filepath and text, or .tsv path<TAB>text).")
    var train: String
    @Option(help: "Validation manifest; greedy CER/WER after every epoch, the best model kept.")
    var valid: String?
    @Option(help: "Output directory.")
    var out: String
    @Flag(help: "Continue the run in --out from its checkpoint (with the options it was started with).")
    var resume = false
    @Option(help: "Start from this model's weights (and its configuration).")
    var `init`: String?
    @Option(help: "A config.json whose features, stacking, network, tokens and text normalisation are used (flags given override them).")
    var config: String?

    @Option(help: "Random seed: initialisation, batch order, dropout, SpecAugment.")
    var seed: UInt64 = TrainingOptions().seed
    @Option(help: "Epochs.") var epochs: Int = TrainingOptions().epochs
    @Option(help: "Stop after this many steps.") var maxSteps: Int?
    @Option(help: "Utterances per batch.") var batchSize: Int = TrainingOptions().batchSize
    @Option(help: "adam, adamw or sgd.") var optimizer: TrainingOptions.OptimizerKind = .adam
    @Option(help: "Peak learning rate.") var lr: Float = TrainingOptions().learningRate
    @Option(help: "Linear warm-up steps (default 200 for Adam/AdamW, 0 for SGD).") var warmupSteps: Int?
    @Option(help: "Learning rate at the last planned step as a fraction of the peak (default 0.05; SGD: 1, constant).")
    var finalLrFraction: Float?
    @Flag(help: "Keep the manifest's order (batches of consecutive utterances).") var noShuffle = false
    @Option(help: "Recurrent cell: lstm, gru, rnn_tanh, rnn_relu.") var cell: RecurrentCell?
    @Option(help: "Hidden units per direction (default \(ModelConfig.Network.trainingDefault.hiddenSize)).") var hiddenSize: Int?
    @Option(help: "Recurrent layers (default \(ModelConfig.Network.trainingDefault.numLayers)).") var numLayers: Int?
    @Option(help: "Bidirectional layers, true/false (default \(ModelConfig.Network.trainingDefault.bidirectional)).") var bidirectional:
        Bool?
    @Option(help: "Dropout between recurrent layers (default \(ModelConfig.Network.trainingDefault.dropout)).") var dropout: Float?
    @Option(help: "LSTM projections: each direction's state and output are this wide (PyTorch's proj_size; default 0, none).")
    var projSize: Int?
    @Option(help: "What chooses the model kept and counts patience: the validation cer, wer (isolated words) or loss.")
    var selectBy: TrainingOptions.SelectionMetric = TrainingOptions().selectBy
    @Option(
        help:
            "Keep the weights of the N epochs of best validation CER and make the model their mean at the end (ESPnet's model averaging; 0: the best epoch alone)."
    )
    var averageBest: Int = 0
    @Option(
        help: ArgumentHelp(
            "Convolutions over (time, frequency) before the recurrent layers, comma-separated CHANNELS:KTxKF:STxSF[:PTxPF] (kernel, stride, padding in time × frequency; padding by default half the kernel), e.g. 32:3x3:2x2,32:3x3:1x2. Their time strides subsample the frames; --stack-frames is then 1 unless given.",
            valueName: "layers"))
    var conv: String?
    @Option(help: "The convolutions' activation: relu, or hardtanh (min(max(x, 0), 20), DeepSpeech 2's).")
    var convActivation: Conv2d.Activation = .relu

    /// The front end --conv describes (nil: none).
    func frontend() throws -> ConvFrontEnd.Options? {
        guard let conv else { return nil }
        func pair(_ text: Substring, _ what: String) throws -> [Int] {
            let parts = text.split(separator: "x").map { Int($0) }
            guard parts.count == 2, let a = parts[0], let b = parts[1] else {
                throw ValidationError("--conv \(conv): \(what) \"\(text)\" must be TIMExFREQUENCY, e.g. 3x3")
            }
            return [a, b]
        }
        let layers = try conv.split(separator: ",").map { spec -> ConvFrontEnd.Layer in
            let fields = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard (3...4).contains(fields.count), let channels = Int(fields[0]) else {
                throw ValidationError("--conv \(conv): each layer is CHANNELS:KTxKF:STxSF[:PTxPF], not \"\(spec)\"")
            }
            let kernel = try pair(fields[1], "the kernel"), stride = try pair(fields[2], "the stride")
            let padding = fields.count == 4 ? try pair(fields[3], "the padding") : kernel.map { $0 / 2 }
            return ConvFrontEnd.Layer(channels: channels, kernel: kernel, stride: stride, padding: padding)
        }
        guard !layers.isEmpty else { throw ValidationError("--conv names no layer") }
        return ConvFrontEnd.Options(layers: layers, activation: convActivation)
    }
    @Option(help: "Frames stacked into one network input (default \(ModelConfig.Network.trainingDefaultStack); 1 with --conv).")
    var stackFrames: Int?
    @Option(help: "SpecAugment time and frequency masking: on or off.") var specAugment: OnOff = .on
    @Option(help: "Clip the gradient norm to this; 0 = no clipping.") var clip: Float = TrainingOptions().clip
    @Option(help: "Epochs without a better validation CER before stopping.") var patience: Int = TrainingOptions().patience
    @Option(help: "Steps between checkpoints.") var checkpointEvery: Int = TrainingOptions().checkpointEvery
    @Option(help: "Case folding of transcripts: upper, lower or keep.") var textCase: TextNormalizer.Case = .upper
    @Option(help: "Characters kept in transcripts after case folding (default: space, apostrophe, A-Z).")
    var keepCharacters: String?
    @Option(help: "Worker threads, one per core unless given.") var threads: Int = defaultThreadCount

    @Flag(
        help:
            "Augment the training audio with the recommended settings (speed 0.9,1.0,1.1; level ±6 dB; noise at 5–30 dB SNR on half the utterances; telephone band and reverberation on a fifth; leading/trailing silence re-cut on half). The options below change single parts, with or without --augment."
    )
    var augment = false
    @Option(
        help:
            "Speed perturbation: factors drawn per utterance, comma-separated, e.g. 0.9,1.0,1.1 (resampled with libsamplerate; tempo and pitch change, the transcript does not)."
    )
    var speedPerturb: String?
    @Option(help: "Volume perturbation: gain in dB drawn from MIN:MAX, e.g. --volume-perturb=-6:6.")
    var volumePerturb: String?
    @Option(help: "Probability of adding noise to an utterance.") var noiseProb: Double?
    @Option(help: "Signal-to-noise ratio in dB drawn from MIN:MAX (default 5:30).") var noiseSnr: String?
    @Option(help: "Noise recordings: a directory or manifest of audio (default: generated noise of the --noise-kinds).")
    var noise: String?
    @Option(help: "Generated noise kinds, comma-separated: white, pink, brown, babble (other training utterances summed).")
    var noiseKinds: String?
    @Option(help: "Probability of telephone band: down to 8 kHz and up again.") var telephoneProb: Double?
    @Option(help: "The rate telephone band passes through, Hz, drawn from MIN:MAX (default 8000:8000; 6000:8000 cuts between 3 and 4 kHz).")
    var telephoneRates: String?
    @Option(help: "Probability of reverberation by a synthetic room impulse response.") var reverbProb: Double?
    @Option(help: "RT60 of the synthetic rooms, seconds, drawn from MIN:MAX (default 0.2:0.8).") var rt60: String?
    @Option(help: "Probability of re-cutting the leading and trailing silence (trimming or padding).") var silenceProb: Double?
    @Option(help: "Longest leading or trailing silence after re-cutting, seconds (default 0.3).") var maxSilence: Double?
    @Flag(
        help:
            "Augment for recordings as people make them: --augment's settings, plus silence re-cut on half the utterances up to 1.5 s at a floor 25 to 70 dB under the speech (digital silence one time in ten), a third of the examples two or three utterances joined with 0.3–1.5 s pauses, and a VTLN warp in [0.9, 1.1] per utterance. The options below change single parts."
    )
    var augmentRecordings = false
    @Option(
        help:
            "Level of the noise filling new silence and pauses, dB under the speech, drawn from MIN:MAX, e.g. --silence-floor=-70:-25 (default -60)."
    )
    var silenceFloor: String?
    @Option(help: "Probability that new silence is digital silence (zeros).") var digitalSilenceProb: Double?
    @Option(help: "Probability that an example joins its utterance with others from the training set, with pauses between them.")
    var joinProb: Double?
    @Option(help: "Most utterances joined in one example (default 3).") var joinMax: Int?
    @Option(help: "Pause between joined utterances, seconds, drawn from MIN:MAX (default 0.3:1.5).") var joinPause: String?
    @Option(
        help:
            "Vocal tract length perturbation: a filterbank warp factor drawn per utterance from MIN:MAX, e.g. 0.9:1.1 (Kaldi's VTLN warp, rounded to 0.01)."
    )
    var vtln: String?
    @OptionGroup(title: "Feature options (see the Kaldi feature options below)")
    var features: FeatureFlags

    enum OnOff: String, ExpressibleByArgument, CaseIterable { case on, off }

    /// Hark's default features for training: Kaldi fbank, 40 bins, utterance CMVN.
    static var startingFeatures: FeatureOptions { defaultFeatures }
    static let startingFeaturesSummary = "40 log-mel filterbanks (fbank) with per-utterance mean and variance CMVN"
    static var defaultFeatures: FeatureOptions {
        var fbank = FbankOptions()
        fbank.mel.numBins = 40
        return FeatureOptions(kind: .fbank(fbank), cmvn: .meanvar)
    }

    /// The training options the flags give.
    var trainingOptions: TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.maxSteps = maxSteps
        options.batchSize = batchSize
        options.optimizer = optimizer
        options.learningRate = lr
        options.warmupSteps = warmupSteps
        options.finalRateFraction = finalLrFraction
        options.clip = clip
        options.shuffle = !noShuffle
        options.seed = seed
        options.specAugment = specAugment == .on ? SpecAugment() : nil
        options.patience = patience
        options.checkpointEvery = checkpointEvery
        options.augmentation = try? makeAugmentation()
        options.averageBest = averageBest
        options.selectBy = selectBy
        return options
    }

    /// The augmentation the flags ask for (nil: none).
    func makeAugmentation() throws -> Augmentation? {
        func numbers(_ flag: String, _ text: String, separator: Character, count: Int? = nil) throws -> [Double] {
            let parts = text.split(separator: separator, omittingEmptySubsequences: false).map {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }), count.map({ parts.count == $0 }) ?? true else {
                throw ValidationError("--\(flag) \(text): expected \(count == 2 ? "MIN:MAX" : "numbers separated by \"\(separator)\"")")
            }
            return parts.map { $0! }
        }
        var a = augmentRecordings ? Augmentation.recordings : augment ? Augmentation.recommended : Augmentation()
        if let v = speedPerturb { a.speedFactors = try numbers("speed-perturb", v, separator: ",") }
        if let v = volumePerturb { a.volumeDecibels = try numbers("volume-perturb", v, separator: ":", count: 2) }
        if let v = noiseProb { a.noiseProbability = v }
        if let v = noiseSnr { a.snrDecibels = try numbers("noise-snr", v, separator: ":", count: 2) }
        if let v = noise { a.noiseRecordings = v }
        if let v = noiseKinds {
            a.noiseKinds = try v.split(separator: ",").map {
                guard let k = Augmentation.NoiseKind(rawValue: String($0)) else {
                    throw ValidationError("--noise-kinds: \"\($0)\" is not one of white, pink, brown, babble")
                }
                return k
            }
        }
        if let v = telephoneProb { a.telephoneProbability = v }
        if let v = telephoneRates { a.telephoneRates = try numbers("telephone-rates", v, separator: ":", count: 2) }
        if let v = reverbProb { a.reverbProbability = v }
        if let v = rt60 { a.rt60Seconds = try numbers("rt60", v, separator: ":", count: 2) }
        if let v = silenceProb { a.silenceProbability = v }
        if let v = maxSilence { a.maxSilenceSeconds = v }
        if let v = silenceFloor { a.silenceFloorDecibels = try numbers("silence-floor", v, separator: ":", count: 2) }
        if let v = digitalSilenceProb { a.digitalSilenceProbability = v }
        if let v = joinProb { a.joinProbability = v }
        if let v = joinMax { a.joinMax = v }
        if let v = joinPause { a.pauseSeconds = try numbers("join-pause", v, separator: ":", count: 2) }
        if let v = vtln { a.vtlnWarps = try numbers("vtln", v, separator: ":", count: 2) }
        // Checked whether or not it turns anything on: --noise-prob nan must not pass as "off".
        do { try a.validate() } catch { throw ValidationError("\(error)") }
        return a.isActive ? a : nil
    }

    mutating func validate() throws {
        _ = try makeAugmentation()
        do { try trainingOptions.validate() } catch { throw ValidationError("\(error)") }
        guard (1...Limits.threads).contains(threads) else { throw ValidationError("--threads \(threads) must be in 1…\(Limits.threads)") }
        if let s = stackFrames, !(1...Limits.stackFrames).contains(s) {
            throw ValidationError("--stack-frames \(s) must be in 1…\(Limits.stackFrames)")
        }
        if let h = hiddenSize, !(1...Limits.hiddenSize).contains(h) {
            throw ValidationError("--hidden-size \(h) must be in 1…\(Limits.hiddenSize)")
        }
        if let l = numLayers, !(1...Limits.layers).contains(l) {
            throw ValidationError("--num-layers \(l) must be in 1…\(Limits.layers)")
        }
        if let d = dropout, !(0..<1).contains(d) { throw ValidationError("--dropout \(d) must be in [0, 1)") }
        if let p = projSize, p < 0 { throw ValidationError("--proj-size \(p) must be 0 (none) or more") }
        _ = try frontend()
        if resume && `init` != nil { throw ValidationError("--resume continues a run; --init starts a new one: not both") }
    }

    /// With --init the network, features and text come from that model: a
    /// flag that says otherwise is an error rather than silently ignored.
    func checkAgreement(with config: ModelConfig) throws {
        var conflicts: [String] = []
        func compare<T: Equatable>(_ flag: String, _ given: T?, _ model: T) {
            if let given, given != model { conflicts.append("--\(flag) \(given) (the model has \(model))") }
        }
        compare("cell", cell, config.network.cell)
        compare("hidden-size", hiddenSize, config.network.hiddenSize)
        compare("num-layers", numLayers, config.network.numLayers)
        compare("bidirectional", bidirectional, config.network.bidirectional)
        compare("dropout", dropout, config.network.dropout)
        compare("proj-size", projSize, config.network.projSize)
        if let front = try? frontend(), front != config.frontend {
            conflicts.append("--conv (the model has \(config.frontend == nil ? "none" : "another front end"))")
        }
        compare("stack-frames", stackFrames, config.stackFrames)
        if features.anyGiven && features.featureOptions(over: config.features) != config.features {
            conflicts.append("feature options that differ from the model's")
        }
        if let keepCharacters, keepCharacters != config.text.keep {
            conflicts.append("--keep-characters (the model keeps \"\(config.text.keep)\")")
        }
        guard conflicts.isEmpty else {
            throw ValidationError(
                "--init \(`init` ?? "") takes its network, features and text settings from the model; these flags contradict it: \(conflicts.joined(separator: ", ")). Drop them, or train a new model without --init"
            )
        }
    }

    func run() throws {
        ComputeThreads.count = threads
        let outURL = URL(fileURLWithPath: out)
        // Under mpirun or srun: the ranks of a data-parallel run; rank 0 writes and reports.
        let collective = try jobCollective(wholeLine: false)
        let root = collective.isRoot
        // One run per output directory: a second one refuses at once.
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let lock = root ? try DirectoryLock(outURL) : nil
        defer { withExtendedLifetime(lock) {} }
        if collective.size > 1 { try RankCheck.sharedDirectory(outURL, collective) }
        let removed = root ? FileWriting.removeStaleTemporaries(in: outURL) : []
        if !removed.isEmpty { printError("note: removed \(removed.count) temporary file(s) an interrupted run left in \(out)") }
        var options = trainingOptions
        var modelConfig: ModelConfig
        let trainEntries = try Manifest.read(train)
        let validEntries = try valid.map { try Manifest.read($0) } ?? []

        if resume {
            (options, modelConfig) = try Trainer.checkpointOptions(in: outURL)
            if root { printError("resuming \(out) with the options it was started with") }
        } else {
            modelConfig = try makeConfig(trainEntries)
        }

        let model: AcousticModel
        if let initDirectory = `init`, !resume {
            model = try AcousticModel.load(directory: URL(fileURLWithPath: initDirectory))
            try checkAgreement(with: model.config)
        } else {
            model = try AcousticModel(config: modelConfig, seed: options.seed)
        }
        if root {
            printError(
                "model: \(model.config.network.numLayers)-layer \(model.config.network.bidirectional ? "bidirectional " : "")\(model.config.network.cell.rawValue), \(model.config.network.hiddenSize) per direction, \(model.config.parameterCount) parameters, \(model.config.tokens.count) tokens"
            )
        }

        let (trainSet, trainReport) = loadData(
            trainEntries, model: model, label: "train", keepAudio: options.augmentation != nil, collective: collective, report: root)
        let (validSet, _) = loadData(validEntries, model: model, label: "valid", collective: collective, report: root)
        guard !trainSet.isEmpty else { throw ToolError("no usable training utterance in \(train)") }

        let noiseRecordings = try loadNoise(options.augmentation?.noiseRecordings, model: model)
        let trainer = Trainer(
            model: model, options: options, train: trainSet, valid: validSet, outDirectory: outURL,
            threads: threads, noise: noiseRecordings)
        trainer.collective = collective
        if resume { try trainer.resume() }
        if collective.size > 1 {
            // Every rank must train the same thing from the same place.
            try RankCheck.sameRun(
                [
                    String(describing: options), String(describing: model.config), "\(trainSet.count) \(validSet.count)",
                    "\(trainer.state.step)", Hark.configuration.version, RankCheck.digest(model.parameters.map(\.value))
                ], collective)
            if root { printError("data parallel: \(collective.size) ranks, each with a share of every batch of \(options.batchSize)") }
        }
        let interrupt = InterruptFlag()
        trainer.shouldStop = { interrupt.isSet }
        let bar = TrainingProgress(
            batchesPerEpoch: (trainSet.count + options.batchSize - 1) / options.batchSize,
            epochs: options.epochs)
        trainer.onEvent = { bar.show($0) }
        try trainer.run()
        guard root else { return }
        bar.finish()
        if interrupt.isSet {
            printError(
                "interrupted at step \(trainer.state.step): checkpoint saved in \(out); continue with: hark train --resume --out \(out) --train \(train)\(valid.map { " --valid \($0)" } ?? "")"
            )
            throw ExitCode(130)
        }
        let s = trainer.state
        var summary =
            "trained \(s.step) steps in \(String(format: "%.0f", s.seconds)) s; skipped: \(s.skippedNonFinite) non-finite steps, \(trainReport.tooLong.count) utterances too long for their frames, \(trainReport.unreadable.count) unreadable"
        if let reason = s.stopReason { summary += "; stopped: \(reason)" }
        if let epoch = s.bestEpoch, let value = s.bestValue {
            let metric = trainer.options.selectBy
            summary +=
                "; kept epoch \(epoch + 1), the best by validation \(metric.rawValue.uppercased()) ("
                + (metric == .loss ? String(format: "%.3f", value) : String(format: "%.2f%%", 100 * value)) + ")"
            if metric != .cer, let cer = s.bestCER { summary += String(format: ", CER %.2f%%", 100 * cer) }
        } else if let best = s.bestCER {
            summary += String(format: "; best validation CER %.2f%%", 100 * best)
        }
        if let averaged = trainer.averaged {
            summary += "; the model is the mean of epochs " + averaged.epochs.map { "\($0 + 1)" }.joined(separator: ", ")
            if let cer = averaged.validCER { summary += String(format: " (validation CER %.2f%%)", 100 * cer) }
        }
        if collective.size > 1 {
            summary += String(format: "; %d ranks, %.1f s of it in gradient allreduce (rank 0)", collective.size, trainer.allreduceSeconds)
        }
        StandardOutput.line(summary)
        StandardOutput.line("model: \(out)")
        try StandardOutput.finish()
    }

    /// Features, stacking and network from --config or the flags; tokens from
    /// --config, or else the characters of the normalised training text.
    func makeConfig(_ entries: [ManifestEntry]) throws -> ModelConfig {
        var base: ModelConfig?
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ToolError("--config \(config): cannot read") }
            base = try JSONDecoder().decode(ModelConfig.self, from: data)
        }
        let featureOptions =
            features.anyGiven || base == nil
            ? features.featureOptions(over: base?.features ?? Self.defaultFeatures) : base!.features
        let normalizer =
            base.map { keepCharacters == nil ? $0.text : TextNormalizer(case: textCase, keep: keepCharacters!) }
            ?? TextNormalizer(case: textCase, keep: keepCharacters ?? TextNormalizer().keep)
        let raw = entries.map { $0.text ?? "" }
        let texts = raw.map(normalizer.normalize)
        // What normalisation removed, once, with the flag that keeps it.
        let removals = normalizer.removals(raw)
        let keptNow = normalizer.keep.filter { $0 != " " }
        if !removals.characters.isEmpty {
            let shown = removals.characters.prefix(12).map { "'\($0.0)' ×\($0.1)" }.joined(separator: ", ")
            let suggestion = keptNow + String(removals.characters.prefix(20).map(\.0).filter { !$0.isWhitespace })
            var line =
                "text: normalisation (\(normalizer.case.rawValue) case, keeping \(keptNow.count) characters) removed \(shown)\(removals.characters.count > 12 ? ", …" : "")"
            if let (before, after) = removals.example { line += "; e.g. \"\(before.prefix(60))\" → \"\(after.prefix(60))\"" }
            line += "; --keep-characters \" \(suggestion)\" keeps them"
            printError(line)
        }
        if texts.allSatisfy(\.isEmpty) {
            throw ToolError(
                "\(train): every transcript is empty once normalised (it keeps only \"\(normalizer.keep)\")"
                    + (removals.characters.isEmpty
                        ? ""
                        : "; they hold \(removals.characters.prefix(10).map { "'\($0.0)'" }.joined(separator: " ")): keep them with --keep-characters, or write the labels as words (0 as ZERO)")
            )
        }
        if removals.emptied > 0 {
            printError("text: \(removals.emptied) transcript(s) are empty once normalised and will be skipped")
        }
        let vocabulary = base.map { Vocabulary(tokens: $0.tokens, blank: $0.blank) } ?? Vocabulary.characters(of: texts)
        let front = try frontend() ?? (conv == nil ? base?.frontend : nil)
        let stack = stackFrames ?? base?.stackFrames ?? (front == nil ? ModelConfig.Network.trainingDefaultStack : 1)
        if let problem = front?.problem(bins: featureOptions.dimension * stack) {
            throw ValidationError("--conv \(conv ?? ""): \(problem)")
        }
        let defaults = ModelConfig.Network.trainingDefault
        let network = ModelConfig.Network(
            cell: cell ?? base?.network.cell ?? defaults.cell,
            inputSize: front?.outputWidth(bins: featureOptions.dimension * stack) ?? featureOptions.dimension * stack,
            hiddenSize: hiddenSize ?? base?.network.hiddenSize ?? defaults.hiddenSize,
            numLayers: numLayers ?? base?.network.numLayers ?? defaults.numLayers,
            bidirectional: bidirectional ?? base?.network.bidirectional ?? defaults.bidirectional,
            dropout: dropout ?? base?.network.dropout ?? defaults.dropout,
            projSize: projSize ?? base?.network.projSize ?? defaults.projSize)
        var c = ModelConfig(
            sampleRate: Int(featureOptions.frame.sampleFrequency), features: featureOptions,
            stackFrames: stack, network: network, tokens: vocabulary.tokens, blank: vocabulary.blank, text: normalizer)
        c.frontend = front
        try c.validate()
        return c
    }

    /// The noise recordings at the model's rate; at most an hour of audio is kept.
    func loadNoise(_ noise: String?, model: AcousticModel) throws -> [[Float]] {
        guard let noise else { return [] }
        let collection = InputCollection(arguments: [noise])
        for f in collection.failures { throw ToolError("--noise \(f.input): \(f.message)") }
        var recordings: [[Float]] = [], total = 0
        let limit = 3600 * model.config.sampleRate
        for input in collection.inputs where total < limit {
            do {
                let audio = try AudioLoader.load(input.path, options: AudioLoadOptions(targetSampleRate: model.config.sampleRate))
                let samples = Array(audio.waveform.samples.prefix(limit - total))
                total += samples.count
                recordings.append(samples)
            } catch {
                printError("--noise: skipped \(input.path): \(error)")
            }
        }
        guard !recordings.isEmpty else { throw ToolError("--noise \(noise): no readable noise recording") }
        printError(String(format: "noise: %d recordings, %.1f min", recordings.count, Double(total) / Double(model.config.sampleRate) / 60))
        return recordings
    }

    /// Under mpirun the ranks share the work (`Dataset.load(…, collective:)`).
    func loadData(
        _ entries: [ManifestEntry], model: AcousticModel, label: String, keepAudio: Bool = false,
        collective: Collective, report shouldReport: Bool = true
    ) -> ([Utterance], DatasetReport) {
        guard !entries.isEmpty else { return ([], DatasetReport()) }
        let start = Date()
        let (set, report) = Dataset.load(entries, model: model, threads: threads, keepAudio: keepAudio, collective: collective)
        guard shouldReport else { return (set, report) }
        printError(
            String(
                format: "%@: %d utterances, %.1f min of audio, features in %.1f s", label, set.count,
                report.audioSeconds / 60, Date().timeIntervalSince(start)))
        for line in report.summary(label: label, modelRate: model.config.sampleRate) { printError(line) }
        return (set, report)
    }
}

/// Set by SIGINT (Ctrl-C); the trainer polls it between steps.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            self.lock.lock(); self.set = true; self.lock.unlock()
            writeStandardError("\nhark: interrupt: finishing the step and saving a checkpoint…\n")
        }
        source.resume()
    }

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }
}

/// The progress bar of training, on stderr.
final class TrainingProgress {
    let batchesPerEpoch: Int
    let epochs: Int
    private var smoothedLoss: Float?
    private var lastPrint = Date.distantPast
    private let interactive = isatty(fileno(stderr)) != 0

    init(batchesPerEpoch: Int, epochs: Int) {
        self.batchesPerEpoch = batchesPerEpoch
        self.epochs = epochs
    }

    func show(_ event: TrainingEvent) {
        switch event {
        case .epoch(let e):
            var line = "epoch \(e.epoch + 1)/\(epochs) done at step \(e.step)"
            if let cer = e.validCER, let wer = e.validWER {
                line += String(format: ": valid CER %.2f%% WER %.2f%%%@", 100 * cer, 100 * wer, e.best == true ? " (best)" : "")
            }
            writeStandardError((interactive ? "\r\u{1B}[K" : "") + line + "\n")
        case .step(let e):
            if let l = e.loss { smoothedLoss = smoothedLoss.map { 0.95 * $0 + 0.05 * l } ?? l }
            let now = Date()
            guard now.timeIntervalSince(lastPrint) >= (interactive ? 0.25 : 10) else { return }
            lastPrint = now
            let inEpoch = (e.step - 1) % max(batchesPerEpoch, 1) + 1
            let width = 20, filled = width * inEpoch / max(batchesPerEpoch, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let eta = e.etaSeconds.map { String(format: "%d:%02d", Int($0) / 60, Int($0) % 60) } ?? "?"
            let line = String(
                format: "epoch %d/%d [%@] step %d loss %.3f %.0f frames/s ETA %@",
                e.epoch + 1, epochs, bar, e.step, smoothedLoss ?? .nan, e.framesPerSecond ?? 0, eta)
            writeStandardError(interactive ? "\r\u{1B}[K" + line : line + "\n")
        }
    }

    func finish() {
        if interactive { writeStandardError("\n") }
    }
}

extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}
extension TrainingOptions.SelectionMetric: ExpressibleByArgument {}
extension RecurrentCell: ExpressibleByArgument {}
extension Conv2d.Activation: ExpressibleByArgument {}
extension TextNormalizer.Case: ExpressibleByArgument {}

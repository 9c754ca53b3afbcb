import Foundation
import HarkCore
import HarkFeatures
import HarkIO
import HarkNN

/// The recogniser: features → frame stacking → recurrent stack → Linear →
/// log-softmax, exactly PyTorch's `HarkCTC` module (`python/hark_ctc.py`):
///
///     self.rnn = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, bidirectional=…, dropout=…)
///     self.output = nn.Linear(hidden_size · directions, len(tokens))
///     forward(x) = self.output(self.rnn(x)[0]).log_softmax(-1)
///
/// A model directory holds `config.json` (`ModelConfig`) and
/// `model.safetensors` (that module's `state_dict()`: `rnn.weight_ih_l0`, …,
/// `output.weight`, `output.bias`).
public final class AcousticModel {
    /// The model's configuration (`config.json`).
    public let config: ModelConfig
    /// The model's tokens, for turning labels into text and back.
    public let vocabulary: Vocabulary
    /// Convolutions before the recurrent layers (`config.frontend`), if any.
    public let frontend: ConvFrontEnd?
    /// The recurrent layers.
    public let rnn: Recurrent
    /// The output layer: recurrent outputs to one logit per token.
    public let output: Linear
    /// The feature extractor of `config.features`.
    public let extractor: FeatureExtractor
    /// The directory the model was loaded from (nil: made in memory); files a
    /// config names (a language model) are relative to it.
    public private(set) var directory: URL?

    /// The name of the configuration file in a model directory.
    public static let configFile = "config.json"
    /// The name of the weights file in a model directory.
    public static let weightsFile = "model.safetensors"

    /// A new model with PyTorch's default initialisation from `seed`.
    public init(config: ModelConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        vocabulary = Vocabulary(tokens: config.tokens, blank: config.blank)
        var rng = SeededGenerator(seed: seed)
        rnn = Recurrent(config.recurrentOptions, rng: &rng)
        output = Linear(inputSize: config.recurrentOptions.outputSize, outputSize: config.tokens.count, rng: &rng)
        // Drawn after the others, so that a model without a front end initialises as before.
        frontend = config.frontend.map { ConvFrontEnd($0, inputBins: config.features.dimension * config.stackFrames, rng: &rng) }
        extractor = try FeatureExtractor(config.features)
    }

    /// Parameters under the PyTorch module's names, in `state_dict()` order
    /// (the front end is the module's first part).
    public var namedParameters: NamedParameters {
        (frontend?.parameters ?? []).map { ("frontend." + $0.name, $0) }
            + rnn.parameters.map { ("rnn." + $0.name, $0) } + output.parameters.map { ("output." + $0.name, $0) }
    }

    /// Every parameter, in `state_dict()` order: front end, recurrent layers, output layer.
    public var parameters: [Parameter] { (frontend?.parameters ?? []) + rnn.parameters + output.parameters }

    // MARK: - Model directory

    /// A model directory's `config.json`, read and checked. The errors say
    /// what was given instead: no such directory, a file (its `config.json`,
    /// say) rather than the directory, a directory without a configuration.
    public static func readConfig(directory: URL) throws -> ModelConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw ModelError(problem: "\(directory.path): no such directory (a model directory holds \(configFile) and \(weightsFile))")
        }
        guard isDirectory.boolValue else {
            throw ModelError(
                problem: "\(directory.path): a file, not a model directory; give the directory that holds \(configFile) and \(weightsFile)"
                    + (directory.lastPathComponent == configFile || directory.lastPathComponent == weightsFile
                        ? " (\(directory.deletingLastPathComponent().relativePath))" : ""))
        }
        let configURL = directory.appendingPathComponent(configFile)
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw ModelError(problem: "\(directory.path): no \(configFile) (a model directory holds \(configFile) and \(weightsFile))")
        }
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as DecodingError {
            throw ModelError(problem: "\(configURL.path): \(describe(error))")
        }
        do { try config.validate() } catch let e as ModelError {
            throw ModelError(problem: "\(directory.path)/\(e.problem)")
        }
        return config
    }

    /// Loads a model directory: its `config.json` (`readConfig`) and `model.safetensors`. Throws `ModelError` when the
    /// configuration is invalid or the weights do not fit it.
    public static func load(directory: URL) throws -> AcousticModel {
        let config = try readConfig(directory: directory)
        // The weights are read before the network is built, so that a config
        // naming a huge network is refused for what the file holds, not allocated.
        let weightsURL = directory.appendingPathComponent(weightsFile)
        let weights = try SafeTensorsFile.read(weightsURL)
        let stored = weights.tensors.values.reduce(0) { $0 + $1.elementCount }
        guard stored >= config.parameterCount else {
            throw ModelError(
                problem: "\(weightsURL.path): holds \(stored) values; the network of config.json has \(config.parameterCount) parameters")
        }
        let model = try AcousticModel(config: config, seed: 0)
        model.directory = directory
        do {
            try StateDict.load(weights, into: model.namedParameters)
        } catch {
            throw ModelError(problem: "\(directory.appendingPathComponent(weightsFile).path): \(error)")
        }
        return model
    }

    /// Writes `config.json` and `model.safetensors` into `directory`, each atomically.
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeConfig(config, to: directory)
        try FileWriting.writeAtomically(
            StateDict.file(namedParameters, metadata: ["format": "pt"]).encode(),
            to: directory.appendingPathComponent(Self.weightsFile))
    }

    /// Writes `config` as the `config.json` of `directory`, atomically (a
    /// calibration added to a trained model, say); it must describe this
    /// model's network and tokens.
    public func writeConfig(_ config: ModelConfig, to directory: URL) throws {
        precondition(config.network == self.config.network && config.tokens == self.config.tokens, "a config for another network")
        try config.validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileWriting.writeAtomically(Array(try encoder.encode(config)), to: directory.appendingPathComponent(Self.configFile))
    }

    // MARK: - Computation

    /// The network's input for one utterance: features, CMVN, deltas, stacking.
    ///
    /// - Shapes: samples at `config.sampleRate` → [T, input_size].
    public func inputFeatures(_ samples: [Float], threads: Int = 1) -> Matrix {
        networkInput(base: extractor.computeBase(samples, threads: threads))
    }

    /// The network's input from base features (MFCC or fbank before CMVN
    /// and deltas, `FeatureExtractor.computeBase`): CMVN, deltas, stacking.
    ///
    /// - Shapes: base [T, baseDimension] → [T / stackFrames, input_size].
    public func networkInput(base: Matrix) -> Matrix {
        stackFrames(extractor.normalize(base), by: config.stackFrames)
    }

    /// Everything `backward` needs from a training forward.
    public struct ForwardPass {
        /// [T′·B, K]: the network's frames (T′ = T without a front end).
        public var logits: SequenceBatch
        var recurrent: Recurrent.Output
        var frontend: ConvFrontEnd.Cache?
    }

    /// - Parameters:
    ///   - batch: [T·B, input_size] (stacked features).
    ///   - dropout: the generator of the dropout masks (training); nil: no dropout.
    /// - Shapes: batch [T·B, ·] → logits [T′·B, K], each utterance's T′ = `config.networkFrames`.
    public func forward(_ batch: SequenceBatch, dropout: SeededGenerator? = nil, keepCache: Bool = true) -> ForwardPass {
        var x = batch, frontCache: ConvFrontEnd.Cache?
        if let frontend { (x, frontCache) = frontend.forward(batch, keepCache: keepCache) }
        let r = rnn.forward(x, dropout: dropout, keepCache: keepCache)
        // logits[T·B, K] = h[T·B, D·S] · W_outᵀ + b_out
        return ForwardPass(logits: r.output.with(data: output.forward(r.output.data)), recurrent: r, frontend: frontCache)
    }

    /// Accumulates every parameter's gradient from ∂loss/∂logits [T′·B, K].
    public func backward(_ dLogits: Matrix, pass: ForwardPass) {
        let dHidden = output.backward(dLogits, input: pass.recurrent.output.data)
        let dInput = rnn.backward(dHidden, cache: pass.recurrent.cache).input
        if let frontend, let cache = pass.frontend { frontend.backward(dInput, cache: cache) }
    }

    /// Log-probabilities of the next frames of an utterance whose earlier
    /// frames left the recurrent layers in `state` (nil: the start), which
    /// becomes the state after these: a unidirectional network without a
    /// front end run piece by piece gives what one run over the whole gives.
    ///
    /// - Shapes: input [t, input_size] → [t, K].
    public func logProbabilities(continuing input: Matrix, state: inout RecurrentState?) -> Matrix {
        precondition(frontend == nil && !config.network.bidirectional, "only a unidirectional network without a front end continues")
        let r = rnn.forward(SequenceBatch(single: input), initialState: state, keepCache: false)
        state = r.finalState
        // logits[t, K] = h[t, H] · W_outᵀ + b_out
        return logSoftmax(output.forward(r.output.data))
    }

    /// Log-probabilities of one utterance.
    ///
    /// - Shapes: input [T, input_size] → [T, K].
    public func logProbabilities(_ input: Matrix) -> Matrix {
        let frames = frontend.map { $0.options.outputFrames(input.rows) } ?? input.rows
        guard frames > 0 else { return Matrix(rows: 0, cols: config.tokens.count) }
        let pass = forward(SequenceBatch(single: input), keepCache: false)
        return logSoftmax(pass.logits.data)
    }
}

/// A one-line description of a JSON decoding error.
func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let c): return "missing \"\(([path(c)] + [key.stringValue]).filter { !$0.isEmpty }.joined(separator: "."))\""
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\"\(path(c))\": \(c.debugDescription)"
    case .dataCorrupted(let c): return (path(c).isEmpty ? "" : "\"\(path(c))\": ") + c.debugDescription
    @unknown default: return "\(error)"
    }
}

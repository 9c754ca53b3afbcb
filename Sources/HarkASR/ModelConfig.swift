import Foundation
import HarkFeatures
import HarkNN

/// `config.json` of a model directory — a public format, kept exactly:
///
///     {
///       "sample_rate": 16000,
///       "features": { "type": "fbank", "num_mel_bins": 40, …every Kaldi option…,
///                     "cmvn": "meanvar", "deltas": 0 },
///       "stack_frames": 3,
///       "network": { "cell": "lstm", "input_size": 120, "hidden_size": 128,
///                    "num_layers": 3, "bidirectional": true, "dropout": 0.2,
///                    "proj_size": 64 (optional: LSTM projections) },
///       "tokens": ["<blank>", " ", "A", …],
///       "blank": 0,
///       "text": { "case": "upper", "keep": " 'ABC…" },
///       "decoder": { "lm": "lm.arpa", "alpha": 0.6, "beta": 1.5, "beam": 32 },  (optional)
///       "calibration": { "temperature": 1.2, "map": [[0.3, 0.2], …] },  (optional: `Calibration` of word confidences)
///       "frontend": { "conv": [{ "channels": 32, "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1] }, …],
///                     "activation": "relu" }   (optional: convolutions before the recurrent layers)
///     }
///
/// Features are computed, then CMVN, then deltas (Kaldi's order); then
/// `stack_frames` consecutive frames t·k … t·k+k−1 are concatenated, oldest
/// first, into input frame t (a trailing partial group is dropped); then the
/// front end's convolutions, if any, subsample them in time (`timeStride`
/// feature frames per network frame).
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The recurrent network: `network` in config.json.
    public struct Network: Codable, Equatable, Sendable {
        /// The recurrent cell: `lstm`, `gru`, `rnn_tanh` or `rnn_relu`.
        public var cell: RecurrentCell
        /// The width of the first recurrent layer's input (`recurrentInputSize`).
        public var inputSize: Int
        /// H, the units per direction of each layer.
        public var hiddenSize: Int
        /// The number of stacked recurrent layers.
        public var numLayers: Int
        /// Whether each layer also runs backward in time, its output the two directions concatenated.
        public var bidirectional: Bool
        /// Dropout probability on the outputs of every layer but the last, in training only; in [0, 1).
        public var dropout: Float
        /// LSTM projections (`nn.LSTM(proj_size=…)`); 0, and absent from
        /// config.json: none.
        public var projSize: Int = 0

        /// The network a new model gets unless told otherwise (`hark train`):
        /// a 3-layer bidirectional LSTM, 128 units per direction, dropout 0.2
        /// between layers. `inputSize` follows from the features and stacking.
        public static let trainingDefault = Network(
            cell: .lstm, inputSize: 0, hiddenSize: 128, numLayers: 3, bidirectional: true, dropout: 0.2)
        /// Feature frames stacked into one input frame of a new model without
        /// a convolutional front-end (which subsamples time itself: 1 there).
        public static let trainingDefaultStack = 3

        enum CodingKeys: String, CodingKey {
            case cell
            case inputSize = "input_size"
            case hiddenSize = "hidden_size"
            case numLayers = "num_layers"
            case bidirectional, dropout
            case projSize = "proj_size"
        }

        /// A network of the given shape; `projSize` 0: no LSTM projections.
        public init(
            cell: RecurrentCell, inputSize: Int, hiddenSize: Int, numLayers: Int, bidirectional: Bool, dropout: Float,
            projSize: Int = 0
        ) {
            self.cell = cell
            self.inputSize = inputSize
            self.hiddenSize = hiddenSize
            self.numLayers = numLayers
            self.bidirectional = bidirectional
            self.dropout = dropout
            self.projSize = projSize
        }

        /// Decodes the `network` object of config.json; an absent `proj_size` is 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                cell: try c.decode(RecurrentCell.self, forKey: .cell), inputSize: try c.decode(Int.self, forKey: .inputSize),
                hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), numLayers: try c.decode(Int.self, forKey: .numLayers),
                bidirectional: try c.decode(Bool.self, forKey: .bidirectional), dropout: try c.decode(Float.self, forKey: .dropout),
                projSize: try c.decodeIfPresent(Int.self, forKey: .projSize) ?? 0)
        }

        /// Encodes the `network` object of config.json, writing `proj_size` only when it is not 0.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cell, forKey: .cell)
            try c.encode(inputSize, forKey: .inputSize)
            try c.encode(hiddenSize, forKey: .hiddenSize)
            try c.encode(numLayers, forKey: .numLayers)
            try c.encode(bidirectional, forKey: .bidirectional)
            try c.encode(dropout, forKey: .dropout)
            if projSize > 0 { try c.encode(projSize, forKey: .projSize) }
        }

        /// The width of the state and of each direction's output.
        public var stateSize: Int { projSize > 0 ? projSize : hiddenSize }
    }

    /// The audio sample rate the model expects, in Hz; equals the features' sample frequency.
    public var sampleRate: Int
    /// The acoustic features, with their CMVN and deltas.
    public var features: FeatureOptions
    /// Consecutive feature frames concatenated into one input frame (1: none); absent from config.json: 1.
    public var stackFrames: Int
    /// The recurrent layers.
    public var network: Network
    /// The output symbols, indexed by output class; one of them is the CTC blank.
    public var tokens: [String]
    /// The index of the CTC blank in `tokens`; absent from config.json: 0.
    public var blank: Int
    /// How transcripts are normalised before training and scoring.
    public var text: TextNormalizer
    /// Decoding defaults of the model directory (a language model beside the
    /// weights and its weights); absent in models without them.
    public var decoder: DecoderConfig?
    /// Temperature scaling of word confidences; absent: confidences as computed.
    public var calibration: Calibration?
    /// Convolutions over (time, frequency) before the recurrent layers
    /// (`ConvFrontEnd`); absent: the stacked features go to them directly.
    public var frontend: ConvFrontEnd.Options?

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sample_rate"
        case features
        case stackFrames = "stack_frames"
        case network, tokens, blank, text, decoder, calibration
        case frontend
    }

    /// A configuration without decoder defaults, calibration or convolutional front end.
    public init(
        sampleRate: Int, features: FeatureOptions, stackFrames: Int, network: Network,
        tokens: [String], blank: Int, text: TextNormalizer
    ) {
        self.sampleRate = sampleRate
        self.features = features
        self.stackFrames = stackFrames
        self.network = network
        self.tokens = tokens
        self.blank = blank
        self.text = text
    }

    /// Decodes config.json; absent optional keys take their defaults (`stack_frames` 1, `blank` 0, `text` from the tokens).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sampleRate = try c.decode(Int.self, forKey: .sampleRate)
        features = try c.decode(FeatureOptions.self, forKey: .features)
        stackFrames = try c.decodeIfPresent(Int.self, forKey: .stackFrames) ?? 1
        network = try c.decode(Network.self, forKey: .network)
        tokens = try c.decode([String].self, forKey: .tokens)
        blank = try c.decodeIfPresent(Int.self, forKey: .blank) ?? 0
        text = try c.decodeIfPresent(TextNormalizer.self, forKey: .text) ?? TextNormalizer(tokens: tokens, blank: blank)
        self.decoder = try c.decodeIfPresent(DecoderConfig.self, forKey: .decoder)
        calibration = try c.decodeIfPresent(Calibration.self, forKey: .calibration)
        frontend = try c.decodeIfPresent(ConvFrontEnd.Options.self, forKey: .frontend)
    }

    /// Feature frames per network output frame: the stacking times the front end's time strides.
    public var timeStride: Int { stackFrames * (frontend?.timeStride ?? 1) }

    /// The network's output frames for `n` feature frames: ⌊n / stack⌋ stacked frames, through the front end.
    public func networkFrames(featureFrames n: Int) -> Int {
        let stacked = n / stackFrames
        return frontend.map { $0.outputFrames(stacked) } ?? stacked
    }

    /// The width of the recurrent layers' input: the stacked features, or the front end's output.
    public var recurrentInputSize: Int {
        let stacked = features.dimension * stackFrames
        return frontend.map { $0.outputWidth(bins: stacked) } ?? stacked
    }

    /// Checks every value against `Limits` and that the parts agree, before
    /// anything is allocated; the error says which value is wrong.
    public func validate() throws {
        func fail(_ m: String) -> ModelError { ModelError(problem: "config.json: " + m) }
        // The features first: the feature dimension is only defined for valid options.
        do { _ = try FeatureExtractor(features) } catch { throw fail("features: \(error)") }
        guard Double(sampleRate) == features.frame.sampleFrequency else {
            throw fail("sample_rate \(sampleRate) differs from features.sample_frequency \(features.frame.sampleFrequency)")
        }
        guard (1...Limits.stackFrames).contains(stackFrames) else {
            throw fail("stack_frames \(stackFrames) must be in 1…\(Limits.stackFrames)")
        }
        if let frontend {
            if let problem = frontend.problem(bins: features.dimension * stackFrames) { throw fail(problem) }
            guard network.inputSize == recurrentInputSize else {
                throw fail(
                    "network.input_size \(network.inputSize) must be the front end's output width, channels × frequency bins = \(recurrentInputSize)"
                )
            }
        } else {
            guard network.inputSize == features.dimension * stackFrames else {
                throw fail(
                    "network.input_size \(network.inputSize) must be the feature dimension \(features.dimension) × stack_frames \(stackFrames) = \(features.dimension * stackFrames)"
                )
            }
        }
        guard (1...Limits.hiddenSize).contains(network.hiddenSize) else {
            throw fail("network.hidden_size \(network.hiddenSize) must be in 1…\(Limits.hiddenSize)")
        }
        guard (1...Limits.layers).contains(network.numLayers) else {
            throw fail("network.num_layers \(network.numLayers) must be in 1…\(Limits.layers)")
        }
        guard network.dropout >= 0 && network.dropout < 1 else { throw fail("network.dropout \(network.dropout) must be in [0, 1)") }
        guard network.projSize == 0 || (network.cell == .lstm && (1..<network.hiddenSize).contains(network.projSize)) else {
            throw fail(
                "network.proj_size \(network.projSize) must be 0, or for an LSTM between 1 and hidden_size − 1 (\(network.hiddenSize - 1))")
        }
        guard tokens.count >= 2 else { throw fail("tokens must list the blank and at least one symbol") }
        guard tokens.count <= Limits.tokens else { throw fail("\(tokens.count) tokens; at most \(Limits.tokens)") }
        guard (0..<tokens.count).contains(blank) else { throw fail("blank \(blank) is not an index of the \(tokens.count) tokens") }
        guard Set(tokens).count == tokens.count else { throw fail("tokens contain duplicates") }
        if let d = decoder { do { try d.validate() } catch { throw fail("decoder: \(error)") } }
        if let c = calibration { do { try c.validate() } catch let e as ModelError { throw fail(e.problem) } }
        guard Double(parameterCount) <= Double(Limits.parameters) else {
            throw fail("the network would have \(parameterCount) parameters; at most \(Limits.parameters)")
        }
    }

    /// The network's parameter count: per layer and direction G·H·(input + S) weights, 2·G·H biases
    /// and P·H projection weights, then the output layer (S: the state's width, P or H).
    public var parameterCount: Int {
        let G = network.cell.gateCount, H = network.hiddenSize, S = network.stateSize, D = network.bidirectional ? 2 : 1
        var n = 0
        for l in 0..<network.numLayers {
            let input = l == 0 ? network.inputSize : D * S
            n += D * (G * H * (input + S + 2) + network.projSize * H)
        }
        return n + tokens.count * (D * S + 1) + (frontend?.parameterCount(bins: features.dimension * stackFrames) ?? 0)
    }

    /// The options of the recurrent layers described by `network`.
    public var recurrentOptions: Recurrent.Options {
        Recurrent.Options(
            cell: network.cell, inputSize: network.inputSize, hiddenSize: network.hiddenSize,
            numLayers: network.numLayers, dropout: network.dropout,
            bidirectional: network.bidirectional, projectionSize: network.projSize)
    }
}

/// A model directory or checkpoint that cannot be used.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, in words.
    public var problem: String
    /// An error describing `problem`.
    public init(problem: String) { self.problem = problem }
    /// The problem, as given.
    public var description: String { problem }
}

import HarkCore

/// Convolutions over (time, frequency) in front of the recurrent layers, as
/// DeepSpeech 2 and ESPnet's `Conv2dSubsampling` put them: PyTorch's
///
///     self.frontend = nn.Sequential(nn.Conv2d(1, C₁, k₁, s₁, p₁), act, nn.Conv2d(C₁, C₂, k₂, s₂, p₂), act, …)
///     x = self.frontend(x.unsqueeze(1))                 # [B, 1, T, F] → [B, C, T′, F′]
///     x = x.transpose(1, 2).reshape(B, T′, C · F′)      # feature c·F′ + f of frame t
///
/// with `act` `nn.ReLU()` or `nn.Hardtanh(0, 20)`; parameters
/// `frontend.{2i}.weight` [C_{i+1}, C_i, k_t, k_f] and `frontend.{2i}.bias`.
/// Strides in time subsample the frames (an alternative to frame stacking):
/// T′ = ⌊(T + 2p − k)/s⌋ + 1 per layer.
///
/// Shapes: input [T·B, F] time-major (a `SequenceBatch`), output
/// [T′·B, C·F′] with each utterance's own T′ (`outputFrames`).
public final class ConvFrontEnd: ParameterContainer {
    /// One convolution.
    public struct Layer: Codable, Equatable, Sendable {
        /// The output channels.
        public var channels: Int
        /// [time, frequency] each.
        public var kernel: [Int]
        /// [time, frequency].
        public var stride: [Int]
        /// [time, frequency]: zeros added on each side.
        public var padding: [Int]

        /// A layer of the given channels and [time, frequency] kernel, stride and padding.
        public init(channels: Int, kernel: [Int], stride: [Int], padding: [Int]) {
            self.channels = channels
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
        }
    }

    /// `config.json`'s `"frontend": {"conv": [{"channels", "kernel", "stride", "padding"}, …], "activation"}`.
    public struct Options: Codable, Equatable, Sendable {
        /// The convolutions, in order; the first has one input channel.
        public var layers: [Layer]
        /// The activation after every convolution.
        public var activation: Conv2d.Activation

        enum CodingKeys: String, CodingKey {
            case layers = "conv"
            case activation
        }

        /// A front end of the given layers, each followed by `activation` (ReLU by default).
        public init(layers: [Layer], activation: Conv2d.Activation = .relu) {
            self.layers = layers
            self.activation = activation
        }

        /// Weights and biases of every layer, for `bins` input features.
        public func parameterCount(bins F: Int) -> Int {
            var channels = 1, n = 0
            for l in layers {
                n += l.channels * (channels * l.kernel[0] * l.kernel[1] + 1)
                channels = l.channels
            }
            return n
        }

        /// Why these options cannot be used with `bins` input features, or nil.
        public func problem(bins F: Int) -> String? {
            guard !layers.isEmpty else { return "frontend.conv lists no layer" }
            var f = F
            for (i, l) in layers.enumerated() {
                guard l.kernel.count == 2, l.stride.count == 2, l.padding.count == 2 else {
                    return "frontend.conv[\(i)]: kernel, stride and padding are [time, frequency] pairs"
                }
                guard (1...4096).contains(l.channels), l.kernel.allSatisfy({ (1...64).contains($0) }),
                    l.stride.allSatisfy({ (1...8).contains($0) }), l.padding.allSatisfy({ (0...32).contains($0) })
                else {
                    return "frontend.conv[\(i)]: channels 1…4096, kernel 1…64, stride 1…8, padding 0…32"
                }
                f = Conv2d.outputSize(f, l.kernel[1], l.stride[1], l.padding[1])
                guard f > 0 else { return "frontend.conv[\(i)] leaves no frequency bin of the \(F) features" }
            }
            return nil
        }

        /// C·F′: the width of the output for `bins` input features.
        public func outputWidth(bins F: Int) -> Int {
            var f = F
            for l in layers { f = Conv2d.outputSize(f, l.kernel[1], l.stride[1], l.padding[1]) }
            return (layers.last?.channels ?? 1) * f
        }

        /// T′ for T input frames, through every layer.
        public func outputFrames(_ T: Int) -> Int {
            var t = T
            for l in layers { t = Conv2d.outputSize(t, l.kernel[0], l.stride[0], l.padding[0]) }
            return t
        }

        /// Input frames per output frame: the product of the time strides.
        public var timeStride: Int { layers.reduce(1) { $0 * $1.stride[0] } }
    }

    /// The layers and activation.
    public let options: Options
    /// F, the input features per frame (the first layer's frequency bins).
    public let inputBins: Int
    let convs: [Conv2d]

    /// A front end for `inputBins` features with PyTorch's default initialisation from `rng`, layer by layer; the
    /// options must be valid for them (`Options.problem(bins:)` nil).
    public init(_ options: Options, inputBins: Int, rng: inout SeededGenerator) {
        precondition(options.problem(bins: inputBins) == nil, options.problem(bins: inputBins) ?? "")
        self.options = options
        self.inputBins = inputBins
        var channels = 1
        var convs: [Conv2d] = []
        for (i, l) in options.layers.enumerated() {
            let conv = Conv2d(
                inputChannels: channels, outputChannels: l.channels, kernel: (l.kernel[0], l.kernel[1]),
                stride: (l.stride[0], l.stride[1]), padding: (l.padding[0], l.padding[1]),
                activation: options.activation, prefix: "\(2 * i).")
            conv.initialize(rng: &rng)
            convs.append(conv)
            channels = l.channels
        }
        self.convs = convs
    }

    /// In PyTorch's `state_dict()` order, named as within the `frontend` module.
    public var parameters: [Parameter] { convs.flatMap(\.parameters) }

    /// C·F′: the width of the output.
    public var outputWidth: Int { options.outputWidth(bins: inputBins) }

    /// What `backward` needs of a forward pass.
    public struct Cache {
        /// Per utterance, per layer.
        var layers: [[Conv2d.Cache]]
        let inputLayout: SequenceLayout
    }

    /// - Shapes: input [T·B, F] → output [T′·B, C·F′], each utterance's T′ from its length.
    public func forward(_ input: SequenceBatch, keepCache: Bool = true) -> (output: SequenceBatch, cache: Cache) {
        let B = input.batch, F = inputBins
        precondition(input.width == F, "the front end expects \(F) features, not \(input.width)")
        let lengths = input.lengths.map { options.outputFrames($0) }
        let T2 = max(1, lengths.max() ?? 1), width = outputWidth
        var out = Matrix(rows: T2 * B, cols: width)
        var caches: [[Conv2d.Cache]] = []
        for b in 0..<B {
            // This utterance, [len, F, 1] channels last.
            let len = input.lengths[b]
            var x = [Float](repeating: 0, count: len * F)
            for t in 0..<len { for f in 0..<F { x[t * F + f] = input.data[t * B + b, f] } }
            var frames = len, bins = F
            var layerCaches: [Conv2d.Cache] = []
            for conv in convs {
                let (y, cache) = x.withUnsafeBufferPointer { conv.forward($0, frames: frames, bins: bins, keepCache: keepCache) }
                layerCaches.append(cache)
                x = y
                frames = conv.outputFrames(frames)
                bins = conv.outputBins(bins)
            }
            // [T′, F′, C] → row t of the output: feature c·F′ + f.
            let C = options.layers.last!.channels
            for t in 0..<frames {
                for c in 0..<C { for f in 0..<bins { out[t * B + b, c * bins + f] = x[(t * bins + f) * C + c] } }
            }
            caches.append(keepCache ? layerCaches : [])
        }
        return (SequenceBatch(data: out, steps: T2, lengths: lengths), Cache(layers: caches, inputLayout: input.layout))
    }

    /// Accumulates every parameter's gradient from ∂output [T′·B, C·F′]
    /// (the front end is first: no gradient of its input is computed).
    public func backward(_ dOutput: Matrix, cache: Cache) {
        let layout = cache.inputLayout, B = layout.batch
        let T2 = dOutput.rows / max(B, 1)
        for b in 0..<B {
            // The last layer's [T′, F′, C] gradient from this utterance's rows.
            let caches = cache.layers[b]
            var frames = layout.lengths[b], bins = inputBins
            var sizes: [(Int, Int)] = []
            for conv in convs {
                sizes.append((frames, bins))
                frames = conv.outputFrames(frames)
                bins = conv.outputBins(bins)
            }
            let C = options.layers.last!.channels
            var dy = [Float](repeating: 0, count: frames * bins * C)
            for t in 0..<min(frames, T2) {
                for c in 0..<C { for f in 0..<bins { dy[(t * bins + f) * C + c] = dOutput[t * B + b, c * bins + f] } }
            }
            for l in stride(from: convs.count - 1, through: 0, by: -1) {
                guard let dx = convs[l].backward(dy, cache: caches[l], inputGradient: l > 0) else { break }
                dy = dx
            }
        }
    }
}

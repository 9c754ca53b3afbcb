import Dispatch
import HarkCore

/// A stack of recurrent layers with PyTorch's semantics: `nn.RNN`, `nn.LSTM`
/// and `nn.GRU` in one type.
///
/// Shapes. Letters: T steps, B batch, I input size, H hidden size per
/// direction, S the state's width (H, or P with LSTM projections), D
/// directions (1 or 2), L layers. Sequences are `SequenceBatch`es,
/// time-major (row t·B + b, PyTorch's default `batch_first=False`).
/// - input [T·B, I], with per-sequence lengths (padded rows ignored)
/// - output [T·B, D·S]: [forward | backward] concatenated; padded rows are 0
/// - state h [L·D·B, S], c [L·D·B, H] = PyTorch's [L·D, B, ·]: row (l·D + d)·B + b
///
/// Parameter names and order are PyTorch's `state_dict()`:
/// `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` (and
/// `weight_hr_l{k}` with projections), then the same with `_reverse`, for
/// k = 0 … L−1.
public final class Recurrent: ParameterContainer {
    /// The shape of the stack, as PyTorch's constructor arguments.
    public struct Options: Equatable, Sendable, Codable {
        /// The cell: plain RNN (tanh or ReLU), LSTM or GRU.
        public var cell: RecurrentCell
        /// I, the width of the first layer's input.
        public var inputSize: Int
        /// H, the hidden units per direction.
        public var hiddenSize: Int
        /// L, the number of stacked layers.
        public var numLayers = 1
        /// Whether the layers have the biases `bias_ih` and `bias_hh`.
        public var bias = true
        /// Dropout on the outputs of every layer but the last, in training only.
        public var dropout: Float = 0
        /// Whether every layer also runs backward in time (D = 2).
        public var bidirectional = false
        /// LSTM with projections (`nn.LSTM(proj_size=P)`, Sak et al. 2014): the
        /// state h and each direction's output are P = W_hr (o ⊙ tanh c) wide,
        /// the cell c stays H wide. 0: none.
        public var projectionSize = 0

        /// Options with PyTorch's defaults: one layer, biases, no dropout, one direction, no projections.
        public init(
            cell: RecurrentCell, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
            dropout: Float = 0, bidirectional: Bool = false, projectionSize: Int = 0
        ) {
            self.cell = cell
            self.inputSize = inputSize
            self.hiddenSize = hiddenSize
            self.numLayers = numLayers
            self.bias = bias
            self.dropout = dropout
            self.bidirectional = bidirectional
            self.projectionSize = projectionSize
        }

        enum CodingKeys: String, CodingKey {
            case cell, inputSize, hiddenSize, numLayers, bias, dropout, bidirectional, projectionSize
        }

        /// Decodes the options; an absent `projectionSize` is 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                cell: try c.decode(RecurrentCell.self, forKey: .cell), inputSize: try c.decode(Int.self, forKey: .inputSize),
                hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), numLayers: try c.decode(Int.self, forKey: .numLayers),
                bias: try c.decode(Bool.self, forKey: .bias), dropout: try c.decode(Float.self, forKey: .dropout),
                bidirectional: try c.decode(Bool.self, forKey: .bidirectional),
                projectionSize: try c.decodeIfPresent(Int.self, forKey: .projectionSize) ?? 0)
        }

        /// D, the number of directions: 2 when bidirectional, else 1.
        public var directions: Int { bidirectional ? 2 : 1 }
        /// S, the width of the state h and of each direction's output: P with projections, else H.
        public var stateSize: Int { projectionSize > 0 ? projectionSize : hiddenSize }
        /// The width of each layer's output, D·S.
        public var outputSize: Int { stateSize * directions }
    }

    /// The stack's shape.
    public let options: Options
    /// layers[l][d], d = 0 forward, 1 reverse.
    let layers: [[RecurrentDirection]]
    /// Run the two directions of a bidirectional layer on two threads (when
    /// `ComputeThreads.count` allows). Results are identical either way.
    public var parallelDirections = true
    /// Hark's AVX2 kernels (`.fast`) or the portable reference; results agree to float rounding.
    public var kernels = KernelChoice.fast

    /// PyTorch's default initialisation: every parameter from U(−1/√H, 1/√H),
    /// in `state_dict()` order.
    public init(_ options: Options, rng: inout SeededGenerator) {
        precondition(
            options.numLayers >= 1 && options.hiddenSize >= 1 && options.inputSize >= 1,
            "recurrent layer sizes must be positive: \(options)")
        precondition(options.dropout >= 0 && options.dropout < 1, "dropout \(options.dropout) must be in [0, 1)")
        precondition(
            options.projectionSize == 0 || (options.cell == .lstm && options.projectionSize < options.hiddenSize),
            "projections are for LSTMs, smaller than the hidden size (as PyTorch's proj_size): \(options)")
        self.options = options
        var layers: [[RecurrentDirection]] = []
        for l in 0..<options.numLayers {
            let input = l == 0 ? options.inputSize : options.outputSize
            layers.append(
                (0..<options.directions).map {
                    RecurrentDirection(
                        cell: options.cell, inputSize: input, hiddenSize: options.hiddenSize,
                        projectionSize: options.projectionSize, layer: l, reverse: $0 == 1, bias: options.bias)
                })
        }
        self.layers = layers
        let bound = 1 / Float(options.hiddenSize).squareRoot()
        for p in parameters { p.fillUniform(bound: bound, using: &rng) }
    }

    /// Every parameter, in `state_dict()` order.
    public var parameters: [Parameter] { layers.flatMap { $0.flatMap { $0.parameters } } }

    /// What `backward` needs.
    public struct Cache {
        let layout: SequenceLayout
        /// The input of each layer, time-major [T·B, ·] (after dropout for l > 0).
        var layerInputs: [[Float]] = []
        /// Dropout masks (already scaled by 1/(1−p)) applied to layer l's output, l < L−1.
        var dropoutMasks: [[Float]] = []
        var directions: [[RecurrentDirection.Cache]] = []
    }

    /// The result of `forward`.
    public struct Output {
        /// [T·B, D·S], the input's layout (S = `proj_size`, or H without projections).
        public var output: SequenceBatch
        /// Each sequence's state after its own last frame (a reverse
        /// direction's: after frame 0): the initial state of a continuation.
        public var finalState: RecurrentState
        /// What `backward` needs; too little for it when `forward` ran with `keepCache` false.
        public var cache: Cache
    }

    /// A zero state for B sequences: h [L·D·B, S], c [L·D·B, H].
    public func zeroState(batch B: Int) -> RecurrentState {
        let rows = options.numLayers * options.directions * B
        return RecurrentState(
            h: Matrix(rows: rows, cols: options.stateSize),
            c: options.cell.hasCellState ? Matrix(rows: rows, cols: options.hiddenSize) : nil)
    }

    /// - Parameters:
    ///   - input: [T·B, I].
    ///   - initialState: h0 [L·D·B, S] (and c0 [L·D·B, H]) (nil: zeros). A stream that
    ///     continues a unidirectional model's earlier chunk passes that chunk's `finalState`.
    ///   - dropout: when given and `options.dropout` > 0, dropout is applied
    ///     (training) with masks drawn from this generator.
    ///   - keepCache: false for inference: less memory, and `backward` cannot follow.
    public func forward(
        _ input: SequenceBatch, initialState: RecurrentState? = nil,
        dropout: SeededGenerator? = nil, keepCache: Bool = true
    ) -> Output {
        let o = options
        precondition(input.width == o.inputSize, "expected \(o.inputSize) input features, got \(input.width)")
        let layout = input.layout
        let B = layout.batch, T = layout.steps, H = o.hiddenSize, S = o.stateSize, D = o.directions, L = o.numLayers
        let stateRows = L * D * B
        var state = initialState ?? zeroState(batch: B)
        precondition(state.h.shape == [stateRows, S], "h0 must be [\(L * D)·\(B), \(S)], not \(state.h.shape)")
        precondition(
            (state.c?.shape == [stateRows, H]) == o.cell.hasCellState,
            "c0 must be [\(L * D)·\(B), \(H)] for an LSTM and absent otherwise")
        var rng = dropout
        var cache = Cache(layout: layout)
        var x = input.data.data
        var y: [Float] = []
        for l in 0..<L {
            let width = D * S
            y = [Float](repeating: 0, count: T * B * width)
            let caches = (0..<D).map { _ in Slot<RecurrentDirection.Cache>() }
            let kernels = self.kernels
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    state.h.data.withUnsafeMutableBufferPointer { ph in
                        withOptionalBuffer(&state.c) { pc in
                            let xp = SendablePointer(px.baseAddress!)
                            let yp = SendablePointer(py.baseAddress!), hp = SendablePointer(ph.baseAddress!),
                                cp = pc.map { SendablePointer($0) }
                            let run = { (d: Int) in
                                let row = (l * D + d) * B
                                caches[d].value = self.layers[l][d].forward(
                                    x: xp.pointer, layout: layout, h: hp.pointer + row * S,
                                    c: cp.map { $0.pointer + row * H }, y: yp.pointer + d * S, ldy: width,
                                    keepCache: keepCache, kernels: kernels)
                            }
                            self.eachDirection(D, run)
                        }
                    }
                }
            }
            if keepCache { cache.layerInputs.append(x) }
            cache.directions.append(caches.map { $0.value! })
            if l < L - 1, o.dropout > 0, rng != nil {
                let keep = 1 - o.dropout
                var mask = [Float](repeating: 0, count: y.count)
                for i in mask.indices where rng!.nextUniform() < keep { mask[i] = 1 / keep }
                for i in y.indices { y[i] *= mask[i] }
                cache.dropoutMasks.append(mask)
            }
            x = y
        }
        return Output(output: input.with(data: Matrix(rows: T * B, cols: D * S, data: y)), finalState: state, cache: cache)
    }

    /// The result of `backward`: the gradients of the input and the initial state (the parameters' accumulate in place).
    public struct Gradients {
        /// ∂loss/∂input [T·B, I].
        public var input: Matrix
        /// ∂loss/∂h0 [L·D·B, S], ∂loss/∂c0 [L·D·B, H].
        public var initialState: RecurrentState
    }

    /// Backpropagation through the stack: the forward's layer loop reversed.
    /// Accumulates every parameter's gradient.
    ///
    /// - Parameters:
    ///   - dOutput: ∂loss/∂output [T·B, D·S].
    ///   - dFinalState: ∂loss/∂h_n [L·D·B, S], ∂loss/∂c_n [L·D·B, H] (nil: zero).
    public func backward(_ dOutput: Matrix, dFinalState: RecurrentState? = nil, cache: Cache) -> Gradients {
        let o = options, layout = cache.layout
        let T = layout.steps, B = layout.batch, H = o.hiddenSize, S = o.stateSize, D = o.directions, L = o.numLayers
        precondition(dOutput.shape == [T * B, D * S], "dOutput must be [\(T * B), \(D * S)]")
        var dState = dFinalState ?? zeroState(batch: B)
        var dy = dOutput.data
        let kernels = self.kernels
        for l in stride(from: L - 1, through: 0, by: -1) {
            let width = D * S
            let inputWidth = l == 0 ? o.inputSize : width
            if l < L - 1, !cache.dropoutMasks.isEmpty {
                // (y = y_raw ⊙ mask) → dy_raw = dy ⊙ mask
                let mask = cache.dropoutMasks[l]
                for i in dy.indices { dy[i] *= mask[i] }
            }
            // Each direction's part of ∂x, summed after both have run.
            let partSize = T * B * inputWidth
            var dxParts = [Float](repeating: 0, count: D * partSize)
            let x = cache.layerInputs[l]
            dy.withUnsafeBufferPointer { pdy in
                x.withUnsafeBufferPointer { px in
                    dxParts.withUnsafeMutableBufferPointer { pdx in
                        dState.h.data.withUnsafeMutableBufferPointer { pdh in
                            withOptionalBuffer(&dState.c) { pdc in
                                let dyp = SendablePointer(pdy.baseAddress!)
                                let xp = SendablePointer(px.baseAddress!)
                                let dhp = SendablePointer(pdh.baseAddress!), dcp = pdc.map { SendablePointer($0) }
                                let dxp = SendablePointer(pdx.baseAddress!)
                                let run = { (d: Int) in
                                    let row = (l * D + d) * B
                                    self.layers[l][d].backward(
                                        dy: dyp.pointer + d * S, ldy: width, x: xp.pointer, layout: layout,
                                        cache: cache.directions[l][d], dh: dhp.pointer + row * S,
                                        dc: dcp.map { $0.pointer + row * H }, dx: dxp.pointer + d * partSize,
                                        kernels: kernels)
                                }
                                self.eachDirection(D, run)
                            }
                        }
                    }
                }
            }
            dy = Array(dxParts[0..<partSize])
            if D == 2 { for i in dy.indices { dy[i] += dxParts[partSize + i] } }
        }
        return Gradients(input: Matrix(rows: T * B, cols: o.inputSize, data: dy), initialState: dState)
    }

    /// The directions one after the other, or both at once when
    /// `parallelDirections` and there are threads for it (`ComputeThreads`);
    /// each writes only its own buffers, so the results are the same bits.
    private func eachDirection(_ count: Int, _ body: (Int) -> Void) {
        if count == 2 && parallelDirections && ComputeThreads.count > 1 {
            DispatchQueue.concurrentPerform(iterations: 2, execute: body)
        } else {
            for d in 0..<count { body(d) }
        }
    }
}

/// Calls `body` with the matrix's storage, or nil.
@inline(__always)
func withOptionalBuffer<R>(_ m: inout Matrix?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    if m == nil { return body(nil) }
    return m!.data.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// One slot per direction, written by that direction's thread only.
final class Slot<T>: @unchecked Sendable {
    var value: T?
}

/// The recurrent state between two chunks of a stream, or the initial and
/// final state of one forward pass.
///
/// - Shapes: h, c [L·D·B, H] (PyTorch's [L·D, B, H], row (l·D + d)·B + b);
///   c only for an LSTM.
public struct RecurrentState: Equatable, Sendable {
    /// The hidden state h.
    public var h: Matrix
    /// The cell state c of an LSTM; nil for the other cells.
    public var c: Matrix?

    /// A state of the given matrices.
    public init(h: Matrix, c: Matrix? = nil) {
        self.h = h
        self.c = c
    }
}

import Dispatch
import HarkCore

/// A stack of recurrent layers with PyTorch's semantics: `nn.RNN`, `nn.LSTM`
/// and `nn.GRU` in one type.
///
/// Shapes. Letters: T steps, B batch, I input size, H hidden size per
/// direction, D directions (1 or 2), L layers. Sequences are matrices of
/// rows: time-major row t·B + b, or, with `batchFirst`, row b·T + t.
/// - input [T·B, I] (or [B·T, I]), with per-sequence lengths (padded rows ignored)
/// - output [T·B, D·H]: [forward | backward] concatenated; padded rows are 0
/// - h0, h_n, c0, c_n [L·D·B, H] = PyTorch's [L·D, B, H]: row (l·D + d)·B + b
///
/// Parameter names and order are PyTorch's `state_dict()`:
/// `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, then
/// the same with `_reverse`, for k = 0 … L−1.
public final class Recurrent: ParameterContainer {
    public struct Options: Equatable, Sendable, Codable {
        public var cell: RecurrentCell
        public var inputSize: Int
        public var hiddenSize: Int
        public var numLayers = 1
        public var bias = true
        public var batchFirst = false
        /// Dropout on the outputs of every layer but the last, in training only.
        public var dropout: Float = 0
        public var bidirectional = false

        public init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                    batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false) {
            self.cell = cell
            self.inputSize = inputSize
            self.hiddenSize = hiddenSize
            self.numLayers = numLayers
            self.bias = bias
            self.batchFirst = batchFirst
            self.dropout = dropout
            self.bidirectional = bidirectional
        }

        public var directions: Int { bidirectional ? 2 : 1 }
        public var outputSize: Int { hiddenSize * directions }
    }

    public let options: Options
    /// layers[l][d], d = 0 forward, 1 reverse.
    let layers: [[RecurrentDirection]]
    /// Run the two directions of a bidirectional layer on two threads
    /// (OpenBLAS then runs single-threaded inside each). Results are identical either way.
    public var parallelDirections = true

    /// PyTorch's default initialisation: every parameter from U(−1/√H, 1/√H),
    /// in `state_dict()` order.
    public init(_ options: Options, rng: inout SeededGenerator) {
        precondition(options.numLayers >= 1 && options.hiddenSize >= 1 && options.inputSize >= 1,
                     "recurrent layer sizes must be positive: \(options)")
        precondition(options.dropout >= 0 && options.dropout < 1, "dropout \(options.dropout) must be in [0, 1)")
        self.options = options
        var layers: [[RecurrentDirection]] = []
        for l in 0..<options.numLayers {
            let input = l == 0 ? options.inputSize : options.outputSize
            layers.append((0..<options.directions).map {
                RecurrentDirection(cell: options.cell, inputSize: input, hiddenSize: options.hiddenSize,
                                   layer: l, reverse: $0 == 1, bias: options.bias)
            })
        }
        self.layers = layers
        let bound = 1 / Float(options.hiddenSize).squareRoot()
        for p in parameters { p.fillUniform(bound: bound, using: &rng) }
    }

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

    public struct Output {
        /// [T·B, D·H] (or [B·T, D·H] with batchFirst).
        public var output: Matrix
        /// [L·D·B, H].
        public var hN: Matrix
        /// [L·D·B, H], LSTM only.
        public var cN: Matrix?
        public var cache: Cache
    }

    /// - Parameters:
    ///   - input: [T·B, I] time-major, or [B·T, I] with `batchFirst`.
    ///   - steps: T.
    ///   - lengths: per-sequence lengths (nil: all T).
    ///   - h0, c0: [L·D·B, H] (nil: zeros).
    ///   - dropoutRNG: when given and `dropout` > 0, dropout is applied (training).
    ///   - keepCache: false for inference: less memory, and `backward` cannot follow.
    public func forward(_ input: Matrix, steps: Int, lengths: [Int]? = nil, h0: Matrix? = nil, c0: Matrix? = nil,
                        dropoutRNG: UnsafeMutablePointer<SeededGenerator>? = nil, keepCache: Bool = true) -> Output {
        let o = options
        precondition(input.cols == o.inputSize, "expected \(o.inputSize) input features, got \(input.cols)")
        precondition(steps > 0 && input.rows % steps == 0, "\(input.rows) rows are not a multiple of \(steps) steps")
        let B = input.rows / steps, T = steps, H = o.hiddenSize, D = o.directions, L = o.numLayers
        let layout = SequenceLayout(steps: T, batch: B, lengths: lengths)
        let stateRows = L * D * B
        if let h0 { precondition(h0.shape == [stateRows, H], "h0 must be [\(L * D), \(B), \(H)]") }
        if let c0 { precondition(c0.shape == [stateRows, H] && o.cell == .lstm, "c0 must be [\(L * D), \(B), \(H)] (LSTM only)") }
        var hN = h0 ?? Matrix(rows: stateRows, cols: H)
        var cN: Matrix? = o.cell == .lstm ? (c0 ?? Matrix(rows: stateRows, cols: H)) : nil
        var cache = Cache(layout: layout)
        var x = o.batchFirst ? batchFirstToTimeMajor(input.data, steps: T, batch: B, width: o.inputSize) : input.data
        var y: [Float] = []
        for l in 0..<L {
            let width = D * H
            y = [Float](repeating: 0, count: T * B * width)
            let caches = (0..<D).map { _ in Slot<RecurrentDirection.Cache>() }
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    hN.data.withUnsafeMutableBufferPointer { ph in
                        withOptionalBuffer(&cN) { pc in
                            let xp = SendablePointer(px.baseAddress!)
                            let yp = SendablePointer(py.baseAddress!), hp = SendablePointer(ph.baseAddress!), cp = pc.map { SendablePointer($0) }
                            let run = { (d: Int) in
                                let state = (l * D + d) * B * H
                                caches[d].value = self.layers[l][d].forward(
                                    x: xp.pointer, layout: layout, h: hp.pointer + state,
                                    c: cp.map { $0.pointer + state }, y: yp.pointer + d * H, ldy: width,
                                    keepCache: keepCache)
                            }
                            self.eachDirection(D, run)
                        }
                    }
                }
            }
            if keepCache { cache.layerInputs.append(x) }
            cache.directions.append(caches.map { $0.value! })
            if l < L - 1, o.dropout > 0, let rng = dropoutRNG {
                let keep = 1 - o.dropout
                var mask = [Float](repeating: 0, count: y.count)
                for i in mask.indices where rng.pointee.nextUniform() < keep { mask[i] = 1 / keep }
                for i in y.indices { y[i] *= mask[i] }
                cache.dropoutMasks.append(mask)
            }
            x = y
        }
        let out = o.batchFirst ? timeMajorToBatchFirst(y, steps: T, batch: B, width: D * H) : y
        return Output(output: Matrix(rows: T * B, cols: D * H, data: out), hN: hN, cN: cN, cache: cache)
    }

    public struct Gradients {
        /// ∂loss/∂input, same layout as the input.
        public var input: Matrix
        /// ∂loss/∂h0, ∂loss/∂c0: [L·D·B, H].
        public var h0: Matrix
        public var c0: Matrix?
    }

    /// Backpropagation through the stack: the forward's layer loop reversed.
    /// Accumulates every parameter's gradient.
    ///
    /// - Parameters:
    ///   - dOutput: ∂loss/∂output, same layout as the output.
    ///   - dhN, dcN: ∂loss/∂h_n, ∂loss/∂c_n [L·D·B, H] (nil: zero).
    public func backward(_ dOutput: Matrix, dhN: Matrix? = nil, dcN: Matrix? = nil, cache: Cache) -> Gradients {
        let o = options, layout = cache.layout
        let T = layout.steps, B = layout.batch, H = o.hiddenSize, D = o.directions, L = o.numLayers
        precondition(dOutput.shape == [T * B, D * H], "dOutput must be [\(T * B), \(D * H)]")
        var dh = dhN ?? Matrix(rows: L * D * B, cols: H)
        var dc: Matrix? = o.cell == .lstm ? (dcN ?? Matrix(rows: L * D * B, cols: H)) : nil
        var dy = o.batchFirst ? batchFirstToTimeMajor(dOutput.data, steps: T, batch: B, width: D * H) : dOutput.data
        for l in stride(from: L - 1, through: 0, by: -1) {
            let width = D * H
            let inputWidth = l == 0 ? o.inputSize : width
            if l < L - 1, !cache.dropoutMasks.isEmpty {
                // (y = y_raw ⊙ mask) → dy_raw = dy ⊙ mask
                let mask = cache.dropoutMasks[l]
                for i in dy.indices { dy[i] *= mask[i] }
            }
            // Each direction's part of ∂x, summed after both have run.
            let partSize = T * B * inputWidth
            let dxParts = UnsafeMutablePointer<Float>.allocate(capacity: D * partSize)
            dxParts.initialize(repeating: 0, count: D * partSize)
            defer { dxParts.deallocate() }
            let x = cache.layerInputs[l]
            dy.withUnsafeBufferPointer { pdy in
                x.withUnsafeBufferPointer { px in
                    dh.data.withUnsafeMutableBufferPointer { pdh in
                        withOptionalBuffer(&dc) { pdc in
                            let dyp = SendablePointer(pdy.baseAddress!)
                            let xp = SendablePointer(px.baseAddress!)
                            let dhp = SendablePointer(pdh.baseAddress!), dcp = pdc.map { SendablePointer($0) }
                            let dxp = SendablePointer(dxParts)
                            let run = { (d: Int) in
                                let state = (l * D + d) * B * H
                                self.layers[l][d].backward(
                                    dy: dyp.pointer + d * H, ldy: width, x: xp.pointer, layout: layout,
                                    cache: cache.directions[l][d], dh: dhp.pointer + state,
                                    dc: dcp.map { $0.pointer + state }, dx: dxp.pointer + d * partSize)
                            }
                            self.eachDirection(D, run)
                        }
                    }
                }
            }
            dy = Array(UnsafeBufferPointer(start: dxParts, count: partSize))
            if D == 2 { for i in dy.indices { dy[i] += dxParts[partSize + i] } }
        }
        let dInput = o.batchFirst ? timeMajorToBatchFirst(dy, steps: T, batch: B, width: o.inputSize) : dy
        return Gradients(input: Matrix(rows: T * B, cols: o.inputSize, data: dInput), h0: dh, c0: dc)
    }

    private func eachDirection(_ count: Int, _ body: (Int) -> Void) {
        if count == 2 && parallelDirections {
            let saved = BLASThreads.count
            BLASThreads.set(1)
            DispatchQueue.concurrentPerform(iterations: 2, execute: body)
            BLASThreads.set(saved)
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

/// [B·T, W] (row b·T + t) → [T·B, W] (row t·B + b).
public func batchFirstToTimeMajor(_ x: [Float], steps T: Int, batch B: Int, width W: Int) -> [Float] {
    // The same block transpose as below, with the roles of T and B swapped.
    timeMajorToBatchFirst(x, steps: B, batch: T, width: W)
}

/// [T·B, W] (row t·B + b) → [B·T, W] (row b·T + t).
public func timeMajorToBatchFirst(_ x: [Float], steps T: Int, batch B: Int, width W: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for t in 0..<T { for b in 0..<B {
        let src = (t * B + b) * W, dst = (b * T + t) * W
        for j in 0..<W { out[dst + j] = x[src + j] }
    } }
    return out
}

/// Which (time, batch) positions of a padded batch are real frames: sequence
/// b has `lengths[b]` frames, and position (t, b) is active when t < lengths[b]
/// (a reverse recurrent direction starts at each sequence's own last frame, as
/// with PyTorch's packed sequences).
public struct SequenceLayout: Equatable, Sendable {
    /// T, the padded length.
    public let steps: Int
    /// B.
    public let batch: Int
    /// Tᵦ ≤ T for each b.
    public let lengths: [Int]

    /// `lengths` nil: every sequence is `steps` long.
    public init(steps: Int, batch: Int, lengths: [Int]? = nil) {
        let lengths = lengths ?? [Int](repeating: steps, count: batch)
        precondition(steps >= 0 && batch >= 0, "layout [\(steps) steps, \(batch) sequences] is negative")
        precondition(lengths.count == batch, "\(lengths.count) lengths for a batch of \(batch)")
        precondition(lengths.allSatisfy { $0 >= 0 && $0 <= steps }, "lengths \(lengths) must lie in 0…\(steps)")
        self.steps = steps
        self.batch = batch
        self.lengths = lengths
    }

    /// Whether step t of sequence b is a real frame (t < lengths[b]), not padding.
    @inline(__always)
    public func isActive(_ t: Int, _ b: Int) -> Bool { t < lengths[b] }

    /// Whether every sequence is T frames long.
    public var isFull: Bool { lengths.allSatisfy { $0 == steps } }

    /// The row of step t of sequence b in a time-major matrix.
    @inline(__always)
    public func row(_ t: Int, _ b: Int) -> Int { t * batch + b }
}

/// A time-major batch of B sequences of W-wide vectors, padded to T steps:
/// Hark's one type for sequences in the network, the CTC loss and the
/// decoders.
///
/// - Shapes: `data` [T·B, W]; row t·B + b holds step t of sequence b
///   (PyTorch's [T, B, W] with `batch_first=False`). Rows t ≥ lengths[b] are
///   padding: zero when Hark makes them, ignored when Hark reads them.
///
/// A sequence may continue in the next batch: the recurrent layers take an
/// initial state and return the final one (`RecurrentState` in HarkNN), so a
/// stream can be fed chunk after chunk as batches of T steps.
public struct SequenceBatch: Equatable, Sendable {
    /// [T·B, W].
    public var data: Matrix
    /// The padded length, the sequences and their lengths.
    public let layout: SequenceLayout

    /// A batch of `data` [T·B, W] time-major with the given layout.
    public init(data: Matrix, layout: SequenceLayout) {
        precondition(
            data.rows == layout.steps * layout.batch,
            "a batch of \(layout.batch) sequences × \(layout.steps) steps needs \(layout.steps * layout.batch) rows, not \(data.rows)")
        self.data = data
        self.layout = layout
    }

    /// B = lengths.count sequences of at most `steps` frames.
    public init(data: Matrix, steps: Int, lengths: [Int]) {
        self.init(data: data, layout: SequenceLayout(steps: steps, batch: lengths.count, lengths: lengths))
    }

    /// One sequence [T, W] as a batch of one.
    public init(single sequence: Matrix) {
        self.init(data: sequence, steps: sequence.rows, lengths: [sequence.rows])
    }

    /// Sequences [Tᵦ, W] padded with zeros to T = max Tᵦ (at least 1).
    ///
    /// - Shapes: B matrices [Tᵦ, W] → data [T·B, W].
    public init(padding sequences: [Matrix]) {
        let B = sequences.count, T = max(1, sequences.map(\.rows).max() ?? 1), W = sequences.first?.cols ?? 0
        precondition(sequences.allSatisfy { $0.cols == W }, "sequences of different widths")
        var m = Matrix(rows: T * B, cols: W)
        m.data.withUnsafeMutableBufferPointer { out in
            for (b, x) in sequences.enumerated() {
                x.data.withUnsafeBufferPointer { src in
                    for t in 0..<x.rows {
                        (out.baseAddress! + (t * B + b) * W).update(from: src.baseAddress! + t * W, count: W)
                    }
                }
            }
        }
        self.init(data: m, steps: T, lengths: sequences.map(\.rows))
    }

    /// From a batch-first matrix [B·T, W] (row b·T + t), the layout of the
    /// tutorial models and of PyTorch's `batch_first=True`.
    public init(batchFirst x: Matrix, steps: Int, lengths: [Int]? = nil) {
        precondition(steps > 0 && x.rows % steps == 0, "\(x.rows) rows are not a multiple of \(steps) steps")
        let B = x.rows / steps
        let data = transposeBlocks(x.data, outer: B, inner: steps, width: x.cols)
        self.init(data: Matrix(rows: x.rows, cols: x.cols, data: data), layout: SequenceLayout(steps: steps, batch: B, lengths: lengths))
    }

    /// T, the padded length.
    public var steps: Int { layout.steps }
    /// B, the number of sequences.
    public var batch: Int { layout.batch }
    /// Tᵦ ≤ T, each sequence's length.
    public var lengths: [Int] { layout.lengths }
    /// W.
    public var width: Int { data.cols }

    /// Sequence b without padding.
    ///
    /// - Shapes: → [Tᵦ, W].
    public func sequence(_ b: Int) -> Matrix {
        let T = lengths[b], W = width, B = batch
        var m = Matrix(rows: T, cols: W)
        data.data.withUnsafeBufferPointer { src in
            m.data.withUnsafeMutableBufferPointer { out in
                for t in 0..<T {
                    (out.baseAddress! + t * W).update(from: src.baseAddress! + (t * B + b) * W, count: W)
                }
            }
        }
        return m
    }

    /// The same data batch-first: [B·T, W], row b·T + t.
    public func batchFirstData() -> Matrix {
        Matrix(rows: data.rows, cols: width, data: transposeBlocks(data.data, outer: steps, inner: batch, width: width))
    }

    /// The same layout with other data (for example a layer's output).
    ///
    /// - Shapes: data [T·B, W′].
    public func with(data: Matrix) -> SequenceBatch { SequenceBatch(data: data, layout: layout) }
}

/// [outer·inner, W] (row o·inner + i) → [inner·outer, W] (row i·outer + o):
/// time-major ↔ batch-first.
func transposeBlocks(_ x: [Float], outer: Int, inner: Int, width W: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for o in 0..<outer {
                for i in 0..<inner {
                    (dst.baseAddress! + (i * outer + o) * W).update(from: src.baseAddress! + (o * inner + i) * W, count: W)
                }
            }
        }
    }
    return out
}

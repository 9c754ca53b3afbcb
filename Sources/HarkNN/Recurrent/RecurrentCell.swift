/// The recurrent cell of a layer, with PyTorch's gate order.
///
/// Gate order (rows of `weight_ih_l{k}` / `weight_hh_l{k}`, blocks of H):
/// - LSTM: i, f, g, o (input, forget, cell, output)
/// - GRU: r, z, n (reset, update, new)
/// - Elman RNN: one block.
public enum RecurrentCell: String, Codable, CaseIterable, Sendable {
    case rnnTanh = "rnn_tanh"
    case rnnRelu = "rnn_relu"
    case lstm
    case gru

    /// G, the number of H-sized gate blocks.
    public var gateCount: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnnTanh, .rnnRelu: return 1
        }
    }

    /// Whether the cell carries a cell state c besides h.
    public var hasCellState: Bool { self == .lstm }
}

/// Which (time, batch) positions are real frames: sequence b has
/// `lengths[b]` frames, and position (t, b) is active when t < lengths[b],
/// in both directions (the reverse direction starts at each sequence's own
/// last frame, as with PyTorch's packed sequences).
public struct SequenceLayout: Equatable, Sendable {
    /// T, the padded length.
    public let steps: Int
    /// B.
    public let batch: Int
    public let lengths: [Int]

    public init(steps: Int, batch: Int, lengths: [Int]? = nil) {
        let lengths = lengths ?? [Int](repeating: steps, count: batch)
        precondition(lengths.count == batch, "\(lengths.count) lengths for a batch of \(batch)")
        precondition(lengths.allSatisfy { $0 >= 0 && $0 <= steps }, "lengths \(lengths) must lie in 0…\(steps)")
        self.steps = steps
        self.batch = batch
        self.lengths = lengths
    }

    @inline(__always)
    func isActive(_ t: Int, _ b: Int) -> Bool { t < lengths[b] }

    /// Whether every sequence is T frames long.
    var isFull: Bool { lengths.allSatisfy { $0 == steps } }
}

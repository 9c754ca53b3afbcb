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

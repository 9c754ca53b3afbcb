import Foundation
import HarkCore

/// Mean cross-entropy of logits against class indices, PyTorch's
/// `F.cross_entropy(logits, targets)`: loss = −(1/N) Σₙ log softmax(zₙ)[yₙ].
///
/// - Shapes: logits [N, C], targets N values in 0..<C → the loss and
///   ∂loss/∂logits [N, C] = (softmax(z) − onehot(y)) / N.
public func crossEntropy(_ logits: Matrix, targets: [Int]) -> (loss: Float, gradient: Matrix) {
    let n = logits.rows, c = logits.cols
    precondition(targets.count == n && targets.allSatisfy { (0..<c).contains($0) }, "targets must be \(n) classes in 0..<\(c)")
    let lp = logSoftmax(logits)
    var grad = Matrix(rows: n, cols: c)
    var total = 0.0
    for r in 0..<n {
        total -= Double(lp.data[r * c + targets[r]])
        for j in 0..<c { grad.data[r * c + j] = expf(lp.data[r * c + j]) / Float(n) }
        grad.data[r * c + targets[r]] -= 1 / Float(n)
    }
    return (Float(total / Double(n)), grad)
}

/// The rows of each sequence's last step, as the tutorial models'
/// `out[:, -1, :]` (with lengths: step Tᵦ − 1 of sequence b).
///
/// - Shapes: output [T·B, W] → [B, W].
public func lastStep(_ output: SequenceBatch) -> Matrix {
    let B = output.batch, W = output.width
    var out = Matrix(rows: B, cols: W)
    for b in 0..<B where output.lengths[b] > 0 {
        let src = output.layout.row(output.lengths[b] - 1, b)
        for j in 0..<W { out.data[b * W + j] = output.data.data[src * W + j] }
    }
    return out
}

/// Backward of `lastStep`: the gradient scattered into the last steps' rows, zeros elsewhere.
///
/// - Shapes: d [B, W] → [T·B, W].
public func lastStepBackward(_ d: Matrix, layout: SequenceLayout) -> Matrix {
    let B = d.rows, W = d.cols
    var out = Matrix(rows: layout.steps * B, cols: W)
    for b in 0..<B where layout.lengths[b] > 0 {
        let dst = layout.row(layout.lengths[b] - 1, b)
        for j in 0..<W { out.data[dst * W + j] = d.data[b * W + j] }
    }
    return out
}

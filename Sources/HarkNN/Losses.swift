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

/// The rows of the last time step of each sequence, as the tutorial models'
/// `out[:, -1, :]`.
///
/// - Shapes: output [B·T, W] batch-first (or [T·B, W] time-major) → [B, W].
public func lastStep(_ output: Matrix, steps T: Int, batchFirst: Bool) -> Matrix {
    let B = output.rows / T, W = output.cols
    var out = Matrix(rows: B, cols: W)
    for b in 0..<B {
        let src = batchFirst ? b * T + T - 1 : (T - 1) * B + b
        for j in 0..<W { out.data[b * W + j] = output.data[src * W + j] }
    }
    return out
}

/// Backward of `lastStep`: the gradient scattered into the last step's rows, zeros elsewhere.
public func lastStepBackward(_ d: Matrix, steps T: Int, batchFirst: Bool) -> Matrix {
    let B = d.rows, W = d.cols
    var out = Matrix(rows: B * T, cols: W)
    for b in 0..<B {
        let dst = batchFirst ? b * T + T - 1 : (T - 1) * B + b
        for j in 0..<W { out.data[dst * W + j] = d.data[b * W + j] }
    }
    return out
}

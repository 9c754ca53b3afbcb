import HarkCore

/// Frame stacking: frames t·k … t·k+k−1 concatenated, oldest first, into
/// frame t; a trailing partial group is dropped. k = 1 returns the input.
///
/// - Shapes: [T, F] → [⌊T/k⌋, k·F].
public func stackFrames(_ x: Matrix, by k: Int) -> Matrix {
    precondition(k >= 1, "stack factor \(k)")
    if k == 1 { return x }
    let rows = x.rows / k
    // Row-major: k consecutive rows of F are exactly one row of k·F.
    return Matrix(rows: rows, cols: x.cols * k, data: Array(x.data[0..<(rows * k * x.cols)]))
}

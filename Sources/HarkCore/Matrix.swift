/// A dense row-major matrix of Float32.
///
/// Element (r, c) is stored at `data[r * cols + c]`. This is the one layout
/// Hark uses for every matrix: feature matrices are [T, F] (T frames, F
/// features per frame), weight matrices are [out, in] as in PyTorch.
public struct Matrix: Equatable, Sendable {
    /// The number of rows.
    public private(set) var rows: Int
    /// The number of columns.
    public private(set) var cols: Int
    /// Row-major storage, `rows * cols` elements.
    public var data: [Float]

    /// A zero-filled matrix.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "matrix shape [\(rows), \(cols)] is negative")
        self.rows = rows
        self.cols = cols
        self.data = [Float](repeating: 0, count: rows * cols)
    }

    /// Wraps existing row-major data; `data.count` must be `rows * cols`.
    public init(rows: Int, cols: Int, data: [Float]) {
        precondition(
            rows >= 0 && cols >= 0 && data.count == rows * cols,
            "matrix shape [\(rows), \(cols)] does not match \(data.count) elements")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// A matrix from a list of equally long rows.
    public init(_ rowList: [[Float]]) {
        let cols = rowList.first?.count ?? 0
        precondition(rowList.allSatisfy { $0.count == cols }, "rows have different lengths")
        self.init(rows: rowList.count, cols: cols, data: rowList.flatMap { $0 })
    }

    /// The element at row `r`, column `c`: `data[r * cols + c]`.
    @inlinable
    public subscript(r: Int, c: Int) -> Float {
        get { data[r * cols + c] }
        set { data[r * cols + c] = newValue }
    }

    /// Row `r` as an array (a copy).
    public func row(_ r: Int) -> [Float] {
        Array(data[(r * cols)..<((r + 1) * cols)])
    }

    /// The shape as `[rows, cols]`.
    public var shape: [Int] { [rows, cols] }
}

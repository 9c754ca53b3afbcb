import Foundation
import HarkCore

/// A `.npy` file written row block by row block, so that memory does not
/// grow with the matrix: a header with the row count left open, the rows,
/// then the header again with the count, and the file renamed into place at
/// the end. The bytes equal `NPY.encode` of the whole matrix.
public final class NPYRowWriter {
    /// Where the file is put by `finish`.
    public let url: URL
    let partial: URL
    /// Columns of every row.
    public let cols: Int
    /// Rows appended so far.
    public private(set) var rows = 0
    private let handle: FileHandle

    /// Starts writing a [rows, cols] float32 matrix to a hidden partial file beside `url`, creating the folder if needed.
    public init(_ url: URL, cols: Int) throws {
        self.url = url
        self.cols = cols
        partial = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial")
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
            let h = FileHandle(forWritingAtPath: partial.path)
        else {
            throw IOError(url.path, "cannot write")
        }
        handle = h
        try write(NPY.header(rows: 0, cols: cols))
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        do { try handle.write(contentsOf: Data(bytes)) } catch { throw IOError(url.path, "cannot write: \(error.localizedDescription)") }
    }

    private func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// - Shapes: block [t, cols].
    public func append(_ block: Matrix) throws {
        precondition(block.cols == cols || block.rows == 0, "a [\(block.rows), \(block.cols)] block in a file of \(cols) columns")
        try block.data.withUnsafeBytes { try write($0) }
        rows += block.rows
    }

    /// Writes the row count and puts the file in place.
    public func finish() throws {
        let header = NPY.header(rows: rows, cols: cols)
        guard header.count == NPY.header(rows: 0, cols: cols).count else {
            discard()
            throw IOError(url.path, "a [\(rows), \(cols)] array does not fit the .npy header")
        }
        do {
            try handle.seek(toOffset: 0)
            try write(header)
            try handle.close()
            _ = try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: partial, to: url)
        } catch let error as IOError {
            discard()
            throw error
        } catch {
            discard()
            throw IOError(url.path, "cannot write: \(error.localizedDescription)")
        }
    }

    /// Removes what was written (the input failed).
    public func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: partial)
    }
}

/// The rows of a float32 matrix [rows, cols] kept in a file while they are
/// computed, for a writer that must know the row count before the first row
/// (a Kaldi archive entry) or writes its entries in another order than the
/// one they are computed in. Memory stays one block, whatever the matrix.
/// The file is removed when the spool is released.
public final class RowSpool {
    /// Columns of every row.
    public let cols: Int
    /// Rows held so far.
    public private(set) var rows = 0
    let url: URL
    private let fd: Int32

    /// A spool in `directory` (a hidden file, removed again with the spool).
    public init(directory: URL, cols: Int) throws {
        self.cols = cols
        url = directory.appendingPathComponent(".rows-\(UUID().uuidString).spool")
        fd = open(url.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError(url.path, "cannot create: \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(url.path)
    }

    /// - Shapes: block [t, cols].
    public func append(_ block: Matrix) throws {
        precondition(block.cols == cols || block.rows == 0, "a [\(block.rows), \(block.cols)] block in a spool of \(cols) columns")
        do {
            try block.data.withUnsafeBytes { try FileWriting.writeAll(Array($0), to: fd, destination: url.path) }
        } catch {
            throw IOError(url.path, "cannot write: \((error as? WriteError)?.reason ?? "\(error)")")
        }
        rows += block.rows
    }

    /// The rows' bytes (little-endian float32, row-major), from the first,
    /// 1 MiB at a time.
    public func forEachChunk(_ body: ([UInt8]) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        let total = off_t(rows * cols * 4)
        while offset < total {
            let want = Int(min(off_t(chunk.count), total - offset))
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, offset) }
            guard n > 0 else {
                throw IOError(url.path, "cannot read back: \(n < 0 ? String(cString: strerror(errno)) : "it is shorter than written")")
            }
            try body(Array(chunk[0..<n]))
            offset += off_t(n)
        }
    }
}

import Foundation
import HarkCore

/// NumPy's `.npy` format (version 1.0) for float32 matrices.
///
/// Layout: the magic `\x93NUMPY`, version 1.0, a little-endian UInt16 header
/// length, an ASCII dict `{'descr': '<f4', 'fortran_order': False, 'shape': (T, F), }`
/// padded with spaces and a newline to a multiple of 64 bytes, then T·F
/// little-endian float32 values in row-major order.
public enum NPY {
    /// The file's bytes for a [rows, cols] float32 array.
    public static func encode(_ m: Matrix) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(m.rows), \(m.cols)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        m.data.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return data
    }

    /// Writes atomically (a temporary file renamed into place).
    public static func write(_ m: Matrix, to url: URL) throws {
        do {
            try encode(m).write(to: url, options: .atomic)
        } catch {
            throw IOError(url.path, "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a little-endian float32 array of one or two dimensions (one
    /// dimension becomes a single row).
    public static func read(_ url: URL) throws -> Matrix {
        guard let data = try? Data(contentsOf: url) else { throw IOError(url.path, "cannot read") }
        return try decode(data, name: url.path)
    }

    public static func decode(_ data: Data, name: String) throws -> Matrix {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw IOError(name, "not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw IOError(name, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else { throw IOError(name, "truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else {
            throw IOError(name, "only little-endian float32 arrays are supported (header: \(header.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        guard header.contains("'fortran_order': False") else { throw IOError(name, "Fortran-order arrays are not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw IOError(name, "no shape in .npy header")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let (rows, cols): (Int, Int)
        switch dims.count {
        case 1: (rows, cols) = (1, dims[0])
        case 2: (rows, cols) = (dims[0], dims[1])
        default: throw IOError(name, "expected a 1- or 2-dimensional array, found shape \(dims)")
        }
        let start = headerStart + headerLength
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, bytes.count - start == count * 4 else {
            throw IOError(name, "shape \(dims) needs \(count * 4) bytes of data but the file has \(bytes.count - start)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start...])) }
        }
        return Matrix(rows: rows, cols: cols, data: values)
    }
}

import Foundation
import HarkCore

/// NumPy's `.npy` format (version 1.0) for float32 matrices.
///
/// Layout: the magic `\x93NUMPY`, version 1.0, a little-endian UInt16 header
/// length, an ASCII dict `{'descr': '<f4', 'fortran_order': False, 'shape': (T, F), }`
/// padded with spaces and a newline to a multiple of 64 bytes, then T·F
/// little-endian float32 values in row-major order.
public enum NPY {
    /// The header of a float32 [rows, cols] array: magic, version 1.0,
    /// length, and the dict padded to a multiple of 64 bytes. 128 bytes for
    /// any shape up to 60 digits in all, so that a writer can leave the row
    /// count open and fill it in at the end (`NPYRowWriter`).
    public static func header(rows: Int, cols: Int) -> [UInt8] {
        var text = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        let unpadded = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = UInt16(text.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(text.utf8)
    }

    /// The file's bytes for a [rows, cols] float32 array.
    public static func encode(_ m: Matrix) -> Data {
        var data = Data(header(rows: m.rows, cols: m.cols))
        m.data.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Writes atomically (a temporary file renamed into place).
    public static func write(_ m: Matrix, to url: URL) throws {
        do {
            try FileWriting.writeAtomically([UInt8](encode(m)), to: url)
        } catch {
            throw IOError(url.path, "cannot write: \((error as? WriteError)?.reason ?? "\(error)")")
        }
    }

    /// Reads a little-endian float32 array of one or two dimensions (one
    /// dimension becomes a single row).
    public static func read(_ url: URL) throws -> Matrix {
        guard let data = try? Data(contentsOf: url) else { throw IOError(url.path, "cannot read") }
        return try decode(data, name: url.path)
    }

    /// Decodes a version 1, 2 or 3 file. The header is parsed as the
    /// Python dict literal it is (`descr`, `fortran_order`, `shape`, in any
    /// order); the data must be exactly what the shape needs.
    public static func decode(_ data: Data, name: String) throws -> Matrix {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw IOError(name, "not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw IOError(name, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw IOError(name, ".npy format version \(major).\(bytes[7]) is not supported (1, 2 and 3 are)")
        }
        guard headerLength <= bytes.count - headerStart else { throw IOError(name, "truncated .npy header") }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        guard let header = String(bytes: headerBytes, encoding: .utf8) else { throw IOError(name, "the .npy header is not text") }
        let fields: [String: HeaderValue]
        do { fields = try parseHeader(header) } catch let problem as HeaderProblem {
            throw IOError(name, "malformed .npy header (\(problem.message)): \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case .string(let descr)? = fields["descr"], descr == "<f4" else {
            throw IOError(
                name,
                "only little-endian float32 arrays ('<f4') are supported (header: \(header.trimmingCharacters(in: .whitespacesAndNewlines)))"
            )
        }
        guard case .bool(let fortran)? = fields["fortran_order"] else { throw IOError(name, "no fortran_order in .npy header") }
        guard !fortran else { throw IOError(name, "Fortran-order arrays are not supported") }
        guard case .tuple(let dims)? = fields["shape"] else { throw IOError(name, "no shape in .npy header") }
        let (rows, cols): (Int, Int)
        switch dims.count {
        case 1: (rows, cols) = (1, dims[0])
        case 2: (rows, cols) = (dims[0], dims[1])
        default: throw IOError(name, "expected a 1- or 2-dimensional array, found shape \(dims)")
        }
        let start = headerStart + headerLength
        let available = bytes.count - start
        let (count, o1) = rows.multipliedReportingOverflow(by: cols)
        let (needed, o2) = count.multipliedReportingOverflow(by: 4)
        guard !o1, !o2, needed == available else {
            throw IOError(
                name, "shape \(dims) needs \(o1 || o2 ? "more than \(Int.max)" : "\(needed)") bytes of data but the file has \(available)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start...])) }
        }
        return Matrix(rows: rows, cols: cols, data: values)
    }

    enum HeaderValue: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    struct HeaderProblem: Error {
        var message: String
    }

    /// Parses numpy's header, a Python dict literal of strings, booleans and
    /// tuples of non-negative integers: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
    static func parseHeader(_ text: String) throws -> [String: HeaderValue] {
        let s = Array(text.unicodeScalars)
        var i = 0
        func skipSpace() { while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\t" || s[i] == "\r" { i += 1 } }
        func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard i < s.count, s[i] == c else { throw HeaderProblem(message: "expected '\(c)' at character \(i)") }
            i += 1
        }
        func string() throws -> String {
            skipSpace()
            guard i < s.count, s[i] == "'" || s[i] == "\"" else {
                throw HeaderProblem(message: "expected a quoted string at character \(i)")
            }
            let quote = s[i]
            i += 1
            var out = String.UnicodeScalarView()
            while i < s.count, s[i] != quote {
                out.append(s[i])
                i += 1
            }
            guard i < s.count else { throw HeaderProblem(message: "unterminated string") }
            i += 1
            return String(out)
        }
        func integer() throws -> Int {
            skipSpace()
            var value = 0
            let first = i
            while i < s.count, let d = Int(String(s[i])), s[i].isASCII {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { throw HeaderProblem(message: "dimension too large") }
                value = a
                i += 1
            }
            guard i > first else { throw HeaderProblem(message: "expected a non-negative integer at character \(first)") }
            return value
        }
        func value() throws -> HeaderValue {
            skipSpace()
            guard i < s.count else { throw HeaderProblem(message: "unexpected end") }
            switch s[i] {
            case "'", "\"": return .string(try string())
            case "(":
                i += 1
                var dims: [Int] = []
                skipSpace()
                while i < s.count, s[i] != ")" {
                    dims.append(try integer())
                    skipSpace()
                    if i < s.count, s[i] == "," { i += 1; skipSpace() } else { break }
                }
                try expect(")")
                return .tuple(dims)
            default:
                for (word, b) in [("True", true), ("False", false)] {
                    let w = Array(word.unicodeScalars)
                    if s.count - i >= w.count && Array(s[i..<(i + w.count)]) == w {
                        i += w.count
                        return .bool(b)
                    }
                }
                throw HeaderProblem(message: "unexpected '\(s[i])' at character \(i)")
            }
        }
        var fields: [String: HeaderValue] = [:]
        try expect("{")
        skipSpace()
        while i < s.count, s[i] != "}" {
            let key = try string()
            try expect(":")
            guard fields.updateValue(try value(), forKey: key) == nil else { throw HeaderProblem(message: "'\(key)' given twice") }
            skipSpace()
            if i < s.count, s[i] == "," { i += 1; skipSpace() } else { break }
        }
        try expect("}")
        skipSpace()
        guard i == s.count else { throw HeaderProblem(message: "text after the closing '}'") }
        return fields
    }
}

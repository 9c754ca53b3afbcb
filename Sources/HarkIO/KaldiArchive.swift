import Foundation
import HarkCore

/// Kaldi binary archives of float matrices (`.ark`) with their script file
/// (`.scp`), as written by `copy-feats ark:- ark,scp:feats.ark,feats.scp`.
///
/// Each entry is `key`, a space, then the binary object: `\0B`, the token
/// `FM `, `\4` + int32 rows, `\4` + int32 cols, and rows·cols little-endian
/// float32 values, row-major. A script line is `key path:offset`, where
/// offset is the byte position of that entry's `\0B`.
public final class KaldiArchiveWriter {
    private let handle: FileHandle
    private var scpLines: [String] = []
    private var offset: UInt64 = 0
    public let arkURL: URL
    public let scpURL: URL

    public init(ark: URL, scp: URL) throws {
        arkURL = ark
        scpURL = scp
        guard FileManager.default.createFile(atPath: ark.path, contents: nil),
              let h = FileHandle(forWritingAtPath: ark.path) else {
            throw IOError(ark.path, "cannot create the archive")
        }
        handle = h
    }

    /// Appends one matrix; `key` must not contain white space.
    public func append(key: String, _ m: Matrix) {
        precondition(!key.isEmpty && !key.contains(where: { $0.isWhitespace }), "Kaldi key \"\(key)\" is empty or has white space")
        var entry = Data((key + " ").utf8)
        let objectOffset = offset + UInt64(entry.count)
        entry.append(contentsOf: [0, 0x42] + Array("FM ".utf8))
        entry.append(4); entry.append(contentsOf: le(Int32(m.rows)))
        entry.append(4); entry.append(contentsOf: le(Int32(m.cols)))
        m.data.withUnsafeBytes { entry.append(contentsOf: $0) }
        handle.write(entry)
        offset += UInt64(entry.count)
        scpLines.append("\(key) \(arkURL.path):\(objectOffset)")
    }

    /// Closes the archive and writes the script file.
    public func finish() throws {
        handle.closeFile()
        let text = scpLines.map { $0 + "\n" }.joined()
        do {
            try text.write(to: scpURL, atomically: true, encoding: .utf8)
        } catch {
            throw IOError(scpURL.path, "cannot write: \(error.localizedDescription)")
        }
    }

    private func le(_ v: Int32) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}

/// Reads a Kaldi binary archive of float matrices (for tests and tools).
public enum KaldiArchiveReader {
    public static func read(_ url: URL) throws -> [(key: String, matrix: Matrix)] {
        guard let data = try? Data(contentsOf: url) else { throw IOError(url.path, "cannot read") }
        let b = [UInt8](data)
        var i = 0
        var entries: [(String, Matrix)] = []
        func int32(at p: Int) -> Int {
            Int(Int32(bitPattern: UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24))
        }
        while i < b.count {
            guard let space = b[i...].firstIndex(of: 0x20) else { throw IOError(url.path, "entry at byte \(i) has no key") }
            let key = String(decoding: b[i..<space], as: UTF8.self)
            var p = space + 1
            guard p + 15 <= b.count, b[p] == 0, b[p + 1] == 0x42, Array(b[(p + 2)..<(p + 5)]) == Array("FM ".utf8),
                  b[p + 5] == 4, b[p + 10] == 4 else {
                throw IOError(url.path, "entry \"\(key)\" is not a binary float matrix")
            }
            let rows = int32(at: p + 6), cols = int32(at: p + 11)
            p += 15
            let bytes = rows * cols * 4
            guard rows >= 0, cols >= 0, p + bytes <= b.count else { throw IOError(url.path, "entry \"\(key)\" is truncated") }
            var values = [Float](repeating: 0, count: rows * cols)
            values.withUnsafeMutableBytes { dst in
                b.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[p..<(p + bytes)])) }
            }
            entries.append((key, Matrix(rows: rows, cols: cols, data: values)))
            i = p + bytes
        }
        return entries
    }
}

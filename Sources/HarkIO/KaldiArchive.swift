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
    private var keys: Set<String> = []
    private var offset: UInt64 = 0
    /// Every entry written: its key, and where its bytes ("key " and the matrix) start and how many there are.
    public private(set) var entries: [(key: String, start: UInt64, length: UInt64)] = []
    /// The archive (`.ark`) being written.
    public let arkURL: URL
    /// The script file (`.scp`) that indexes it.
    public let scpURL: URL

    /// Creates (or empties) the archive at `ark`; the script goes to `scp`.
    public init(ark: URL, scp: URL) throws {
        arkURL = ark
        scpURL = scp
        // open(2), not FileManager.createFile, which would replace whatever is at the path.
        let fd = open(ark.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IOError(ark.path, "cannot create the archive: \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Appends one matrix; `key` must not be empty, contain white space or
    /// repeat an earlier key (`AudioInput.archiveKey` is all three). A failed
    /// write (a full disk) throws; the archive is then unusable.
    public func append(key: String, _ m: Matrix) throws {
        try append(key: key, rows: m.rows, cols: m.cols) { write in
            try m.data.withUnsafeBytes { try write(Array($0)) }
        }
    }

    /// Appends the matrix held in `spool`, copied 1 MiB at a time: memory
    /// does not grow with the matrix. The bytes equal `append(key:_:)`'s.
    public func append(key: String, _ spool: RowSpool) throws {
        try append(key: key, rows: spool.rows, cols: spool.cols) { write in try spool.forEachChunk(write) }
    }

    /// One entry: "key ", the header, then the values `body` writes.
    private func append(key: String, rows: Int, cols: Int, body: (([UInt8]) throws -> Void) throws -> Void) throws {
        precondition(!key.isEmpty && !key.contains(where: { $0.isWhitespace }), "Kaldi key \"\(key)\" is empty or has white space")
        precondition(keys.insert(key).inserted, "Kaldi key \"\(key)\" is already in the archive")
        var head = Array((key + " ").utf8)
        let objectOffset = offset + UInt64(head.count)
        head += [0, 0x42] + Array("FM ".utf8)
        head.append(4); head += le(Int32(rows))
        head.append(4); head += le(Int32(cols))
        var written = UInt64(0)
        do {
            let write = { (bytes: [UInt8]) throws in
                try FileWriting.writeAll(bytes, to: self.handle.fileDescriptor, destination: self.arkURL.path)
                written += UInt64(bytes.count)
            }
            try write(head)
            try body(write)
        } catch {
            // No partial entry is left: the archive ends after the last whole one.
            _ = ftruncate(handle.fileDescriptor, off_t(offset))
            _ = lseek(handle.fileDescriptor, off_t(offset), SEEK_SET)
            keys.remove(key)
            throw error
        }
        entries.append((key, offset, written))
        offset += written
        scpLines.append("\(key) \(arkURL.path):\(objectOffset)")
    }

    /// Closes the archive and writes the script file.
    public func finish() throws {
        handle.closeFile()
        let text = scpLines.map { $0 + "\n" }.joined()
        do {
            try FileWriting.writeAtomically(Array(text.utf8), to: scpURL)
        } catch {
            throw IOError(scpURL.path, "cannot write: \(error)")
        }
    }

    /// The end of a job whose ranks each wrote a part of one archive (this
    /// writer, finished): `order` gives each of this part's entries its place
    /// among the job's inputs; rank 0 joins every rank's entries in that
    /// order into `ark` and `scp` (`concatenate`), then every rank removes
    /// its part. All ranks call it; a failure to join is thrown on rank 0
    /// after the others were let go.
    public func joinRankParts(order: [Int], collective: Collective, into ark: URL, scp: URL) throws {
        precondition(order.count == entries.count, "one place per entry")
        let mine = zip(order, entries).map { "\($0)\t\($1.start)\t\($1.length)\t\($1.key)\t\(arkURL.path)" }
        let all = collective.allgatherLarge(Array(mine.joined(separator: "\n").utf8))
        var failure: Error?
        if collective.isRoot {
            var pieces: [(index: Int, source: URL, key: String, start: UInt64, length: UInt64)] = []
            for text in all {
                for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                    let f = line.split(separator: "\t", maxSplits: 4).map(String.init)
                    guard f.count == 5, let i = Int(f[0]), let start = UInt64(f[1]), let length = UInt64(f[2]) else { continue }
                    pieces.append((i, URL(fileURLWithPath: f[4]), f[3], start, length))
                }
            }
            do {
                try Self.concatenate(
                    pieces.sorted { $0.index < $1.index }.map { ($0.source, $0.key, $0.start, $0.length) }, ark: ark, scp: scp)
            } catch {
                failure = error
            }
        }
        collective.barrier()
        try? FileManager.default.removeItem(at: arkURL)
        try? FileManager.default.removeItem(at: scpURL)
        if let failure { throw failure }
    }

    /// Writes the archive `ark` (and its script file `scp`) made of entries
    /// copied, in the order given, from other archives: the bytes of one
    /// written entry by entry as `KaldiArchiveWriter` writes them
    /// (the ranks of an MPI job each write a part; rank 0 joins them).
    public static func concatenate(_ pieces: [(source: URL, key: String, start: UInt64, length: UInt64)], ark: URL, scp: URL) throws {
        let writer = try KaldiArchiveWriter(ark: ark, scp: scp)
        var handles: [URL: FileHandle] = [:]
        defer { for h in handles.values { try? h.close() } }
        for p in pieces {
            let h: FileHandle
            if let open = handles[p.source] {
                h = open
            } else {
                guard let opened = FileHandle(forReadingAtPath: p.source.path) else { throw IOError(p.source.path, "cannot read") }
                handles[p.source] = opened
                h = opened
            }
            try h.seek(toOffset: p.start)
            var remaining = p.length
            while remaining > 0 {
                let chunk = try h.read(upToCount: Int(min(remaining, 1 << 20))) ?? Data()
                guard !chunk.isEmpty else { throw IOError(p.source.path, "ends inside the entry of \(p.key)") }
                try FileWriting.writeAll(Array(chunk), to: writer.handle.fileDescriptor, destination: ark.path)
                remaining -= UInt64(chunk.count)
            }
            writer.scpLines.append("\(p.key) \(ark.path):\(writer.offset + UInt64(p.key.utf8.count + 1))")
            writer.offset += p.length
        }
        try writer.finish()
    }

    private func le(_ v: Int32) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}

/// Reads a Kaldi binary archive of float matrices (for tests and tools).
///
/// Every size is checked against the bytes that remain before anything is
/// allocated, so a damaged archive gives an error naming the entry, never a
/// crash or a huge allocation.
public enum KaldiArchiveReader {
    /// Every entry of the archive at `url`, in order.
    public static func read(_ url: URL) throws -> [(key: String, matrix: Matrix)] {
        guard let data = try? Data(contentsOf: url) else { throw IOError(url.path, "cannot read") }
        return try decode([UInt8](data), name: url.path)
    }

    /// Every entry of an archive's bytes, in order; `name` names it in errors.
    public static func decode(_ b: [UInt8], name: String) throws -> [(key: String, matrix: Matrix)] {
        var i = 0
        var entries: [(String, Matrix)] = []
        var seen: Set<String> = []
        func int32(at p: Int) -> Int {
            Int(Int32(bitPattern: UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24))
        }
        while i < b.count {
            guard let space = b[i...].firstIndex(of: 0x20) else { throw IOError(name, "entry at byte \(i) has no key") }
            let key = String(decoding: b[i..<space], as: UTF8.self)
            guard space > i else { throw IOError(name, "entry at byte \(i) has an empty key") }
            guard seen.insert(key).inserted else { throw IOError(name, "key \"\(key)\" appears twice") }
            var p = space + 1
            guard p + 15 <= b.count, b[p] == 0, b[p + 1] == 0x42, Array(b[(p + 2)..<(p + 5)]) == Array("FM ".utf8),
                b[p + 5] == 4, b[p + 10] == 4
            else {
                throw IOError(name, "entry \"\(key)\" is not a binary float matrix")
            }
            let rows = int32(at: p + 6), cols = int32(at: p + 11)
            p += 15
            guard rows >= 0, cols >= 0 else { throw IOError(name, "entry \"\(key)\" has a negative size \(rows)×\(cols)") }
            // rows and cols are below 2³¹, so rows·cols·4 < 2⁶⁴ fits only if checked.
            let (count, o1) = rows.multipliedReportingOverflow(by: cols)
            let (bytes, o2) = count.multipliedReportingOverflow(by: 4)
            guard !o1, !o2, bytes <= b.count - p else {
                throw IOError(name, "entry \"\(key)\" is truncated: \(rows)×\(cols) floats need more than the \(b.count - p) bytes left")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                b.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[p..<(p + bytes)])) }
            }
            entries.append((key, Matrix(rows: rows, cols: cols, data: values)))
            i = p + bytes
        }
        return entries
    }
}

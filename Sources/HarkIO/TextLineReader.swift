import Foundation

/// Reads a text file, or standard input (`-`), a line at a time in blocks of
/// 1 MiB: memory holds one block and one line, not the file. Line ends are
/// `\n` or `\r\n`; a line that is not UTF-8 is an error naming the file and
/// the line, as is a line longer than `maxLineBytes`.
public final class TextLineReader {
    /// The file read, or `-` for standard input.
    public let path: String
    /// The longest line accepted, in bytes.
    public let maxLineBytes: Int
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    /// Lines returned so far (the number of the last one).
    public private(set) var lineNumber = 0

    /// Opens `path` (`-`: standard input); throws when it does not exist, is a directory or cannot be read.
    public init(path: String, maxLineBytes: Int = 64 << 20) throws {
        self.path = path
        self.maxLineBytes = maxLineBytes
        if path == "-" {
            handle = FileHandle.standardInput
            ownsHandle = false
        } else {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw IOError(path, errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
            }
            guard (info.st_mode & S_IFMT) != S_IFDIR else { throw IOError(path, "a directory, not a text file") }
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw IOError(path, "cannot read the file (\(String(cString: strerror(errno))))")
            }
            handle = h
            ownsHandle = true
        }
    }

    deinit { if ownsHandle { try? handle.close() } }

    /// The next line without its line end; nil at the end of the file.
    public func next() throws -> String? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 10) {
                var end = newline
                if end > position && buffer[end - 1] == 13 { end -= 1 }
                let line = try text(buffer[position..<end])
                position = newline + 1
                return line
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                let line = try text(buffer[position...])
                position = buffer.count
                return line
            }
            guard buffer.count - position <= maxLineBytes else {
                throw IOError("\(path):\(lineNumber + 1)", "a line longer than \(maxLineBytes) bytes")
            }
            buffer.removeSubrange(0..<position)
            position = 0
            let block: Data
            do { block = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw IOError(path, "cannot read the file (\(error.localizedDescription))")
            }
            if block.isEmpty { atEnd = true } else { buffer += block }
        }
    }

    private func text(_ bytes: ArraySlice<UInt8>) throws -> String {
        lineNumber += 1
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw IOError("\(path):\(lineNumber)", "not UTF-8 text")
        }
        return s
    }
}

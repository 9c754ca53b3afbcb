import Foundation

/// A write that did not complete: the destination and the system's reason.
public struct WriteError: Error, CustomStringConvertible, Equatable {
    /// A path, or "standard output" / "standard error".
    public var destination: String
    /// The system's reason, in words.
    public var reason: String

    /// "cannot write to DESTINATION: REASON".
    public var description: String { "cannot write to \(destination): \(reason)" }

    /// An error about a write to `destination`.
    public init(destination: String, reason: String) {
        self.destination = destination
        self.reason = reason
    }
}

/// Writing that reports every failure (a full disk, a closed pipe, a
/// read-only file system) as a `WriteError` instead of trapping, as
/// Foundation's `FileHandle.write` does.
public enum FileWriting {
    /// Writes all of `bytes` to the open descriptor `fd`, retrying short
    /// writes and interruptions.
    public static func writeAll(_ bytes: [UInt8], to fd: Int32, destination: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(destination: destination, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Appends `bytes` to the file at `path` (created if missing) with one
    /// `write`; a failed append is truncated back, so no partial line is left.
    public static func append(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(destination: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let before = lseek(fd, 0, SEEK_END)
        do {
            try writeAll(bytes, to: fd, destination: path)
        } catch {
            if before >= 0 { _ = ftruncate(fd, before) }
            throw error
        }
    }

    /// The prefix of the temporary files `writeAtomically` makes beside their
    /// destination: `.NAME.tmp-PID`.
    public static func temporaryName(for name: String) -> String { ".\(name).tmp-\(getpid())" }

    /// Writes the file through a temporary file in the same directory that is
    /// flushed to disk and renamed over `url`: a reader (or a run killed at
    /// any moment) sees the old file or the new one, never part of one. The
    /// temporary file is removed when the write fails.
    ///
    /// A destination that exists and is not a regular file (a device such as
    /// /dev/stdout, a FIFO, a symbolic link) is written in place instead:
    /// renaming over it would replace it.
    public static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        var info = stat()
        if lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            let fd = open(url.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw WriteError(destination: url.path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            return try writeAll(bytes, to: fd, destination: url.path)
        }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(temporaryName(for: url.lastPathComponent)).path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(destination: url.path, reason: String(cString: strerror(errno))) }
        do {
            try writeAll(bytes, to: fd, destination: url.path)
            guard fsync(fd) == 0 else { throw WriteError(destination: url.path, reason: String(cString: strerror(errno))) }
            close(fd)
            guard rename(temporary, url.path) == 0 else {
                throw WriteError(destination: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// Removes temporary files that `writeAtomically` left in `directory`
    /// when a process was killed mid-write (and those Foundation's atomic
    /// writes leave, `.dat.nosync…`). Call it only while no other process
    /// writes there (for example under a `DirectoryLock`). Returns their names.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let stale = names.filter { ($0.hasPrefix(".") && $0.contains(".tmp-")) || $0.hasPrefix(".dat.nosync") }
        for name in stale { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        return stale
    }
}

/// An exclusive advisory lock on a directory (a `.lock` file in it, held with
/// `flock` for the life of the value): two processes that both take it cannot
/// use the directory at once. The kernel releases it when the process dies.
public final class DirectoryLock {
    private let fd: Int32
    /// The lock file, `.lock` in the directory.
    public let path: String

    /// Takes the lock or throws at once (never waits), saying who holds it.
    public init(_ directory: URL) throws {
        path = directory.appendingPathComponent(".lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(destination: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw LockError(directory: directory.path, holder: holder)
        }
        _ = ftruncate(fd, 0)
        try? FileWriting.writeAll(Array("\(getpid())\n".utf8), to: fd, destination: path)
    }

    deinit { close(fd) }
}

/// A directory another process is using.
public struct LockError: Error, CustomStringConvertible {
    /// The directory in use.
    public var directory: String
    /// The process id written in the lock file by its holder; empty when unknown.
    public var holder: String
    /// The directory, its holder's pid if known, and what to do.
    public var description: String {
        "\(directory) is in use by another process\(holder.isEmpty ? "" : " (pid \(holder))"); wait for it to finish or choose another directory"
    }
}

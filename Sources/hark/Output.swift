import ArgumentParser
import Foundation
import HarkCore

/// Results go to standard output through here: every write is checked, so a
/// full disk or a closed pipe (with SIGPIPE ignored) is reported and the
/// command exits 1 instead of trapping or exiting 0 with its output lost.
/// After the first failure nothing more is written; `finish()` reports it.
enum StandardOutput {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var failure: WriteError?

    /// Run first: a standard output or error that was closed (`>&-`) is
    /// held by /dev/null, so that no file the command opens takes its number
    /// (results would go into it); a closed standard output then fails the
    /// first write, as a full disk does.
    static func claimClosedDescriptors() {
        let closedOutput = fcntl(STDOUT_FILENO, F_GETFD) == -1
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 {
            let null = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            if null >= 0 && null != fd { dup2(null, fd); close(null) }
        }
        if closedOutput { failure = WriteError(destination: "standard output", reason: "it is closed") }
    }

    static func write(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil else { return }
        do {
            try FileWriting.writeAll(Array(text.utf8), to: STDOUT_FILENO, destination: "standard output")
        } catch let e as WriteError {
            failure = e
        } catch {}
    }

    /// A line of results.
    static func line(_ text: String) { write(text + "\n") }

    /// Throws the first write failure, if any: the last call of every command that prints results.
    static func finish() throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw ToolError("\(failure)") }
    }
}

/// Notes, progress and errors go to standard error. A failure to write them
/// is ignored: there is nowhere left to report it, and the exit status still
/// tells.
func writeStandardError(_ text: String) {
    try? FileWriting.writeAll(Array(text.utf8), to: STDERR_FILENO, destination: "standard error")
}

func printError(_ message: String) {
    writeStandardError("hark: \(escapingControlCharacters(message))\n")
}

/// `text` with its control characters (other than newline and tab) and its
/// bidirectional overrides written as `\u{…}` escapes. Errors name files,
/// values and lines of files; none of them may move the cursor, recolour or
/// retitle the terminal, or reorder the text it is shown in.
func escapingControlCharacters(_ text: String) -> String {
    func hidden(_ s: Unicode.Scalar) -> Bool {
        (s.properties.generalCategory == .control && s != "\n" && s != "\t")
            || (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value)
    }
    guard text.unicodeScalars.contains(where: hidden) else { return text }
    var out = String.UnicodeScalarView()
    for s in text.unicodeScalars {
        if hidden(s) { out.append(contentsOf: "\\u{\(String(s.value, radix: 16, uppercase: true))}".unicodeScalars) } else { out.append(s) }
    }
    return String(out)
}

/// Refuses an output file that cannot be meant: an empty name (it would
/// resolve to the working directory), a name ending in "/" (a directory; the
/// file would be written without the slash), or one of the command's inputs
/// (the same file by any path or link): writing it would destroy what is
/// being read.
func checkOutput(_ output: String, isNotOneOf inputs: [String], option: String) throws {
    if output.isEmpty { throw ValidationError("\(option): the file name is empty") }
    if output.hasSuffix("/") { throw ValidationError("\(option) \(output) ends in /: name a file, not a directory") }
    func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
    var o = stat()
    let exists = stat(output, &o) == 0
    let outputPath = resolved(output)
    for input in inputs where input != "-" {
        var i = stat()
        let same = exists && stat(input, &i) == 0 ? (i.st_dev == o.st_dev && i.st_ino == o.st_ino) : resolved(input) == outputPath
        if same { throw ValidationError("\(option) \(output) is an input (\(input)); choose another file to write") }
    }
}

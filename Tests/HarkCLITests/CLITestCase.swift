import Foundation
import HarkTestSupport
import XCTest

/// Runs the built `hark` binary, as a user would.
class CLITestCase: XCTestCase {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `hark` executable next to the test bundle.
    static var binary: URL {
        var dir = Bundle(for: CLITestCase.self).bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("hark").path) && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("hark")
    }

    /// Runs `hark arguments` with its output thrown away (standard input:
    /// the file at `stdin`, or nothing) and returns its exit status and its
    /// peak resident memory in KiB: the kernel's high-water mark (`VmHWM` in
    /// /proc/PID/status) read every 2 ms while it runs. (`wait4`'s
    /// `ru_maxrss` would not do: a child reports at least its parent's peak.)
    func harkPeakMemory(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, kilobytes: Int) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
        try process.run()
        var peak = 0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kilobytes)
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return (process.terminationStatus, peak)
    }

    /// Runs `hark arguments` with the given standard input and output (a
    /// directory, /dev/full: what a pipe cannot be) and returns its exit
    /// status and standard error.
    func hark(_ arguments: [String], input: FileHandle, output: FileHandle) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        process.standardInput = input
        process.standardOutput = output
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    /// Runs `script` with bash in the repository root and returns what it
    /// printed on standard output, without the surrounding whitespace.
    func bashOutput(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = repositoryRoot
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The port of `hark serve`'s "serving … on http://127.0.0.1:PORT/" line in `text`, once it is there.
    static func servingPort(in text: String) -> Int? {
        guard let range = text.range(of: #"http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else { return nil }
        return Int(text[range].dropFirst("http://127.0.0.1:".count).dropLast())
    }

    /// Runs `hark arguments`; `environment` adds to (or overrides) this process's environment.
    func hark(
        _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Run {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = repositoryRoot
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        // Read both pipes while the process runs, so neither can fill up.
        final class Box: @unchecked Sendable { var data = Data() }
        let outData = Box(), errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        // A command may stop reading early (a limit, an error): its closed pipe must fail the write, not kill the tests.
        signal(SIGPIPE, SIG_IGN)
        if let stdin { try? inp.fileHandleForWriting.write(contentsOf: stdin) }
        try? inp.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: outData.data, as: UTF8.self),
            stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

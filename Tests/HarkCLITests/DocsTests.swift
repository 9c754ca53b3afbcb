import Foundation
import HarkTestSupport
import XCTest

/// The documentation stays true to the tool: every `hark` command shown in
/// README.md and docs/*.md names a subcommand that exists and only flags
/// that subcommand's `--help` lists, also in a synopsis or a command quoted
/// inside a sentence. (`DocsExamplesTests` runs the examples.)
final class DocsTests: CLITestCase {
    /// The `hark` command lines of a Markdown page's code blocks: continuation
    /// lines joined, a prompt (`$ `) and what comes before `hark` (a path, a
    /// pipe, `mpirun -np 2`) dropped.
    static func commands(in page: String) -> [(line: String, subcommand: String, flags: [String])] {
        var result: [(String, String, [String])] = []
        var inCode = false, pending = ""
        for raw in page.components(separatedBy: "\n") {
            if raw.hasPrefix("```") { inCode.toggle(); pending = ""; continue }
            guard inCode else { continue }
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("$ ") { line.removeFirst(2) }
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            line = pending + line
            pending = ""
            guard !line.hasPrefix("#"), !line.hasPrefix("{") else { continue }
            // Each `hark SUBCOMMAND …` in the line, up to a pipe or the end.
            let pattern = try! NSRegularExpression(pattern: #"(?:^|[\s|;(/])hark\s+([a-z]+)([^|;)]*)"#)
            for m in pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                let sub = String(line[Range(m.range(at: 1), in: line)!])
                let rest = String(line[Range(m.range(at: 2), in: line)!])
                let flags = rest.split(separator: " ").compactMap { token -> String? in
                    guard token.hasPrefix("--"), token.count > 2 else { return nil }
                    return String(token.split(separator: "=")[0]).trimmingCharacters(in: CharacterSet(charactersIn: "`,.'\""))
                }
                result.append((line, sub, flags))
            }
        }
        return result
    }

    func testEveryCommandShownNamesARealSubcommandAndItsFlags() throws {
        let docs = repositoryRoot.appendingPathComponent("docs")
        let pages =
            [repositoryRoot.appendingPathComponent("README.md")]
            + (try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)).filter { $0.pathExtension == "md" }
        var help: [String: String] = [:]
        var checked = 0
        for page in pages.sorted(by: { $0.path < $1.path }) {
            let text = try String(contentsOf: page, encoding: .utf8)
            for command in Self.commands(in: text) {
                if help[command.subcommand] == nil {
                    let run = try hark([command.subcommand, "--help"])
                    help[command.subcommand] = run.status == 0 ? run.stdout : ""
                }
                let usage = help[command.subcommand]!
                XCTAssertFalse(
                    usage.isEmpty, "\(page.lastPathComponent): `hark \(command.subcommand)` is not a subcommand: \(command.line)")
                for flag in command.flags
                where !usage.contains(flag + " ") && !usage.contains(flag + "\n") && !usage.contains(flag + "=")
                    && !usage.contains(flag + ",") && !usage.contains(flag + ")")
                {
                    XCTFail("\(page.lastPathComponent): `hark \(command.subcommand)` has no \(flag): \(command.line)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40, "the pages show at least this many commands")
    }
}

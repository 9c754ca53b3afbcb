import Foundation
import HarkTestSupport

/// The files scripts/make_lm_fixtures.py writes (see its docstring for where
/// each reference value comes from).
enum LMFixtures {
    static let directory = repositoryRoot.appendingPathComponent("Tests/HarkLMTests/Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) as! [String: Any]
    }

    /// The corpus the estimator fixtures were built from, one sentence a line.
    static func corpus() throws -> [[String]] {
        try String(contentsOf: url("corpus.txt"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    /// An ARPA text's n-grams: "w₁ … wₙ" → (log10 p, log10 back-off; 0 when absent).
    static func table(_ arpa: String) -> [String: (Float, Float)] {
        var out: [String: (Float, Float)] = [:]
        var n = 0
        for raw in arpa.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("\\"), line.hasSuffix("-grams:") { n = Int(line.dropFirst().prefix { $0.isNumber })!; continue }
            guard n > 0, !line.hasPrefix("\\") else { continue }
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            out[f[1...n].joined(separator: " ")] = (Float(f[0])!, f.count > n + 1 ? Float(f[n + 1])! : 0)
        }
        return out
    }
}

import Foundation

/// The processor this process runs on, as Linux describes it in
/// `/proc/cpuinfo` (empty elsewhere): what a bug report about speed or about
/// the last bits of a result needs first.
public struct ProcessorInfo: Sendable {
    /// "model name" of the first processor, e.g. "AMD EPYC".
    public var model: String
    /// The cores this process may use.
    public var cores: Int
    /// The vector extensions among the processor's flags, in a fixed order:
    /// the SSE levels, AVX, AVX2, FMA, F16C and every AVX-512 subset.
    public var vectorExtensions: [String]

    /// Reads `/proc/cpuinfo`; fields it cannot find stay empty.
    public static func current() -> ProcessorInfo {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        func field(_ name: String) -> String {
            guard let line = lines.first(where: { $0.hasPrefix(name) }),
                let colon = line.firstIndex(of: ":")
            else { return "" }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let flags = Set(field("flags").split(separator: " ").map(String.init))
        let known = ["sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c"]
        let vector = known.filter(flags.contains) + flags.filter { $0.hasPrefix("avx512") }.sorted()
        return ProcessorInfo(model: field("model name"), cores: defaultThreadCount, vectorExtensions: vector)
    }
}

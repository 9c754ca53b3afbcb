import Foundation
import HarkASR

/// Where `--model` points when it is not given: the default model that ships
/// with Hark, `models/an4-fsdd-recordings` in the repository (AN4 and the Free
/// Spoken Digit Dataset, trained with audio augmentation and on recordings as
/// people make them: silence, pauses, joined utterances), found from the
/// executable's location (a build inside the checkout) or the current directory.
enum ModelLocation {
    static let defaultName = "models/an4-fsdd-recordings"

    static func resolve(_ given: String?) throws -> URL {
        if let given {
            // An empty path would be the current directory, and its error would name that instead.
            guard !given.isEmpty else { throw ToolError("--model is empty: give a model directory (it holds \(AcousticModel.configFile))") }
            return URL(fileURLWithPath: given)
        }
        var candidates: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir.deleteLastPathComponent()
        }
        for c in candidates {
            let m = c.appendingPathComponent(defaultName)
            if FileManager.default.fileExists(atPath: m.appendingPathComponent(AcousticModel.configFile).path) { return m }
        }
        throw ToolError(
            "no --model given and the default model (\(defaultName)) was not found near the executable or in the current directory")
    }
}

import ArgumentParser
import Foundation
import HarkCore
import HarkFeatures

/// The `hark` command tree, declared in one place.
@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Hark: small-footprint speech recognition.",
        discussion: "Audio is read with libsndfile (WAV, FLAC, OGG, AIFF, SPHERE, …); features are Kaldi-compatible.",
        version: "0.1.0",
        subcommands: [
            TranscribeCommand.self, TrainCommand.self, EvalCommand.self, FeaturesCommand.self, ManifestCommand.self, LMCommand.self,
            TuneCommand.self, ServeCommand.self, PlotCommand.self, ReportCommand.self, AlignCommand.self, AverageCommand.self,
            InfoCommand.self
        ])

    /// ArgumentParser's `main`, except for the commands with a `FeatureFlags`
    /// group: their Kaldi feature options are lifted out of the arguments
    /// first, and listed after their help (see `FeatureFlags` for why).
    ///
    /// An error's message goes to standard error with its control characters
    /// escaped (`escapingControlCharacters`): it may quote an argument.
    static func main() {
        keepLargeBuffersInHeap()
        releaseOpenBLASThreads()
        StandardOutput.claimClosedDescriptors()
        let arguments = Array(CommandLine.arguments.dropFirst())
        let featureCommandType = KaldiOptionArguments.featureCommand(in: arguments)
        let featureCommand = featureCommandType != nil
        var parsed: ParsableCommand.Type = Hark.self
        do {
            var command = try parseAsRoot(featureCommand ? KaldiOptionArguments.lift(arguments) : arguments)
            parsed = type(of: command)
            try command.run()
        } catch {
            // A usage error found by `run` points to the help of the command that ran, not the tool's.
            let message: String
            if parsed != Hark.self, let usage = error as? ValidationError {
                message = "Error: \(usage.message)\n  See 'hark \(parsed._commandName) --help' for more information."
            } else {
                message = fullMessage(for: error)
            }
            let code = exitCode(for: error)
            guard code != .success else {
                // Help and --version are "errors" with exit status 0, printed to standard
                // output; the JSON of --experimental-dump-help stays as it is.
                guard featureCommand, !message.isEmpty, !arguments.contains("--experimental-dump-help") else { exit(withError: error) }
                print(message)
                let defaults = featureCommandType as? StartingFeatures.Type
                print(
                    KaldiOptionArguments.helpSection(
                        defaults: defaults?.startingFeatures ?? .mfcc,
                        summary: defaults?.startingFeaturesSummary))
                return
            }
            if !message.isEmpty { writeStandardError(escapingControlCharacters(message) + "\n") }
            Foundation.exit(code.rawValue)
        }
    }
}

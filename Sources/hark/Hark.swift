import ArgumentParser

/// The `hark` command tree, declared in one place.
@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Hark: small-footprint speech recognition.",
        discussion: "Audio is read with libsndfile (WAV, FLAC, OGG, AIFF, SPHERE, …); features are Kaldi-compatible.",
        version: "0.1.0",
        subcommands: [TranscribeCommand.self, TrainCommand.self, EvalCommand.self, FeaturesCommand.self, ManifestCommand.self, LMCommand.self, TuneCommand.self, ServeCommand.self, PlotCommand.self, ReportCommand.self])

    /// ArgumentParser's `main`, except for the commands with a `FeatureFlags`
    /// group: their Kaldi feature options are lifted out of the arguments
    /// first, and listed after their help (see `FeatureFlags` for why).
    static func main() {
        StandardOutput.claimClosedDescriptors()
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard KaldiOptionArguments.featureCommand(in: arguments) != nil else { return main(arguments) }
        do {
            var command = try parseAsRoot(KaldiOptionArguments.lift(arguments))
            try command.run()
        } catch {
            let message = fullMessage(for: error)
            // Help is an "error" with exit status 0; the JSON of --experimental-dump-help stays as it is.
            guard exitCode(for: error) == .success, !message.isEmpty,
                  !arguments.contains("--experimental-dump-help") else { exit(withError: error) }
            print(message)
            print(KaldiOptionArguments.helpSection())
        }
    }
}

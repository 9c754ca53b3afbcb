import ArgumentParser

/// The `hark` command tree, declared in one place.
@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Hark: small-footprint speech recognition.",
        discussion: "Audio is read with libsndfile (WAV, FLAC, OGG, AIFF, SPHERE, …); features are Kaldi-compatible.",
        version: "0.1.0",
        subcommands: [TranscribeCommand.self, TrainCommand.self, EvalCommand.self, FeaturesCommand.self, ManifestCommand.self])
}

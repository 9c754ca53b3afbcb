import ArgumentParser
import HarkAudio
import HarkFeatures

/// The feature options of every command that computes features (`features`,
/// `train`), one `@OptionGroup`, so that they cannot compute them differently.
///
/// The Kaldi options (`--frame-length 25`, `--high-freq=-200`, …) are not
/// `@Option`s here. Each is declared once, in `FeatureOption.all`
/// (HarkFeatures), with its default, reason, range and JSON key, and
/// ArgumentParser can only declare options as stored properties, which would
/// repeat every one. So `Hark.main` lifts them out of the command line before
/// ArgumentParser parses it and hands each one back as a hidden
/// `--kaldi-option NAME=VALUE`, collected in `kaldiOptions`; `validate()`
/// checks the values against their declarations, and `--help` lists the table
/// after ArgumentParser's own help (see `KaldiOptionArguments`). A new entry in
/// the table is a new flag, with its help, at once. Lifting also lets a value
/// start with a dash (`--high-freq -200`), which ArgumentParser would refuse.
struct FeatureFlags: ParsableArguments {
    /// The Kaldi options given, as "name=value" in command-line order; filled
    /// by `KaldiOptionArguments.lift`, never typed by a user.
    @Option(name: .customLong(KaldiOptionArguments.carrier), help: .private)
    var kaldiOptions: [String] = []

    @Option(help: "Use this channel (0-based) instead of the mean of all channels.")
    var channel: Int?
    @Option(help: "Resampler quality: best, medium or fastest (libsamplerate sinc converters).")
    var resampleQuality: Resampler.Quality = .best

    /// Whether any Kaldi feature option was given.
    var anyGiven: Bool { !kaldiOptions.isEmpty }

    /// The given options applied over `defaults`, in table order, so that a
    /// `--type` other than the defaults' starts from that type's defaults
    /// before the other options apply. An option the resulting type does not
    /// have is ignored (`validate()` has refused it when `--type` was given).
    func featureOptions(over defaults: FeatureOptions = .mfcc) -> FeatureOptions {
        var options = defaults
        for (option, value) in given() {
            do {
                try option.set(value, in: &options)
            } catch {
                preconditionFailure("validate() lets only valid values through, not \(error)")
            }
        }
        return options
    }

    /// The given options, each once (the last value given wins), in table order.
    private func given() -> [(FeatureOption, String)] {
        var values: [String: String] = [:]
        for pair in kaldiOptions {
            let (name, value) = Self.split(pair)
            values[name] = value
        }
        return FeatureOption.all.compactMap { option in values[option.name].map { (option, $0) } }
    }

    /// "frame-length=25" → ("frame-length", "25"); no "=": no value.
    private static func split(_ pair: String) -> (name: String, value: String?) {
        guard let equals = pair.firstIndex(of: "=") else { return (pair, nil) }
        return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
    }

    func audioOptions(sampleRate: Int) -> AudioLoadOptions {
        AudioLoadOptions(
            targetSampleRate: sampleRate, channel: channel.map { .channel($0) } ?? .average,
            resampleQuality: resampleQuality)
    }

    /// Each value against its declaration, as far as it can be checked alone:
    /// the command checks the whole set once it knows what it applies over
    /// (Kaldi's defaults for `hark features`, a config for `hark train`).
    mutating func validate() throws {
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, got \(channel)") }
        var type: FeatureType?
        for pair in kaldiOptions {
            let (name, value) = Self.split(pair)
            guard let option = FeatureOption.named(name) else { throw ValidationError("unknown option --\(name)") }
            guard let value else { throw ValidationError("missing value for --\(name)") }
            do { try option.check(value) } catch { throw ValidationError("\(error)") }
            if name == "type" { type = FeatureType(rawValue: value) }
        }
        if let type, let (option, _) = given().first(where: { !$0.0.scope.includes(type) }) {
            throw ValidationError("--\(option.name) is an \(option.scope.text) option, and --type is \(type.rawValue)")
        }
    }
}

extension Resampler.Quality: ExpressibleByArgument {}

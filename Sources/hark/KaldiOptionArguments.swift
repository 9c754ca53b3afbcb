import ArgumentParser
import HarkFeatures

/// The Kaldi feature options on a command line, for the commands with a
/// `FeatureFlags` group: lifted out of the arguments before ArgumentParser
/// parses them, and listed in those commands' `--help`. Why: see `FeatureFlags`.
enum KaldiOptionArguments {
    /// The hidden option that carries each lifted option to `FeatureFlags`.
    static let carrier = "kaldi-option"

    /// The subcommand `arguments` run (or that `hark help …` asks about),
    /// if it has a `FeatureFlags` group.
    static func featureCommand(in arguments: [String]) -> ParsableCommand.Type? {
        let name = arguments.first == "help" ? arguments.dropFirst().first : arguments.first
        guard let name,
            let command = Hark.configuration.subcommands.first(where: {
                $0.configuration.commandName == name
            })
        else { return nil }
        return takesFeatureFlags(command) ? command : nil
    }

    /// Whether `command` declares an `@OptionGroup var …: FeatureFlags`: its
    /// stored properties, read as ArgumentParser itself reads them.
    static func takesFeatureFlags(_ command: ParsableCommand.Type) -> Bool {
        Mirror(reflecting: command.init()).children.contains { $0.value is OptionGroup<FeatureFlags> }
    }

    /// `arguments` with each `--NAME VALUE` and `--NAME=VALUE` of an option of
    /// `FeatureOption.all` replaced by `--kaldi-option=NAME=VALUE`.
    ///
    /// VALUE is the next argument unless it starts with `--` (then it is
    /// missing, and `FeatureFlags.validate()` says so), so negative numbers
    /// are values: `--high-freq -200`. Nothing after `--` is touched; other
    /// arguments, misspelt options included, are left to ArgumentParser.
    static func lift(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--" {
                out.append(argument)
                out += rest
                break
            }
            guard argument.hasPrefix("--") else { out.append(argument); continue }
            let flag = argument.dropFirst(2)
            let name = String(flag.prefix { $0 != "=" })
            guard FeatureOption.named(name) != nil else { out.append(argument); continue }
            if flag.contains("=") {
                out.append("--\(carrier)=\(flag)")
            } else if let value = rest.first, !value.hasPrefix("--") {
                rest.removeFirst()
                out.append("--\(carrier)=\(name)=\(value)")
            } else {
                out.append("--\(carrier)=\(name)")
            }
        }
        return out
    }

    /// The `--help` section that lists every option of `FeatureOption.all`
    /// with its value, meaning, default, the default's reason and the
    /// feature types that use it, laid out as ArgumentParser lays out options.
    /// Defaults are read from `defaults`, the features the command starts
    /// from (`summary` says which, when they are not the library's).
    static func helpSection(defaults: FeatureOptions = .mfcc, summary: String? = nil, width: Int = 80) -> String {
        let labelWidth = 26  // ArgumentParser's column for option help
        var lines = ["KALDI FEATURE OPTIONS (--name value or --name=value):"]
        lines += wrap(
            summary.map { "Defaults are this command's: \($0); an option of another --type has that type's default." }
                ?? "Defaults are Hark's library defaults (Kaldi's but for --dither).", width: width - 2
        ).map { "  " + $0 }
        lines.append("")
        for option in FeatureOption.all {
            let label = "  --\(option.name) <\(option.unit ?? option.kind.placeholder)>"
            // The library's value for this command's feature type; its reason holds only for it.
            let library =
                summary == nil
                ? option.defaultText
                : option.scope == .pipeline
                    ? option.text(in: .mfcc) : option.text(in: FeatureOptions(type: defaults.type)) ?? option.defaultText
            let value = summary == nil ? option.defaultText : option.text(in: defaults) ?? option.defaultText
            let reason = value == library ? option.reason : "this command's"
            let text = "\(option.summary) Default \(value): \(reason). [\(option.scope.text)]"
            let body = wrap(text, width: width - labelWidth)
            if label.count < labelWidth - 1 {
                lines.append(label + String(repeating: " ", count: labelWidth - label.count) + body[0])
                lines += body.dropFirst().map { String(repeating: " ", count: labelWidth) + $0 }
            } else {
                lines.append(label)
                lines += body.map { String(repeating: " ", count: labelWidth) + $0 }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces.
    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + [line]
    }
}

/// A command whose features start from other defaults than the library's
/// (its `--help` lists those).
protocol StartingFeatures {
    static var startingFeatures: FeatureOptions { get }
    /// The starting features in words, for the help.
    static var startingFeaturesSummary: String { get }
}

import Foundation
import HarkFeatures
import HarkIO
import HarkTestSupport
import XCTest

@testable import hark

/// The Kaldi feature flags of `hark features` and `hark train`, made from the
/// option table: parsed in-process as `Hark.main` parses them, and through
/// the built binary.
final class FeatureFlagsTests: CLITestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The feature flags of `arguments` parsed as `Hark.main` parses them:
    /// the Kaldi flags lifted, then ArgumentParser (with every `validate()`).
    func flags(_ arguments: [String]) throws -> FeatureFlags? {
        let command = try Hark.parseAsRoot(KaldiOptionArguments.lift(arguments))
        return (command as? FeaturesCommand)?.features ?? (command as? TrainCommand)?.features
    }

    /// Every option, for every type it applies to, in both spellings: the
    /// flag gives what setting the option through the table gives, and that
    /// survives config.json.
    func testEveryOptionRoundTripsThroughTheFlagAndJSON() throws {
        for option in FeatureOption.all {
            for type in FeatureType.allCases where option.scope.includes(type) {
                let defaults = FeatureOptions(type: type)
                // A value the command accepts as a whole (hark features checks the mel band too).
                guard let value = otherValue(of: option, in: defaults, accepted: { (try? FeatureExtractor($0)) != nil }) else {
                    XCTFail("no value other than the default for --\(option.name) (\(type))")
                    continue
                }
                var expected = defaults
                try option.set(value, in: &expected)
                let typeFlag = option.name == "type" ? [] : ["--type", type.rawValue]
                for spelling in [["--\(option.name)", value], ["--\(option.name)=\(value)"]] {
                    let arguments = ["features", "in.wav", "--output-dir", "out"] + typeFlag + spelling
                    let flags = try XCTUnwrap(try self.flags(arguments), "\(arguments)")
                    XCTAssertTrue(flags.anyGiven)
                    let options = flags.featureOptions()
                    XCTAssertEqual(options, expected, "\(arguments)")
                    XCTAssertEqual(try JSONDecoder().decode(FeatureOptions.self, from: JSONEncoder().encode(options)), expected)
                }
            }
        }
    }

    func testTypeAppliesFirstAndTrainTakesTheSameFlags() throws {
        // --type after an option of its type still starts from its defaults first.
        let features = try XCTUnwrap(
            try flags([
                "features", "in.wav", "--output-dir", "o", "--num-mel-bins", "40",
                "--use-energy", "true", "--type", "fbank"
            ])
        ).featureOptions()
        var fbank = FbankOptions()
        fbank.mel.numBins = 40
        fbank.useEnergy = true
        XCTAssertEqual(features, FeatureOptions(kind: .fbank(fbank)))

        let train = try XCTUnwrap(try flags(["train", "--train", "t.jsonl", "--out", "o", "--frame-shift=12"]))
        XCTAssertTrue(train.anyGiven)
        let options = train.featureOptions(over: TrainCommand.defaultFeatures)
        var expected = TrainCommand.defaultFeatures
        expected.frame.frameShift = 12
        XCTAssertEqual(options, expected, "train's defaults (fbank, 40 bins, meanvar) with the flag over them")
        let none = try XCTUnwrap(try flags(["train", "--train", "t.jsonl", "--out", "o"]))
        XCTAssertFalse(none.anyGiven)
        // Only the subcommands with feature flags lift them, and nothing after --.
        XCTAssertNil(KaldiOptionArguments.featureCommand(in: ["transcribe", "--frame-length", "3"]))
        XCTAssertNotNil(KaldiOptionArguments.featureCommand(in: ["help", "train"]))
        XCTAssertEqual(KaldiOptionArguments.lift(["features", "--", "--frame-length", "3"]), ["features", "--", "--frame-length", "3"])
    }

    /// `--high-freq -200` (which ArgumentParser alone would refuse) and
    /// `--high-freq=-200` give the same features, and not the default ones.
    func testNegativeValuesInBothSpellings() throws {
        var outputs: [Data] = []
        for (i, flag) in [["--high-freq", "-200"], ["--high-freq=-200"], []].enumerated() {
            let out = dir.appendingPathComponent("\(i)")
            let run = try hark(["features", "audio/an52-mmaf-b.wav", "--output-dir", out.path] + flag)
            XCTAssertEqual(run.status, 0, "\(flag): \(run.stderr)")
            outputs.append(try Data(contentsOf: out.appendingPathComponent("an52-mmaf-b.npy")))
        }
        XCTAssertEqual(outputs[0], outputs[1], "--high-freq -200 is --high-freq=-200")
        XCTAssertNotEqual(outputs[0], outputs[2], "and it is not the default")
    }

    /// A misspelt option is still a usage error (exit 64) that names it.
    func testUnknownOptionIsAUsageError() throws {
        for command in [["features", "audio", "--output-dir", dir.path], ["train", "--train", "t.jsonl", "--out", dir.path]] {
            let run = try hark(command + ["--frame-lenght", "3"])
            XCTAssertEqual(run.status, 64, run.stderr)
            XCTAssertTrue(run.stderr.hasPrefix("Error: Unknown option '--frame-lenght'\nUsage: hark \(command[0])"), run.stderr)
        }
    }

    /// A value that does not parse or is out of range: exit 64 and a one-line
    /// error naming the flag and the value, in either spelling, for both commands.
    func testBadValuesAreOneLineUsageErrors() throws {
        let cases = [
            ("frame-length", "nan"), ("frame-length", "inf"), ("frame-length", "1e300"), ("frame-length", "0"),
            ("frame-shift", "-10"), ("sample-frequency", "0"), ("sample-frequency", "16000.5"),
            ("dither", "-1"), ("num-mel-bins", "abc"), ("num-mel-bins", "2"), ("energy-floor", "-1"),
            ("deltas", "5"), ("high-freq", "nan"), ("window-type", "hann"), ("snip-edges", "maybe")
        ]
        for (i, (name, value)) in cases.enumerated() {
            let spelling = i % 2 == 0 ? ["--\(name)", value] : ["--\(name)=\(value)"]
            for command in [["features", "audio", "--output-dir", dir.path], ["train", "--train", "t.jsonl", "--out", dir.path]] {
                let run = try hark(command + spelling)
                XCTAssertEqual(run.status, 64, "\(spelling): \(run.stderr)")
                let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
                XCTAssertTrue(first.hasPrefix("Error: invalid --\(name)=\(value): "), "\(spelling): \(run.stderr)")
                XCTAssertTrue(run.stderr.contains("Usage: hark \(command[0])"), run.stderr)
            }
        }
        // Checks that need the other options: over Kaldi's defaults for hark features.
        let run = try hark(["features", "audio", "--output-dir", dir.path, "--num-mel-bins", "10"])
        XCTAssertEqual(run.status, 64, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("Error: invalid --num-ceps=13: must be between 1 and the number of mel bins (10)"), run.stderr)
        let other = try hark(["features", "audio", "--output-dir", dir.path, "--type", "fbank", "--num-ceps", "13"])
        XCTAssertEqual(other.status, 64, other.stderr)
        XCTAssertTrue(other.stderr.hasPrefix("Error: --num-ceps is an mfcc option, and --type is fbank"), other.stderr)
    }

    /// A config.json whose features the table rejects: a one-line error naming the key.
    func testBadConfigFeaturesAreNamed() throws {
        let shipped = try String(contentsOf: repositoryRoot.appendingPathComponent("models/an4-blstm/config.json"), encoding: .utf8)
        for (good, bad) in [
            ("\"frame_length\" : 25", "\"frame_length\" : 0"),
            ("\"dither\" : 0", "\"dither\" : 1e300"),
            ("\"num_mel_bins\" : 40", "\"num_mel_bins\" : -40")
        ] {
            let config = dir.appendingPathComponent("config.json")
            XCTAssertTrue(shipped.contains(good))
            try shipped.replacingOccurrences(of: good, with: bad).write(to: config, atomically: true, encoding: .utf8)
            let run = try hark([
                "train", "--config", config.path, "--out", dir.appendingPathComponent("m").path,
                "--train", "Tests/HarkCLITests/Fixtures/tiny/train.jsonl"
            ])
            XCTAssertNotEqual(run.status, 0, run.stderr)
            let key = String(bad.split(separator: "\"")[0])
            let lines = run.stderr.split(separator: "\n").filter { $0.contains("Error") }
            XCTAssertEqual(lines.count, 1, run.stderr)
            XCTAssertTrue(lines.first?.contains("invalid \(key) ") ?? false, run.stderr)
        }
    }

    /// The table of feature options in docs/features.md has every option of
    /// the table in the code, with the code's default (a row may hold two
    /// options and two defaults, "25, 10").
    func testFeaturesPageTableHasEveryOptionWithItsDefault() throws {
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/features.md"), encoding: .utf8)
        let section = try XCTUnwrap(
            page.components(separatedBy: "\n## Feature options\n").dropFirst().first?
                .components(separatedBy: "\n## ").first)
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `--") }
        for option in FeatureOption.all {
            let row = rows.first { $0.contains("`--\(option.name)`") || $0.contains("`--\(option.name) ") }
            XCTAssertNotNil(row, "--\(option.name) is not in docs/features.md's feature options table")
            guard let row else { continue }
            // A backslash-escaped bar inside a cell (`--type mfcc\|fbank`) is text, not a column.
            let cells = row.replacingOccurrences(of: "\\|", with: "/").split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let names = cells[1].components(separatedBy: ", ").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "`")).split(separator: " ")[0]
            }
            let defaults = cells[2].replacingOccurrences(of: "`", with: "")
            let value =
                names.count > 1
                ? defaults.components(separatedBy: ", ")[names.firstIndex(of: Substring("--\(option.name)")) ?? 0] : defaults
            XCTAssertEqual(value, option.defaultText, "--\(option.name): docs/features.md says \(value)")
        }
    }

    /// `--help` of both commands (and `hark help …`) lists every option of
    /// the table with its placeholder, default and scope.
    func testHelpListsEveryOption() throws {
        for arguments in [["features", "--help"], ["train", "--help"], ["help", "train"], ["features", "-h"]] {
            let run = try hark(arguments)
            XCTAssertEqual(run.status, 0, run.stderr)
            let help = run.stdout.replacingOccurrences(of: "\n", with: " ")
                .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            XCTAssertTrue(help.contains("KALDI FEATURE OPTIONS"), "\(arguments): \(run.stdout)")
            // hark train starts from 40 log-mel filterbanks with CMVN, and its help says so.
            let train = arguments.contains("train")
            let trainDefaults = ["type": "fbank", "num-mel-bins": "40", "cmvn": "meanvar"]
            if train {
                XCTAssertTrue(help.contains("Defaults are this command's: 40 log-mel filterbanks (fbank)"), help)
                XCTAssertFalse(help.contains("Default mfcc"), "one default per flag: \(help)")
                XCTAssertTrue(help.contains("Default false: Kaldi's defaults. [mfcc, fbank]"), "--use-energy for fbank")
            }
            for option in FeatureOption.all {
                XCTAssertTrue(
                    help.contains("--\(option.name) <\(option.unit ?? option.kind.placeholder)>"), "\(arguments): --\(option.name)")
                if train, let value = trainDefaults[option.name] {
                    XCTAssertTrue(help.contains("Default \(value): this command's."), "\(arguments): --\(option.name)")
                } else if !train || option.name != "use-energy" {
                    XCTAssertTrue(help.contains("Default \(option.defaultText): \(option.reason)."), "\(arguments): --\(option.name)")
                }
                XCTAssertTrue(help.contains("[\(option.scope.text)]"), "\(arguments): --\(option.name)")
            }
            XCTAssertTrue(help.contains("--channel <channel>"), "ArgumentParser's own options are still there")
        }
        XCTAssertFalse(try hark(["transcribe", "--help"]).stdout.contains("KALDI FEATURE OPTIONS"))
        XCTAssertFalse(try hark(["features", "--help"]).stdout.contains(KaldiOptionArguments.carrier), "the carrier stays hidden")
    }
}

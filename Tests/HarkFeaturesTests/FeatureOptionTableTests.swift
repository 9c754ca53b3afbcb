import Foundation
import HarkFeatures
import HarkTestSupport
import XCTest

/// The option table (`FeatureOption.all`) and what is derived from it: the
/// `"features"` object of `config.json` and the checks. The flags are tested
/// in HarkCLITests.
final class FeatureOptionTableTests: XCTestCase {
    func testNamesAndKeysAreUniqueAndDerived() {
        let names = FeatureOption.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for option in FeatureOption.all {
            XCTAssertEqual(option.jsonKey, option.name.replacingOccurrences(of: "-", with: "_"))
            XCTAssertTrue(FeatureOption.named(option.name) != nil)
            XCTAssertFalse(option.summary.isEmpty || option.reason.isEmpty, option.name)
            XCTAssertFalse(option.reason.contains("\n"), "\(option.name): the reason is one line")
        }
        XCTAssertEqual(names.first, "type", "type is applied first: it resets the options of the type")
    }

    /// Every option of every type it applies to: a non-default value set
    /// through the table is written under its key, read back, and a JSON
    /// object with only that key gives the same options.
    func testEveryOptionRoundTripsThroughJSON() throws {
        for option in FeatureOption.all {
            for type in FeatureType.allCases where option.scope.includes(type) {
                let defaults = FeatureOptions(type: type)
                guard let value = otherValue(of: option, in: defaults) else {
                    XCTFail("no value other than the default for --\(option.name) (\(type))")
                    continue
                }
                var options = defaults
                try option.set(value, in: &options)
                XCTAssertNotEqual(options, defaults, option.name)

                let json = try JSONEncoder().encode(options)
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
                let written = try XCTUnwrap(object[option.jsonKey], "\(option.jsonKey) is written")
                let decoded = try JSONDecoder().decode(FeatureOptions.self, from: json)
                XCTAssertEqual(decoded, options, option.name)
                XCTAssertEqual(option.text(in: decoded), value, option.name)

                var minimal: [String: Any] = ["type": type.rawValue]
                minimal[option.jsonKey] = written
                let fromMinimal = try JSONDecoder().decode(
                    FeatureOptions.self, from: JSONSerialization.data(withJSONObject: minimal))
                XCTAssertEqual(fromMinimal, options, "\(option.name): a missing key is its default")
            }
        }
    }

    /// The exact bytes written before the table, with sorted keys as every
    /// writer of config.json sorts them (a plain `JSONEncoder` on Linux does
    /// not keep the order keys are written in): same keys, same number spelling.
    func testEncodingIsByteForByteUnchanged() throws {
        let mfcc =
            #"{"blackman_coeff":0.42,"cepstral_lifter":22,"cmvn":"none","delta_window":2,"deltas":0,"dither":0,"#
            + #""dither_seed":0,"energy_floor":0,"frame_length":25,"frame_shift":10,"high_freq":0,"low_freq":20,"#
            + #""num_ceps":13,"num_mel_bins":23,"preemphasis_coefficient":0.97,"raw_energy":true,"remove_dc_offset":true,"#
            + #""round_to_power_of_two":true,"sample_frequency":16000,"snip_edges":true,"type":"mfcc","use_energy":true,"#
            + #""window_type":"povey"}"#
        let fbank =
            #"{"blackman_coeff":0.42,"cmvn":"none","delta_window":2,"deltas":0,"dither":0,"dither_seed":0,"#
            + #""energy_floor":0,"frame_length":25,"frame_shift":10,"high_freq":0,"low_freq":20,"num_mel_bins":23,"#
            + #""preemphasis_coefficient":0.97,"raw_energy":true,"remove_dc_offset":true,"round_to_power_of_two":true,"#
            + #""sample_frequency":16000,"snip_edges":true,"type":"fbank","use_energy":false,"use_log_fbank":true,"#
            + #""use_power":true,"window_type":"povey"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: try encoder.encode(FeatureOptions.mfcc), as: UTF8.self), mfcc)
        XCTAssertEqual(String(decoding: try encoder.encode(FeatureOptions.fbank), as: UTF8.self), fbank)
    }

    /// The shipped model's `"features"` decodes, and re-encodes (as
    /// `AcousticModel.save` encodes) to the very lines of its config.json.
    func testShippedModelFeaturesReencodeIdentically() throws {
        struct Config: Codable { var features: FeatureOptions }
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("models/an4-blstm/config.json"), encoding: .utf8)
        let config = try JSONDecoder().decode(Config.self, from: Data(text.utf8))
        var expected = FbankOptions()
        expected.mel.numBins = 40
        XCTAssertEqual(config.features, FeatureOptions(kind: .fbank(expected), cmvn: .meanvar))

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let again = String(decoding: try encoder.encode(config), as: UTF8.self).split(separator: "\n")
        // {"features": {…}} laid out as in the file: its inner lines are the file's features block.
        let block = again.dropFirst().dropLast().joined(separator: "\n")
        XCTAssertTrue(block.hasPrefix("  \"features\" : {"), block)
        XCTAssertTrue(text.contains(block + ",\n"), "re-encoded:\n\(block)\nfile:\n\(text)")

        // The PyTorch-side fixture config (written by Python, 25.0 for 25) holds the same values.
        let torch = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures/torch-model/config.json"))
        let torchFeatures = try JSONDecoder().decode(Config.self, from: torch).features
        let original = try XCTUnwrap((JSONSerialization.jsonObject(with: torch) as? [String: Any])?["features"] as? NSDictionary)
        let reencoded = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(torchFeatures)) as? NSDictionary)
        XCTAssertEqual(reencoded, original)
    }

    /// Out-of-range values in a `"features"` object: each error is one line
    /// that names the key.
    func testOutOfRangeValuesInJSONAreNamed() {
        let cases: [(key: String, json: String)] = [
            ("sample_frequency", "0"), ("sample_frequency", "-16000"), ("sample_frequency", "16000.5"),
            ("sample_frequency", "1e300"),
            ("frame_length", "0"), ("frame_length", "-25"), ("frame_length", "1e300"), ("frame_length", "0.01"),
            ("frame_shift", "0"), ("frame_shift", "-10"), ("frame_shift", "1e300"), ("frame_shift", "0.01"),
            ("preemphasis_coefficient", "1.5"), ("preemphasis_coefficient", "-0.1"),
            ("dither", "-1"), ("dither", "1e300"),
            ("dither_seed", "-1"),
            ("num_mel_bins", "2"), ("num_mel_bins", "0"), ("num_mel_bins", "5000"),
            ("num_ceps", "0"), ("num_ceps", "24"),
            ("energy_floor", "-1"), ("energy_floor", "1e400"),
            ("cepstral_lifter", "-22"),
            ("deltas", "-1"), ("deltas", "5"),
            ("delta_window", "0"), ("delta_window", "17"),
            ("window_type", #""hann""#), ("cmvn", #""both""#), ("snip_edges", #""yes""#)
        ]
        for (key, json) in cases {
            let data = Data(#"{"type": "mfcc", "\#(key)": \#(json)}"#.utf8)
            XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: data), "\(key): \(json)") { error in
                let message = Self.describe(error)
                XCTAssertTrue(message.contains(key), "\(key): \(json) gave: \(message)")
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
        XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: Data(#"{"type": "plp"}"#.utf8))) { error in
            XCTAssertTrue(Self.describe(error).contains("not mfcc or fbank"), Self.describe(error))
        }
        // NaN and infinities are not JSON at all.
        for json in ["NaN", "Infinity", "-Infinity", "nan", "inf"] {
            XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: Data(#"{"frame_length": \#(json)}"#.utf8)), json)
        }
    }

    func testUnknownKeysAndKeysOfTheOtherTypeAreNamed() {
        let cases = [
            (#"{"type": "mfcc", "num_mel_binz": 40}"#, "unknown mfcc option \"num_mel_binz\""),
            (#"{"type": "fbank", "frame_lenght": 25}"#, "unknown fbank option \"frame_lenght\""),
            (#"{"type": "mfcc", "use_power": false}"#, "\"use_power\" is an fbank option"),
            (#"{"type": "fbank", "num_ceps": 13}"#, "\"num_ceps\" is an mfcc option")
        ]
        for (json, message) in cases {
            XCTAssertThrowsError(try JSONDecoder().decode(FeatureOptions.self, from: Data(json.utf8))) { error in
                XCTAssertTrue(Self.describe(error).contains(message), Self.describe(error))
            }
        }
    }

    /// A command-line value is checked on its own: NaN and infinities for
    /// every number option, and each bound; the message names the option.
    func testBadFlagValuesAreNamed() {
        for option in FeatureOption.all where option.kind == .number {
            for text in ["nan", "inf", "-inf", "abc", ""] {
                XCTAssertThrowsError(try option.check(text), "--\(option.name)=\(text)") { error in
                    XCTAssertTrue("\(error)".hasPrefix("invalid --\(option.name)=\(text): "), "\(error)")
                }
            }
        }
        let cases = [
            ("sample-frequency", "0"), ("sample-frequency", "1e300"), ("sample-frequency", "8000.5"),
            ("frame-length", "0"), ("frame-length", "-25"), ("frame-length", "1e300"),
            ("frame-shift", "0"), ("frame-shift", "1e300"), ("preemphasis-coefficient", "2"),
            ("dither", "-1"), ("dither", "1e300"), ("dither-seed", "-1"), ("num-mel-bins", "2"),
            ("num-mel-bins", "1025"), ("num-mel-bins", "23.5"), ("num-ceps", "0"), ("num-ceps", "2000"),
            ("energy-floor", "-1"), ("cepstral-lifter", "-1"), ("deltas", "-1"), ("deltas", "5"),
            ("delta-window", "0"), ("delta-window", "17"), ("use-energy", "yes"), ("window-type", "hann"),
            ("cmvn", "on"), ("type", "plp")
        ]
        for (name, text) in cases {
            XCTAssertThrowsError(try FeatureOption.named(name)!.check(text), "--\(name)=\(text)") { error in
                XCTAssertTrue("\(error)".hasPrefix("invalid --\(name)=\(text): "), "\(error)")
            }
        }
        for (name, text) in [("high-freq", "-200"), ("low-freq", "0"), ("blackman-coeff", "-1"), ("dither", "0")] {
            XCTAssertNoThrow(try FeatureOption.named(name)!.check(text), "--\(name)=\(text)")
        }
    }

    /// Values set in code are checked when features are made, the other options known.
    func testOptionsSetInCodeAreChecked() {
        func error(_ change: (inout FeatureOptions) -> Void) -> String {
            var options = FeatureOptions.mfcc
            change(&options)
            do { _ = try FeatureExtractor(options); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error { $0.frame.frameLength = .nan }.hasPrefix("invalid --frame-length=nan:"))
        XCTAssertTrue(error { $0.frame.sampleFrequency = .infinity }.hasPrefix("invalid --sample-frequency=inf:"))
        XCTAssertTrue(error { $0.frame.frameLength = 0.1 }.contains("gives 1 samples at 16000 Hz; a frame needs at least 2"))
        XCTAssertTrue(error { $0.mel.highFreq = -.infinity }.hasPrefix("invalid --high-freq=-inf:"))
        XCTAssertTrue(error { $0.mel.numBins = 10 }.hasPrefix("invalid --num-ceps=13: must be between 1 and the number of mel bins (10)"))
        XCTAssertTrue(error { $0.deltaWindow = 0 }.hasPrefix("invalid --delta-window=0:"))
        XCTAssertEqual(error { $0.mel.highFreq = -200 }, "no error")
    }

    func testDefaultsAreReadFromTheStructs() {
        XCTAssertEqual(FeatureOption.named("frame-length")?.defaultText, "25")
        XCTAssertEqual(FeatureOption.named("num-mel-bins")?.defaultText, "23")
        XCTAssertEqual(FeatureOption.named("dither")?.defaultText, "0")
        XCTAssertEqual(FeatureOption.named("use-energy")?.defaultText, "true for mfcc, false for fbank")
        XCTAssertEqual(FeatureOption.named("type")?.defaultText, "mfcc")
        XCTAssertEqual(FeatureOption.named("num-ceps")?.scope, .mfcc)
        XCTAssertEqual(FeatureOption.named("cmvn")?.kind, .choice(["none", "mean", "meanvar"]))
    }

    /// A decoding error as `AcousticModel.load` shows it: the path, then the message.
    static func describe(_ error: Error) -> String {
        guard case DecodingError.dataCorrupted(let c) = error else { return "\(error)" }
        return c.codingPath.map(\.stringValue).joined(separator: ".") + ": " + c.debugDescription
    }
}

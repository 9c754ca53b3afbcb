import Foundation
import HarkAudio
import HarkCore
import HarkFeatures
import HarkIO
import HarkTestSupport
import XCTest

/// Hark's features against torchaudio's `compliance.kaldi` (a port of Kaldi's
/// compute-mfcc-feats / compute-fbank-feats) on real speech at 16 kHz (AN4)
/// and 8 kHz (FSDD). The expected matrices, the options of each case and the
/// tolerance were written by `scripts/make_feature_fixtures.py`, whose
/// `cases.json` records the versions used.
final class TorchaudioFixtureTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name: String
            var input: String
            var options: FeatureOptions
            var shape: [Int]
            var tolerance: [String: Float]
        }
        var versions: [String: String]
        var cases: [Case]
    }

    func testAllCasesMatchTorchaudio() throws {
        let folder = repositoryRoot.appendingPathComponent("Tests/HarkFeaturesTests/Fixtures")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: folder.appendingPathComponent("cases.json")))
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 8)
        var rates = Set<Double>()
        for c in fixture.cases {
            let extractor = try FeatureExtractor(c.options)
            let audio = try AudioLoader.load(repositoryRoot.appendingPathComponent(c.input).path)
            XCTAssertEqual(audio.waveform.sampleRate, extractor.sampleRate, "\(c.name): the fixture's audio is at the analysis rate")
            rates.insert(c.options.frame.sampleFrequency)
            let expected = try NPY.read(folder.appendingPathComponent(c.name + ".npy"))
            XCTAssertEqual(expected.shape, c.shape)
            for threads in [1, 2] {
                let actual = extractor.compute(audio.waveform.samples, threads: threads)
                let r = assertClose(
                    actual, expected, absolute: c.tolerance["absolute"] ?? 0,
                    relative: c.tolerance["relative"] ?? 0, c.name)
                if threads == 1 { print("torchaudio fixture \(c.name) \(actual.shape): \(r)") }
            }
        }
        XCTAssertEqual(rates, [8000, 16000], "both sample rates are covered")
    }
}

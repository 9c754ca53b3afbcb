import Foundation
import HarkTestSupport
import XCTest

@testable import HarkAudio

/// Every encoding of the same one-second excerpt of real speech decodes to
/// the same waveform (fixtures written by `scripts/make_audio_fixtures.sh`).
final class AudioFormatTests: XCTestCase {
    let folder = repositoryRoot.appendingPathComponent("Tests/HarkAudioTests/Fixtures")

    func load(_ name: String, _ options: AudioLoadOptions = AudioLoadOptions()) throws -> LoadedAudio {
        try AudioLoader.load(folder.appendingPathComponent(name).path, options: options)
    }

    /// Root-mean-square difference relative to the reference's RMS.
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let n = min(a.count, b.count)
        var err = 0.0, energy = 0.0
        for i in 0..<n {
            err += Double(a[i] - b[i]) * Double(a[i] - b[i])
            energy += Double(b[i]) * Double(b[i])
        }
        return (err / max(energy, 1e-30)).squareRoot()
    }

    func testLosslessEncodingsAreExact() throws {
        let ref = try load("ref-s16.wav").waveform
        XCTAssertEqual(ref.sampleRate, 16_000)
        XCTAssertEqual(ref.samples.count, 16_000)
        XCTAssertLessThanOrEqual(ref.samples.map(abs).max()!, 1)
        for name in ["s24.wav", "s32.wav", "f32.wav", "f64.wav", "flac.flac", "aiff.aiff", "sphere.sph"] {
            let w = try load(name).waveform
            XCTAssertEqual(w.sampleRate, 16_000, name)
            XCTAssertEqual(w.samples.count, ref.samples.count, name)
            XCTAssertEqual(compare(w.samples, ref.samples, absolute: 1e-6).firstBad, nil, name)
        }
    }

    func testLossyAndCompandedEncodingsAreClose() throws {
        let ref = try load("ref-s16.wav").waveform.samples
        // Linear 8-bit (sox dithers when it reduces the word length) keeps about
        // 8 bits, the companding laws more at low levels;
        // Vorbis at quality 6 keeps the waveform to within a few percent.
        for (name, bound) in [("u8.wav", 0.2), ("alaw.wav", 0.05), ("ulaw.wav", 0.05), ("vorbis.ogg", 0.25)] {
            let audio = try load(name)
            XCTAssertEqual(audio.waveform.sampleRate, 16_000, name)
            XCTAssertEqual(audio.waveform.samples.count, ref.count, accuracy: name.hasSuffix("ogg") ? 1600 : 0, name)
            XCTAssertLessThan(relativeError(audio.waveform.samples, ref), bound, name)
        }
    }

    /// MP3 and Ogg Opus (libsndfile ≥ 1.1 through mpg123 and libopus), made
    /// from ref-s16.wav by PyPI soundfile (libsndfile 1.2.2): the rate, the
    /// length (an MP3 encoder pads its frames) and the energy of the second are
    /// the reference's. Opus decodes at 48 kHz and is resampled to the 16 kHz asked for.
    func testMP3AndOpusDecode() throws {
        let ref = try load("ref-s16.wav").waveform.samples
        func energy(_ x: [Float]) -> Double { x.reduce(0) { $0 + Double($1) * Double($1) } }
        for name in ["mp3.mp3", "opus.ogg"] {
            let audio = try load(name, AudioLoadOptions(targetSampleRate: 16_000))
            XCTAssertEqual(audio.waveform.sampleRate, 16_000, name)
            XCTAssertEqual(Double(audio.waveform.samples.count), Double(ref.count), accuracy: 0.15 * 16_000, name)
            XCTAssertEqual(energy(audio.waveform.samples) / energy(ref), 1, accuracy: 0.15, name)
        }
    }

    func testStereoIsAveragedOrOneChannelChosen() throws {
        let ref = try load("ref-s16.wav").waveform.samples
        let mixed = try load("stereo.wav")
        XCTAssertEqual(mixed.channels, 2)
        // Right channel is the left at half amplitude: the mean is 0.75 × the left.
        XCTAssertLessThan(relativeError(mixed.waveform.samples, ref.map { $0 * 0.75 }), 1e-3)
        let right = try load("stereo.wav", AudioLoadOptions(channel: .channel(1))).waveform.samples
        XCTAssertLessThan(relativeError(right, ref.map { $0 * 0.5 }), 1e-3)
        XCTAssertThrowsError(try load("stereo.wav", AudioLoadOptions(channel: .channel(2)))) { error in
            XCTAssertEqual((error as? AudioError)?.kind, .badChannel)
            XCTAssertTrue("\(error)".contains("channel 2 requested but the file has 2"), "\(error)")
        }
    }

    func testResamplingBothWays() throws {
        let ref16 = try load("ref-s16.wav").waveform.samples
        let down = try load("ref-s16.wav", AudioLoadOptions(targetSampleRate: 8_000))
        XCTAssertEqual(down.waveform.sampleRate, 8_000)
        XCTAssertEqual(down.originalSampleRate, 16_000)
        XCTAssertEqual(down.waveform.samples.count, 8_000)
        XCTAssertTrue(down.notes.isEmpty)
        // Against sox's own 8 kHz conversion of the same excerpt.
        let sox8 = try load("ref-8k.wav").waveform.samples
        XCTAssertLessThan(relativeError(down.waveform.samples, sox8), 0.05)

        let up = try load("ref-8k.wav", AudioLoadOptions(targetSampleRate: 16_000))
        XCTAssertEqual(up.waveform.samples.count, 16_000)
        XCTAssertEqual(up.notes.count, 1)
        XCTAssertTrue(up.notes[0].contains("upsampling from 8000 Hz to 16000 Hz"), up.notes[0])
        // Speech below 4 kHz survives the round trip 16k → 8k → 16k closely
        // enough that the waveform is recognisably the same.
        XCTAssertLessThan(relativeError(up.waveform.samples, ref16), 0.5)
    }

    /// SoX's resampler (training's speed perturbation and telephone band) is
    /// sox's own `rate`: the 8 kHz conversion of the excerpt matches sox's file
    /// to its 16-bit rounding, and every length is round(n · to / from).
    func testSoxResamplerIsSoxsRate() throws {
        let ref16 = try load("ref-s16.wav").waveform.samples
        let sox8 = try load("ref-8k.wav").waveform.samples
        let down = try SoxResampler.resample(ref16, from: 16_000, to: 8_000)
        XCTAssertEqual(down.count, 8_000)
        XCTAssertLessThan(relativeError(down, sox8), 2e-3)
        for n in [0, 1, 7, 1_000, 48_000] {
            let x = [Float](repeating: 0.25, count: n)
            for (from, to) in [(14_400, 16_000), (17_600, 16_000), (16_000, 6_317), (8_000, 16_000)] {
                let expected = Int((Double(n) * Double(to) / Double(from)).rounded())
                XCTAssertEqual(try SoxResampler.resample(x, from: from, to: to).count, expected, "\(n) samples, \(from) → \(to) Hz")
            }
        }
    }

    func testInMemoryDecodingOfEveryFormat() throws {
        for name in ["flac.flac", "vorbis.ogg", "aiff.aiff", "sphere.sph", "ulaw.wav"] {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            let audio = try AudioLoader.load(bytes: bytes, displayName: "-")
            XCTAssertEqual(audio.waveform.sampleRate, 16_000, name)
            XCTAssertGreaterThan(audio.waveform.samples.count, 15_000, name)
        }
    }
}

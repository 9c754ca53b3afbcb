import Foundation
import HarkCore
import XCTest

@testable import HarkASR

/// `WordTiming`: word times grown from the frames that emitted a word's
/// characters (its anchors) to the speech around them, on activity with known
/// speech runs; and `SpeechActivity` on tone bursts with known edges.
final class WordTimingTests: XCTestCase {
    /// Activity from a pattern: "#" speech, "." not; levels 0 on speech, −60 off, with `dips` lower.
    func activity(_ pattern: String, dips: [Int: Float] = [:]) -> SpeechActivity {
        let speech = pattern.map { $0 == "#" }
        var levels = speech.map { $0 ? Float(0) : -60 }
        for (t, v) in dips { levels[t] = v }
        return SpeechActivity(frameSamples: 160, speech: speech, levels: levels)
    }

    func testIsolatedWordsTakeTheirSpeechRuns() {
        //                      0         1         2         3         4
        //                      0123456789012345678901234567890123456789012345
        let a = activity("....######......########.......#####.....")
        // Spikes at the start, inside, and at the end of each run.
        let spans = WordTiming().refine([4..<5, 15..<16, 35..<36], activity: a)
        XCTAssertEqual(spans, [4..<10, 16..<24, 31..<36])
    }

    func testAnAnchorInSilenceMovesToTheNearestSpeechWithinReach() {
        let a = activity("..........########..............")
        // The first word's spike lands 5 frames before its speech, as a CTC spike at frame 0 does.
        XCTAssertEqual(WordTiming().refine([5..<6], activity: a), [10..<18])
        // Out of reach (15 frames): the CTC times stay.
        let far = activity("..............................########")
        XCTAssertEqual(WordTiming().refine([2..<3], activity: far), [2..<3])
    }

    func testWordsInContinuousSpeechSplitAtTheQuietestFrameBetweenTheirAnchors() {
        let a = activity("...####################....", dips: [12: -20, 9: -10])
        let spans = WordTiming().refine([5..<6, 18..<19], activity: a)
        XCTAssertEqual(spans, [3..<12, 12..<23])
    }

    func testShortGapsInsideAWordAreBridgedLongOnesAreNot() {
        // A 6-frame closure inside the word (bridged); a 12-frame pause after it (not).
        let a = activity("..######......###............####...")
        XCTAssertEqual(WordTiming().refine([4..<5], activity: a), [2..<17])
        XCTAssertEqual(WordTiming().refine([4..<5, 31..<32], activity: a), [2..<17, 29..<33])
    }

    func testAWordNeverGrowsPastItsNeighboursAnchors() {
        let a = activity("##########################")
        let spans = WordTiming().refine([2..<3, 10..<11, 20..<21], activity: a)
        for (s, t) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(s.upperBound, t.lowerBound) }
        XCTAssertEqual(spans.first?.lowerBound, 0)
        XCTAssertEqual(spans.last?.upperBound, 26)
        for (s, anchor) in zip(spans, [2..<3, 10..<11, 20..<21]) { XCTAssertTrue(s.contains(anchor.lowerBound), "\(s) holds \(anchor)") }
    }

    /// A clip's own room noise, 50 dB under its speech but above the fainter
    /// silence around the clip, is "speech" to the sensitive rule; the word
    /// does not grow over it (more than 35 dB under the word's loudest).
    func testAWordDoesNotGrowOverFaintNoiseBesideIt() {
        let pattern = "....##########..................."
        var levels = pattern.map { $0 == "#" ? Float(-50) : -80 }
        for t in 8..<14 { levels[t] = 0 }
        let a = SpeechActivity(frameSamples: 160, speech: pattern.map { $0 == "#" }, levels: levels)
        XCTAssertEqual(WordTiming().refine([10..<11], activity: a), [8..<14])
    }

    /// A padded clip as AN4's come: a click where it was cut (−18 dB), then
    /// its room noise (−36 dB under the speech), then the word, all "speech"
    /// against the −80 dB silence around the clip. The word starts at its
    /// speech, not at the click 30 frames before it, and keeps a fricative 30
    /// dB under its vowel; the noise 34 dB down, were it louder, would be
    /// taken (within 35 dB).
    func testAWordDoesNotStartAtTheClickOfACutBeforeRoomNoise() {
        let pattern = "....#########################################......"
        var levels = pattern.map { $0 == "#" ? Float(-36) : -80 }
        levels[4] = -18
        for t in 34..<36 { levels[t] = -30 }  // the fricative
        for t in 36..<45 { levels[t] = 0 }  // the vowel
        let a = SpeechActivity(frameSamples: 160, speech: pattern.map { $0 == "#" }, levels: levels)
        XCTAssertEqual(WordTiming().refine([38..<39], activity: a), [34..<45])
        for t in 5..<34 { levels[t] = -34 }
        let louder = SpeechActivity(frameSamples: 160, speech: pattern.map { $0 == "#" }, levels: levels)
        XCTAssertEqual(WordTiming().refine([38..<39], activity: louder), [4..<45])
    }

    /// A quiet hiss (−60 dBFS, 30 dB under the vowel) before a vowel on a
    /// near-silent floor (−80 dBFS): the word-boundary rule hears it.
    func testSpeechActivityHearsQuietWordEdges() {
        let rate = 16_000
        var rng = SeededGenerator(seed: 3)
        func noise(_ seconds: Double, _ db: Float) -> [Float] {
            (0..<Int(seconds * Double(rate))).map { _ in powf(10, db / 20) * rng.nextGaussian() }
        }
        let tone = (0..<Int(0.3 * Double(rate))).map { i in 0.1 * sinf(2 * .pi * 300 * Float(i) / Float(rate)) }
        let samples = noise(0.5, -80) + noise(0.1, -60) + tone + noise(0.5, -80)
        let a = SpeechActivity(samples: samples, sampleRate: rate, frameSamples: 160)
        let first = a.speech.firstIndex(of: true)!, last = a.speech.lastIndex(of: true)!
        XCTAssertEqual(first, 50, "the hiss starts at 0.5 s")
        XCTAssertEqual(last + 1, 90, "the vowel ends at 0.9 s")
        // The segmenter's rule (an absolute floor of −55 dBFS) does not count the hiss.
        let cut = SpeechActivity(samples: samples, sampleRate: rate, frameSamples: 160, options: VoiceActivityOptions())
        XCTAssertEqual(cut.speech.firstIndex(of: true), 60)
    }
}

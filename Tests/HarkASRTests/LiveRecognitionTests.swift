import Foundation
import HarkAudio
import HarkCore
import HarkTestSupport
import XCTest

@testable import HarkASR

/// `StreamingRecognizer`: partial results as audio arrives, utterances cut at
/// pauses, and every final result equal to transcribing its segment as a file.
final class LiveRecognitionTests: XCTestCase {
    static let model = try! AcousticModel.load(directory: repositoryRoot.appendingPathComponent("models/an4-blstm"))
    let rate = 16_000

    func speech(_ name: String) throws -> [Float] {
        let path = repositoryRoot.appendingPathComponent("audio/\(name)").path
        return try AudioLoader.load(path, options: AudioLoadOptions(targetSampleRate: rate)).waveform.samples
    }

    /// Faint seeded noise (about −60 dBFS): the pauses between utterances.
    func pause(_ seconds: Double, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<Int(seconds * Double(rate))).map { _ in 0.001 * rng.nextGaussian() }
    }

    /// Three utterances with pauses: "ENTER SEVEN", FSDD's "seven" (8 kHz, upsampled), "ENTER SEVEN".
    func conversation() throws -> [Float] {
        let an4 = try speech("an52-mmaf-b.wav"), fsdd = try speech("7_jackson_0.wav")
        return pause(1, seed: 1) + an4 + pause(1.5, seed: 2) + fsdd + pause(1.5, seed: 3) + an4 + pause(0.7, seed: 4)
    }

    /// Feeds `samples` in irregular blocks.
    func run(_ recognizer: StreamingRecognizer, _ samples: [Float], blocks: [Int] = [1, 4096, 17, 400, 5000, 160, 3]) -> [StreamResult] {
        var results: [StreamResult] = []
        var position = 0, i = 0
        while position < samples.count {
            let n = min(blocks[i % blocks.count], samples.count - position)
            results += recognizer.accept(Array(samples[position..<(position + n)]))
            position += n
            i += 1
        }
        return results + recognizer.finish()
    }

    /// Each final is its segment decoded as one utterance, and the finals
    /// of the stream are the segments of transcribing the same audio as a
    /// file: the same segmenter cuts both.
    func testFinalsAreTheSegmentsOfTheFile() throws {
        let transcriber = Transcriber(model: Self.model)
        let recognizer = try StreamingRecognizer(transcriber: transcriber)
        let samples = try conversation()
        let results = run(recognizer, samples)
        let finals = results.filter { $0.type == .final }
        XCTAssertEqual(finals.count, 3, "\(results.map(\.jsonLine))")
        XCTAssertEqual(finals.first?.text, "ENTER SEVEN")
        XCTAssertEqual(finals.last?.text, "ENTER SEVEN")
        var previousEnd = 0.0
        for (i, f) in finals.enumerated() {
            XCTAssertGreaterThanOrEqual(f.start, previousEnd)
            previousEnd = f.end
            let lo = Int((f.start * Double(rate)).rounded()), hi = Int((f.end * Double(rate)).rounded())
            let one = transcriber.transcribeUtterance(Array(samples[lo..<hi]))
            XCTAssertEqual(f.text, one.text, "segment \(i)")
            XCTAssertEqual(f.words.count, one.words.count)
            for (a, b) in zip(f.words, one.words) {
                XCTAssertEqual(a.word, b.word)
                XCTAssertEqual(a.start!, b.start! + f.start, accuracy: 1e-9)
                XCTAssertEqual(a.end!, b.end! + f.start, accuracy: 1e-9)
                XCTAssertEqual(a.confidence, b.confidence)
                XCTAssertTrue(a.start! >= f.start && a.end! <= f.end + 1e-9)
            }
        }
        // The whole conversation as a file: its segments are the finals.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("conversation.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(WavBuilder.float32(samples))))
        let (file, _, _) = try transcriber.transcribe(path: url.path)
        XCTAssertEqual(file.segments?.map(\.text), finals.map(\.text))
        XCTAssertEqual(file.words, finals.flatMap(\.words))
        XCTAssertEqual(file, try transcriber.transcribe(samples: samples), "in memory as from the file")
    }

    func testPartialsComeEveryIntervalAndDoNotDependOnBlockSizes() throws {
        let transcriber = Transcriber(model: Self.model)
        let samples = try conversation()
        let a = run(try StreamingRecognizer(transcriber: transcriber), samples)
        let b = run(try StreamingRecognizer(transcriber: transcriber), samples, blocks: [samples.count])
        let c = run(try StreamingRecognizer(transcriber: transcriber), samples, blocks: [160])
        XCTAssertEqual(a, b)
        XCTAssertEqual(a, c)
        // Before the first final, a partial every 0.5 s of the utterance once it has text.
        let partials = a.prefix { $0.type == .partial }
        XCTAssertGreaterThanOrEqual(partials.count, 2)
        for (p, q) in zip(partials, partials.dropFirst()) {
            XCTAssertEqual(q.end - p.end, 0.5, accuracy: 1e-9)
            XCTAssertEqual(p.start, q.start)
        }
        XCTAssertTrue(partials.last!.text.hasPrefix("ENTER"), partials.last!.text)
    }

    func testSilenceKeepsNothingAndLongSpeechIsCut() throws {
        let transcriber = Transcriber(model: Self.model)
        let recognizer = try StreamingRecognizer(transcriber: transcriber)
        var results: [StreamResult] = []
        // Half a minute of faint noise: no result, and only the last moments are held.
        for s in 0..<30 {
            results += recognizer.accept(pause(1, seed: UInt64(100 + s)))
            XCTAssertLessThanOrEqual(recognizer.bufferedSamples, Int(2.5 * Double(rate)))
        }
        results += recognizer.finish()
        XCTAssertEqual(results, [])
        XCTAssertEqual(recognizer.secondsReceived, 30, accuracy: 1e-9)

        // Speech with no pause longer than the longest utterance is cut at it.
        let an4 = try speech("an52-mmaf-b.wav")
        let cutter = try StreamingRecognizer(transcriber: transcriber, options: StreamingOptions(maxUtterance: 3))
        var long: [Float] = []
        for _ in 0..<6 { long += an4 }
        let cut = run(cutter, long)
        let finals = cut.filter { $0.type == .final }
        XCTAssertGreaterThanOrEqual(finals.count, 3)
        for f in finals { XCTAssertLessThanOrEqual(f.end - f.start, 3 + 1e-9) }
        XCTAssertLessThanOrEqual(cutter.bufferedSamples, 3 * rate)
    }

    /// Each partial equals decoding the whole pipeline over the utterance so far:
    /// the frames computed once as samples arrive are the frames of one computation.
    func checkPartialsAreThePipelineOverTheUtteranceSoFar(
        _ transcriber: Transcriber, _ samples: [Float],
        options: StreamingOptions = StreamingOptions()
    ) throws -> Int {
        let results = run(try StreamingRecognizer(transcriber: transcriber, options: options), samples)
        var checked = 0
        for r in results where r.type == .partial {
            let lo = Int((r.start * Double(rate)).rounded()), hi = Int((r.end * Double(rate)).rounded())
            let expected = transcriber.decode(transcriber.logProbabilities(Array(samples[lo..<hi])), duration: r.end - r.start)
            XCTAssertEqual(r.text, expected.text, "partial at \(r.start)–\(r.end)")
            XCTAssertEqual(r.words.map(\.word), expected.words.map(\.word))
            checked += 1
        }
        return checked
    }

    func testIncrementalFramesGiveThePartialsOfTheWholePipeline() throws {
        let transcriber = Transcriber(model: Self.model)
        XCTAssertFalse(try StreamingRecognizer(transcriber: transcriber).carriesState, "bidirectional, with CMVN")
        XCTAssertGreaterThanOrEqual(try checkPartialsAreThePipelineOverTheUtteranceSoFar(transcriber, try conversation()), 5)
    }

    /// A unidirectional model without CMVN carries its recurrent state from
    /// partial to partial and runs only the new frames; the partials are those
    /// of running the whole utterance so far.
    func testUnidirectionalModelCarriesItsState() throws {
        var config = Self.model.config
        config.network.bidirectional = false
        config.network.hiddenSize = 24
        config.network.numLayers = 2
        config.features.cmvn = .none
        let model = try AcousticModel(config: config, seed: 5)
        let transcriber = Transcriber(model: model)
        let recognizer = try StreamingRecognizer(transcriber: transcriber)
        XCTAssertTrue(recognizer.carriesState)
        // Random weights emit tokens everywhere, so every partial has text; the cuts are the segmenter's.
        let checked = try checkPartialsAreThePipelineOverTheUtteranceSoFar(
            transcriber, try conversation(), options: StreamingOptions(maxUtterance: 4))
        XCTAssertGreaterThanOrEqual(checked, 8)
        // Finals are still the segment transcribed as a file.
        let samples = try conversation()
        for f in run(try StreamingRecognizer(transcriber: transcriber, options: StreamingOptions(maxUtterance: 4)), samples)
        where f.type == .final {
            let lo = Int((f.start * Double(rate)).rounded()), hi = Int((f.end * Double(rate)).rounded())
            XCTAssertEqual(f.text, transcriber.transcribeUtterance(Array(samples[lo..<hi])).text)
        }
    }

    /// A model with a strided convolutional front-end and projected LSTMs
    /// streams too: its partials are the pipeline over the utterance so far
    /// (the convolution's look-ahead included), and its finals are the
    /// segment transcribed as a file, word times on its coarser frame grid.
    func testConvolutionalFrontEndModelStreams() throws {
        let model = try AcousticModel.load(directory: repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures/torch-model-conv"))
        XCTAssertEqual(model.config.timeStride, 2)
        let transcriber = Transcriber(model: model)
        XCTAssertFalse(try StreamingRecognizer(transcriber: transcriber).carriesState, "a front-end is recomputed over the utterance")
        let samples = try conversation()
        XCTAssertGreaterThanOrEqual(try checkPartialsAreThePipelineOverTheUtteranceSoFar(transcriber, samples), 5)
        let results = run(try StreamingRecognizer(transcriber: transcriber), samples)
        XCTAssertEqual(results, run(try StreamingRecognizer(transcriber: transcriber), samples, blocks: [160]))
        let finals = results.filter { $0.type == .final }
        XCTAssertEqual(finals.count, 3)
        for f in finals {
            let lo = Int((f.start * Double(rate)).rounded()), hi = Int((f.end * Double(rate)).rounded())
            let one = transcriber.transcribeUtterance(Array(samples[lo..<hi]))
            // Random weights emit tokens everywhere: every final has words to compare.
            XCTAssertFalse(one.words.isEmpty)
            XCTAssertEqual(f.text, one.text)
            XCTAssertEqual(f.words.map(\.word), one.words.map(\.word))
            XCTAssertEqual(f.words.map(\.confidence), one.words.map(\.confidence))
        }
        XCTAssertEqual(try transcriber.transcribe(samples: samples).segments?.map(\.text), finals.map(\.text))
    }

    func testOptionsAreChecked() {
        let transcriber = Transcriber(model: Self.model)
        for bad in [
            StreamingOptions(partialInterval: 0), StreamingOptions(partialInterval: .nan),
            StreamingOptions(endpointSilence: -1), StreamingOptions(maxUtterance: 1e9),
            StreamingOptions(partialInterval: 5, maxUtterance: 6)
        ] {
            XCTAssertThrowsError(try StreamingRecognizer(transcriber: transcriber, options: bad))
        }
    }

    func testJSONLine() {
        let r = StreamResult(
            type: .final, text: "ONE", start: 1.23456, end: 2, words: [Word(word: "ONE", start: 1.3, end: 1.9, confidence: 0.912345)])
        XCTAssertEqual(
            r.jsonLine,
            #"{"end":2,"start":1.235,"text":"ONE","type":"final","words":[{"confidence":0.9123,"end":1.9,"start":1.3,"word":"ONE"}]}"#)
    }
}

import Foundation
import HarkAudio
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkASR

/// The model directory format against PyTorch's `HarkCTC` (python/hark_ctc.py):
/// a model written by PyTorch (scripts/make_model_fixtures.py) loads into Hark
/// and gives PyTorch's log-probabilities for the same features.
final class ModelFormatTests: XCTestCase {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures")

    func testPyTorchModelGivesPyTorchLogProbs() throws {
        let model = try AcousticModel.load(directory: fixtures.appendingPathComponent("torch-model"))
        XCTAssertEqual(model.config.network.cell, .gru)
        let io = try SafeTensorsFile.read(fixtures.appendingPathComponent("torch-model-io.safetensors"))
        let input = io.tensors["input"]!, expected = io.tensors["log_probs"]!
        let x = Matrix(rows: input.shape[0], cols: input.shape[1], data: try input.floats())
        let lp = model.logProbabilities(x)
        // ≤ 1e-4: the same float32 network on both sides.
        let r = assertClose(
            lp, Matrix(rows: expected.shape[0], cols: expected.shape[1], data: try expected.floats()),
            absolute: 1e-4, "log-probs vs PyTorch")
        print("PyTorch HarkCTC vs Hark log-probs: \(r)")
        // And Hark's own features of the same recording equal the Python
        // pipeline's (torchaudio fbank, CMVN, stacking) to the feature tolerance.
        let audio = try AudioLoader.load(repositoryRoot.appendingPathComponent("audio/an52-mmaf-b.wav").path)
        assertClose(model.inputFeatures(audio.waveform.samples), x, absolute: 2e-3, "features vs python/hark_ctc.py")
    }

    /// A model with every newer part — a convolutional front end with
    /// Hardtanh, LSTM projections, CMVN over the speech frames — written by
    /// PyTorch: Hark loads it (its parameter names and shapes are PyTorch's),
    /// gives PyTorch's log-probabilities, computes the Python pipeline's
    /// features of the same padded recording, and saves it back unchanged.
    func testPyTorchModelWithFrontEndAndProjections() throws {
        let directory = fixtures.appendingPathComponent("torch-model-conv")
        let model = try AcousticModel.load(directory: directory)
        XCTAssertEqual(model.config.network.projSize, 16)
        XCTAssertEqual(model.config.timeStride, 2)
        XCTAssertEqual(model.namedParameters.first?.0, "frontend.0.weight")
        let io = try SafeTensorsFile.read(fixtures.appendingPathComponent("torch-model-conv-io.safetensors"))
        let input = io.tensors["input"]!, expected = io.tensors["log_probs"]!
        let x = Matrix(rows: input.shape[0], cols: input.shape[1], data: try input.floats())
        XCTAssertEqual(model.config.networkFrames(featureFrames: x.rows), expected.shape[0])
        assertClose(
            model.logProbabilities(x), Matrix(rows: expected.shape[0], cols: expected.shape[1], data: try expected.floats()),
            absolute: 1e-4, "log-probs vs PyTorch")
        let samples = try io.tensors["samples"]!.floats()
        assertClose(model.inputFeatures(samples), x, absolute: 2e-3, "features (speech-frame CMVN) vs python/hark_ctc.py")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let again = try AcousticModel.load(directory: dir)
        XCTAssertEqual(again.config, model.config)
        XCTAssertEqual(again.parameters.map(\.value), model.parameters.map(\.value))
    }

    func testSaveLoadRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try AcousticModel.load(directory: fixtures.appendingPathComponent("torch-model"))
        try a.save(to: dir)
        let b = try AcousticModel.load(directory: dir)
        XCTAssertEqual(a.config, b.config)
        XCTAssertEqual(a.parameters.map(\.value), b.parameters.map(\.value))
        XCTAssertEqual(
            try SafeTensorsFile.read(dir.appendingPathComponent("model.safetensors")).order,
            a.namedParameters.map(\.name))
    }

    func testMalformedModelsGiveClearErrors() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = fixtures.appendingPathComponent("torch-model")
        let config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        func expect(_ configText: String?, weights: Bool = true, _ fragment: String, line: UInt = #line) throws {
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            if let configText { try configText.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8) }
            if weights {
                try FileManager.default.copyItem(
                    at: source.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("model.safetensors"))
            }
            XCTAssertThrowsError(try AcousticModel.load(directory: dir), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \"\(fragment)\"", line: line)
            }
        }
        try expect(nil, "no config.json")
        try expect("{ not json", "config.json")
        try expect(config.replacingOccurrences(of: "\"hidden_size\": 16", with: "\"hidden_size\": 17"), "the network of config.json has")
        try expect(config.replacingOccurrences(of: "\"hidden_size\": 16", with: "\"hidden_size\": 15"), "has shape")
        try expect(config.replacingOccurrences(of: "\"input_size\": 40", with: "\"input_size\": 41"), "network.input_size 41 must be")
        try expect(
            config.replacingOccurrences(of: "\"num_layers\": 2", with: "\"num_layers\": 1"), "unexpected tensor \"rnn.weight_ih_l1\"")
        try expect(config, weights: false, "model.safetensors: no such file")
        try expect(
            config.replacingOccurrences(of: "\"sample_rate\": 16000", with: "\"sample_rate\": 8000"),
            "differs from features.sample_frequency")
    }
}

final class TextAndScoringTests: XCTestCase {
    func testNormalizerAndVocabulary() {
        let n = TextNormalizer()
        XCTAssertEqual(n.normalize("  Hello,   World! it's 42 "), "HELLO WORLD IT'S")
        let v = Vocabulary.characters(of: ["AB A", "C"])
        XCTAssertEqual(v.tokens, ["<blank>", " ", "A", "B", "C"])
        XCTAssertEqual(v.encode("CAB A"), [4, 2, 3, 1, 2])
        XCTAssertNil(v.encode("D"))
        XCTAssertEqual(v.decode([4, 0, 2]), "CA")
        XCTAssertEqual(TextNormalizer(tokens: v.tokens, blank: 0).keep, " ABC")
    }

    func testEditCounts() {
        let c = EditCounts.words(reference: "A B C D", hypothesis: "A X C D E")
        XCTAssertEqual(c, EditCounts(substitutions: 1, deletions: 0, insertions: 1, referenceLength: 4))
        XCTAssertEqual(c.rate, 0.5)
        let d = EditCounts.characters(reference: "ENTER SEVEN", hypothesis: "TER SEVE")
        XCTAssertEqual(d.errors, 3)
        XCTAssertEqual(d.deletions, 3)
        // Not capped: many insertions give a rate above 1.
        XCTAssertEqual(EditCounts.words(reference: "A", hypothesis: "B C D").rate, 3)
        XCTAssertEqual(EditCounts.words(reference: "", hypothesis: "").rate, 0)
    }

    func testFrameStacking() {
        let x = Matrix(rows: 5, cols: 2, data: (0..<10).map(Float.init))
        let s = stackFrames(x, by: 2)
        XCTAssertEqual(s.shape, [2, 4])
        XCTAssertEqual(s.data, [0, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(stackFrames(x, by: 1), x)
    }

    func testSubtitleFormats() {
        let t = Transcript(
            text: "ENTER SEVEN GO",
            words: [
                Word(word: "ENTER", start: 0.51, end: 0.9, confidence: 0.8),
                Word(word: "SEVEN", start: 1.2, end: 1.5, confidence: 0.7),
                Word(word: "GO", start: 3661.2, end: 3661.5, confidence: 0.9)
            ],
            duration: 3662)
        // A cue spans at most 7 s: GO starts a second one, an hour later.
        XCTAssertEqual(
            TranscriptFormat.srt.render(t, source: "x.wav"),
            "1\n00:00:00,510 --> 00:00:01,500\nENTER SEVEN\n\n2\n01:01:01,200 --> 01:01:01,500\nGO\n")
        XCTAssertEqual(
            TranscriptFormat.vtt.render(t, source: "x.wav"),
            "WEBVTT\n\n00:00:00.510 --> 00:00:01.500\nENTER SEVEN\n\n01:01:01.200 --> 01:01:01.500\nGO\n")
        XCTAssertTrue(TranscriptFormat.json.render(t, source: "x.wav").contains("\"start\":0.51"))
    }

    /// Configurations the config.json fuzzer found crashing (Fuzz/reproducers/config-*) are refused with an error.
    func testConfigFuzzReproducersAreRefused() throws {
        let folder = repositoryRoot.appendingPathComponent("Fuzz/reproducers")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("config-") }
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            XCTAssertThrowsError(try JSONDecoder().decode(ModelConfig.self, from: data).validate(), name) { error in
                XCTAssertTrue("\(error)".contains("frame_length"), "\(name): \(error)")
            }
        }
    }
}

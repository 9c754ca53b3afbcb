import Foundation
import HarkCTC
import HarkCore
import HarkIO
import HarkNN
import HarkTestSupport
import XCTest

@testable import HarkASR

/// The parts of training, each on its own: the checkpoint format, optimizer
/// state through the protocol, one step, the log's event lines, the evaluator
/// and the ordered runner.
final class TrainingPartsTests: XCTestCase {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures")

    /// A small model (the PyTorch-written GRU fixture) and three synthetic utterances.
    func makeTrainer(optimizer: TrainingOptions.OptimizerKind, out: URL) throws -> Trainer {
        let model = try AcousticModel.load(directory: fixtures.appendingPathComponent("torch-model"))
        var rng = SeededGenerator(seed: 4)
        let F = model.config.features.dimension
        let utterances = [("AB", 30), ("BA A", 40), ("B", 20)].map { text, frames -> Utterance in
            let features = Matrix(
                rows: frames * model.config.stackFrames, cols: F,
                data: (0..<(frames * model.config.stackFrames * F)).map { _ in rng.nextGaussian() })
            let labels = model.vocabulary.encode(text)!
            return Utterance(path: text, text: text, labels: labels, features: features, inputFrames: frames)
        }
        var options = TrainingOptions()
        options.optimizer = optimizer
        options.batchSize = 2
        options.epochs = 2
        options.checkpointEvery = 1
        return Trainer(
            model: model, options: options, train: utterances, valid: Array(utterances.prefix(1)),
            outDirectory: out, threads: 2)
    }

    /// Every tensor and field of a checkpoint survives a write and a read,
    /// under the documented names; a restored run takes the same next step.
    func testCheckpointRoundTripAndExactContinuation() throws {
        for kind in [TrainingOptions.OptimizerKind.adam, .sgd] {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let a = try makeTrainer(optimizer: kind, out: dir)
            _ = a.step(batch: [0, 1])
            _ = a.step(batch: [2])
            try a.saveCheckpoint()
            let file = try SafeTensorsFile.read(dir.appendingPathComponent(Checkpoint.fileName))
            XCTAssertTrue(file.order.contains("model.rnn.weight_ih_l0"))
            XCTAssertEqual(Set(file.metadata.keys).isSuperset(of: ["state", "options", "config"]), true)
            if kind == .adam {
                XCTAssertNotNil(file.tensors["optimizer.m.0"])
                XCTAssertNotNil(file.tensors["optimizer.v.\(a.model.parameters.count - 1)"])
                XCTAssertEqual(file.metadata["optimizer_step"], "2")
                XCTAssertEqual(file.tensors["optimizer.m.0"]!.shape, a.model.parameters[0].shape)
            }
            let read = try Checkpoint.read(from: dir)
            XCTAssertEqual(read.state, a.state)
            XCTAssertEqual(read.options, a.options)
            XCTAssertEqual(read.optimizer, a.optimizer.state)

            let b = try makeTrainer(optimizer: kind, out: dir)
            try b.resume()
            XCTAssertEqual(b.state, a.state)
            XCTAssertEqual(b.model.parameters.map(\.value), a.model.parameters.map(\.value))
            let ra = a.step(batch: [1, 2]), rb = b.step(batch: [1, 2])
            XCTAssertEqual(ra.loss, rb.loss)
            XCTAssertEqual(b.model.parameters.map(\.value), a.model.parameters.map(\.value), "\(kind): the next step is identical")
        }
    }

    /// A saved optimizer state that does not fit the model is refused, naming the buffer.
    func testOptimizerStateMustFitTheParameters() {
        let adam = Adam()
        XCTAssertThrowsError(try adam.restore(OptimizerState(buffers: ["m": [[0, 0]], "v": [[0, 0]]], step: 1), parameterSizes: [2, 3])) {
            XCTAssertTrue("\($0)".contains("optimizer m: 1 buffers for 2 parameters"), "\($0)")
        }
        XCTAssertThrowsError(try adam.restore(OptimizerState(buffers: ["m": [[0, 0]], "v": [[0]]], step: 1), parameterSizes: [2])) {
            XCTAssertTrue("\($0)".contains("optimizer v.0: 1 values for a parameter of 2"), "\($0)")
        }
        XCTAssertThrowsError(try adam.restore(OptimizerState(buffers: ["m": [[0, 0]]], step: 1), parameterSizes: [2]))
        XCTAssertThrowsError(try adam.restore(OptimizerState(step: -3), parameterSizes: [2]))
        XCTAssertNoThrow(try adam.restore(OptimizerState(buffers: ["m": [[1, 2]], "v": [[3, 4]]], step: 7), parameterSizes: [2]))
        XCTAssertEqual(adam.state, OptimizerState(buffers: ["m": [[1, 2]], "v": [[3, 4]]], step: 7))
        let sgd = SGD(learningRate: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try sgd.restore(OptimizerState(buffers: ["momentum": [[1]]]), parameterSizes: [2]))
    }

    /// The log's JSON lines keep their keys: `type` plus the payload's fields, absent values left out.
    func testEventLinesKeepTheirFormat() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let step = TrainingEvent.step(
            .init(
                epoch: 1, step: 7, loss: 2.5, learningRate: 0.5, gradNorm: nil,
                framesPerSecond: 100, skippedNonFinite: 1, elapsed: 3, etaSeconds: 4))
        XCTAssertEqual(
            String(decoding: try encoder.encode(step), as: UTF8.self),
            #"{"elapsed":3,"epoch":1,"eta_s":4,"frames_per_s":100,"loss":2.5,"lr":0.5,"skipped_nonfinite":1,"step":7,"type":"step"}"#)
        let epoch = TrainingEvent.epoch(.init(epoch: 2, step: 9, validCER: 0.25, validWER: 0.5, best: true, elapsed: 6))
        XCTAssertEqual(
            String(decoding: try encoder.encode(epoch), as: UTF8.self),
            #"{"best":true,"elapsed":6,"epoch":2,"step":9,"type":"epoch","valid_cer":0.25,"valid_wer":0.5}"#)
        for e in [step, epoch] {
            XCTAssertEqual(try JSONDecoder().decode(TrainingEvent.self, from: encoder.encode(e)), e)
        }
        XCTAssertThrowsError(
            try JSONDecoder().decode(TrainingEvent.self, from: Data(#"{"type":"lap","epoch":0,"step":0,"elapsed":0}"#.utf8)))
    }

    /// A step whose loss is not finite leaves the weights alone and is counted.
    func testNonFiniteStepIsSkipped() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try makeTrainer(optimizer: .adam, out: dir)
        let before = t.model.parameters.map(\.value)
        t.model.output.parameters[1].value[0] = .nan
        let r = t.step(batch: [0])
        XCTAssertFalse(r.applied)
        XCTAssertEqual(t.state.skippedNonFinite, 1)
        XCTAssertEqual(t.state.step, 1)
        XCTAssertEqual(Array(t.model.parameters.map(\.value).dropLast()), Array(before.dropLast()))
    }

    /// Validation and `hark eval` share the evaluator: normalisation, decoding, counts.
    func testEvaluatorScoresNormalisedText() throws {
        let model = try AcousticModel.load(directory: fixtures.appendingPathComponent("torch-model"))
        let e = Evaluator(model: model)
        let s = e.score(reference: "  ab  b", hypothesis: "AB BA")
        XCTAssertEqual(s.reference, "AB B")
        XCTAssertEqual(s.hypothesis, "AB BA")
        XCTAssertEqual(s.characters.errors, 1)
        XCTAssertEqual(s.words.errors, 1)
        var totals = Evaluator.Totals()
        totals.add(s); totals.add(s)
        XCTAssertEqual(totals.utterances, 2)
        XCTAssertEqual(totals.characters.errors, 2)
        // Exactly right once normalised: not a sentence error.
        let right = e.score(reference: "ab  b ", hypothesis: "AB B")
        XCTAssertFalse(right.isWrong)
        XCTAssertTrue(s.isWrong)
        totals.add(right)
        XCTAssertEqual(totals.wrongUtterances, 2)
        XCTAssertEqual(totals.sentenceErrorRate, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(Evaluator.Totals().sentenceErrorRate, 0)
    }

    /// Results and errors come out in input order, whatever the threads do.
    func testOrderedRunnerKeepsInputOrder() {
        struct Odd: Error {}
        var seen: [String] = []
        processInOrder(
            Array(0..<100), threads: 3,
            work: { i -> Int in
                if i % 7 == 3 { throw Odd() }
                usleep(UInt32((100 - i) * 10))
                return i * i
            },
            emit: { index, item, result in
                XCTAssertEqual(result, item * item)
                seen.append("\(index)")
            }, failed: { index, _, _ in seen.append("!\(index)") })
        XCTAssertEqual(seen, (0..<100).map { $0 % 7 == 3 ? "!\($0)" : "\($0)" })
    }
}

/// The groups of similar length a batch goes through the network in.
final class LengthGroupTests: XCTestCase {
    func testGroupsOfSimilarLength() {
        // Similar lengths: one group, the batch as it came.
        XCTAssertEqual(Batching.lengthGroups([100, 90, 95, 80, 99]), [[0, 1, 2, 3, 4]])
        // Joined and padded examples among plain ones: the long ones apart.
        let lengths = [100, 300, 90, 110, 280, 95, 105, 98, 310, 102]
        let groups = Batching.lengthGroups(lengths)
        XCTAssertEqual(groups, [[8, 1, 4, 3], [6, 9, 0, 7, 5, 2]])
        XCTAssertEqual(Set(groups.flatMap { $0 }), Set(lengths.indices), "every example once")
        XCTAssertEqual(groups.count, 2)
        XCTAssertEqual(groups[0].count, 4, "the three long ones and the next, a group has at least 4")
        for g in groups { XCTAssertEqual(g.map { lengths[$0] }, g.map { lengths[$0] }.sorted(by: >)) }
        // The padded work falls: Σ groups (count × longest) against batch × longest.
        let padded = groups.reduce(0) { $0 + $1.count * lengths[$1[0]] }
        XCTAssertLessThan(padded, lengths.count * 310 * 2 / 3)
    }
}

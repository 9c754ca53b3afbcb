import Foundation
import HarkCore
import HarkNN
import HarkTestSupport
import XCTest

@testable import HarkASR

/// Data-parallel training with ranks as threads (`LocalGroup`): N ranks
/// sharing each batch take the steps one process takes.
final class DataParallelTests: XCTestCase {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/HarkASRTests/Fixtures")

    func trainer(_ out: URL, specAugment: Bool) throws -> Trainer {
        let model = try AcousticModel.load(directory: fixtures.appendingPathComponent("torch-model"))
        var rng = SeededGenerator(seed: 9)
        let F = model.config.features.dimension
        let utterances = [("AB", 30), ("BA A", 40), ("B", 20), ("A B", 35), ("BB", 25)].map { text, frames -> Utterance in
            let features = Matrix(
                rows: frames * model.config.stackFrames, cols: F,
                data: (0..<(frames * model.config.stackFrames * F)).map { _ in rng.nextGaussian() })
            return Utterance(path: text, text: text, labels: model.vocabulary.encode(text)!, features: features, inputFrames: frames)
        }
        var options = TrainingOptions()
        options.batchSize = 5
        var masks = SpecAugment()
        masks.maxFrequencyWidth = 2
        masks.maxTimeWidth = 4
        options.specAugment = specAugment ? masks : nil
        return Trainer(model: model, options: options, train: utterances, valid: [], outDirectory: out, threads: 1)
    }

    /// The weights after `steps` steps on the whole batch, for each rank.
    func train(ranks: Int, specAugment: Bool) throws -> [[Float]] {
        let out = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        return try LocalGroup.run(size: ranks) { collective -> Result<[Float], Error> in
            Result {
                let t = try self.trainer(out.appendingPathComponent("rank\(collective.rank)"), specAugment: specAugment)
                t.collective = collective
                for _ in 0..<6 { _ = t.step(batch: [0, 1, 2, 3, 4]) }
                return t.model.parameters.flatMap(\.value)
            }
        }.map { try $0.get() }
    }

    func testRanksTakeTheStepsOfOneProcess() throws {
        for specAugment in [false, true] {
            let reference = try train(ranks: 1, specAugment: specAugment)[0]
            for n in [2, 3] {
                let ranks = try train(ranks: n, specAugment: specAugment)
                for (r, weights) in ranks.enumerated() {
                    XCTAssertEqual(weights, ranks[0], "rank \(r) holds rank 0's weights")
                    let worst = zip(weights, reference).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(n) ranks, SpecAugment \(specAugment)")
                }
                XCTAssertNotEqual(
                    ranks[0],
                    try self.trainer(URL(fileURLWithPath: "/nonexistent"), specAugment: specAugment).model.parameters.flatMap(\.value),
                    "the steps changed the weights")
            }
        }
    }

    func testShareOfABatch() {
        let shares = LocalGroup.run(size: 3) { $0.share(of: 5) }
        XCTAssertEqual(shares, [0..<1, 1..<3, 3..<5])
        XCTAssertEqual(LocalGroup.run(size: 4) { $0.share(of: 2) }.map(\.count), [0, 1, 0, 1])
        XCTAssertEqual(
            LocalGroup.run(size: 3) { c -> [Float] in
                var v: [Float] = [Float(c.rank), 1]; c.allreduceSum(&v); return v
            },
            [[3, 3], [3, 3], [3, 3]])
    }
}

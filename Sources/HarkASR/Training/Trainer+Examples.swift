import Foundation
import HarkCore
import HarkFeatures

/// The examples a step trains on: each utterance's features, or with
/// augmentation its audio joined, augmented and warped afresh.
extension Trainer {
    /// One training example: features [T, F] (before stacking) and the labels of its transcript.
    public struct Example: Sendable {
        /// The features [T, F], before stacking (CMVN and deltas applied).
        public var features: Matrix
        /// The transcript's token indices.
        public var labels: [Int]
    }

    /// The examples of the batch's utterances: their features computed once
    /// at load, or, with augmentation, each utterance's audio augmented
    /// afresh (on `threads` threads; utterance i of the batch draws from the
    /// stream (seed, step, i), so results do not depend on the thread count):
    /// joined with others drawn from the training set (`joinProbability`),
    /// augmented (`Augmentation.apply`), then its features computed with a
    /// warped filterbank (`vtlnWarps`). An example that augmentation made too
    /// short for its transcript is the utterance's plain features.
    /// `offset`: the place of `members[0]` in the whole batch (a rank's share starts there).
    func batchExamples(_ members: [Int], step: Int, offset: Int = 0) -> [Example] {
        let utterances = train
        let plain = { (u: Utterance) in Example(features: u.features, labels: u.labels) }
        guard let augmentation = options.augmentation, augmentation.isActive else { return members.map { plain(utterances[$0]) } }
        let sources = Augmentation.NoiseSources(recordings: noiseRecordings) { rng in
            utterances[Int(rng.next() % UInt64(utterances.count))].samples ?? []
        }
        let step = UInt64(step)
        let rate = model.config.sampleRate
        let space = model.vocabulary.tokens.firstIndex(of: " ")
        var out = [Example?](repeating: nil, count: members.count)
        let lock = NSLock()
        parallelChunks(count: members.count, threads: threads) { range in
            for i in range {
                let u = utterances[members[i]]
                var rng = SeededGenerator(seed: self.options.seed ^ 0xA0D1_0A06, stream: step << 20 | UInt64(offset + i))
                var example = plain(u)
                if var samples = u.samples {
                    var labels = u.labels
                    // Joined only when the tokens have a space to join the transcripts with.
                    let count = space == nil ? 1 : augmentation.drawJoinCount(&rng)
                    if count > 1 {
                        var parts = [samples]
                        for _ in 1..<count {
                            let other = utterances[Int(rng.next() % UInt64(utterances.count))]
                            parts.append(other.samples ?? [])
                            labels += [space!] + other.labels
                        }
                        samples = augmentation.join(parts, sampleRate: rate, rng: &rng)
                    }
                    // An utterance alone: its speed-perturbed copies are made once and kept.
                    let original = samples, index = members[i]
                    let speedChanged: ((Double) throws -> [Float])? =
                        count > 1
                        ? nil
                        : { factor in
                            try self.speedCopies.samples(index, factor: factor) {
                                try augmentation.changeSpeed(original, by: factor, sampleRate: rate)
                            }
                        }
                    if let augmented = try? augmentation.apply(
                        samples, sampleRate: rate, noise: sources, rng: &rng, speedChanged: speedChanged)
                    {
                        let warp = augmentation.drawWarp(&rng)
                        let g = self.extractor(warp: warp).compute(augmented)
                        if self.model.config.networkFrames(featureFrames: g.rows) >= Dataset.minimumFrames(labels) {
                            example = Example(features: g, labels: labels)
                        }
                    }
                }
                lock.lock(); out[i] = example; lock.unlock()
            }
        }
        return out.map { $0! }
    }

    /// The model's feature extractor, its filterbank warped by `warp` (nil or 1: the model's own).
    func extractor(warp: Double?) -> FeatureExtractor {
        guard let warp, warp != 1 else { return model.extractor }
        let key = Int((warp * 100).rounded())
        extractorLock.lock()
        defer { extractorLock.unlock() }
        if let e = warpedExtractors[key] { return e }
        var options = model.config.features
        options.mel.vtlnWarp = Double(key) / 100
        // A warp the band cannot take (validated ranges make this rare) leaves the filterbank as it is.
        let e = (try? FeatureExtractor(options)) ?? model.extractor
        warpedExtractors[key] = e
        return e
    }
}

import Foundation
import HarkCore
import HarkNN

/// The end of each epoch: validation, the best model kept, patience, and
/// the epochs kept for averaging (`--average-best`).
extension Trainer {
    /// Keeps this epoch's weights when its CER is among the `averageBest`
    /// lowest so far (an earlier epoch wins a tie), dropping the one it displaces.
    /// `cer`: the epoch's value of the selection metric (CER unless `selectBy` says otherwise).
    func keepIfAmongBest(cer: Double) throws {
        var kept = state.kept
        guard kept.count < options.averageBest || cer < kept.map(\.validCER).max()! else { return }
        kept.append(.init(epoch: state.epoch, validCER: cer))
        kept.sort { ($0.validCER, $0.epoch) < ($1.validCER, $1.epoch) }
        var dropped: [TrainingState.KeptEpoch] = []
        while kept.count > options.averageBest { dropped.append(kept.removeLast()) }
        if collective.isRoot {
            if !dropped.contains(where: { $0.epoch == state.epoch }) {
                try FileWriting.writeAtomically(
                    StateDict.file(model.namedParameters, metadata: ["format": "pt"]).encode(),
                    to: ModelAveraging.epochFile(state.epoch, in: outDirectory))
            }
            for d in dropped { try? FileManager.default.removeItem(at: ModelAveraging.epochFile(d.epoch, in: outDirectory)) }
        }
        state.kept = kept
    }

    /// The model becomes the mean of the kept epochs' weights, is validated
    /// and saved (the run's last weights stay in its checkpoint).
    /// Under MPI the kept files are rank 0's, which averages and validates alone.
    func averageKept() throws {
        guard collective.isRoot else { return }
        let epochs = state.kept.map(\.epoch).sorted()
        try ModelAveraging.average(epochs.map { ModelAveraging.epochFile($0, in: outDirectory) }, into: model)
        let cer = valid.isEmpty ? nil : evaluator.evaluate(valid, threads: threads).characters.rate
        try model.save(to: outDirectory)
        averaged = (epochs, cer)
    }

    /// Validates, keeps the best model, counts epochs without progress, checkpoints.
    func endEpoch(elapsed: () -> Double) throws {
        var report = TrainingEvent.EpochReport(epoch: state.epoch, step: state.step, elapsed: elapsed())
        if !valid.isEmpty {
            let totals = validate()
            let cer = totals.characters.rate
            report.validCER = cer
            report.validWER = totals.words.rate
            report.validLoss = totals.meanLoss
            let value: Double
            switch options.selectBy {
            case .cer: value = cer
            case .wer: value = totals.words.rate
            case .loss: value = totals.meanLoss ?? .infinity
            }
            report.best = state.bestValue.map { value < $0 } ?? true
            if report.best! {
                state.bestValue = value
                state.bestCER = cer
                state.bestEpoch = state.epoch
                state.badEpochs = 0
                if collective.isRoot { try model.save(to: outDirectory) }
            } else {
                state.badEpochs += 1
            }
            if options.averageBest > 0 { try keepIfAmongBest(cer: value) }
        } else if collective.isRoot {
            try model.save(to: outDirectory)
        }
        state.epoch += 1
        state.batch = 0
        if state.badEpochs >= options.patience && !state.finished && state.epoch < options.epochs {
            state.finished = true
            state.stopReason =
                "patience: \(options.patience) epoch(s) without a better validation \(options.selectBy.rawValue.uppercased())"
        }
        state.seconds = elapsed()
        try saveCheckpoint()
        try log(.epoch(report))
    }

    /// Greedy edit counts on the validation set: each rank scores its share,
    /// the counts are summed.
    func validate() -> Evaluator.Totals {
        let totals = evaluator.evaluate(Array(valid[collective.share(of: valid.count)]), threads: threads)
        return GradientAllReduce(collective: collective).sum(totals)
    }

    /// Greedy CER and WER of the model on `utterances`.
    public func evaluate(_ utterances: [Utterance]) -> (EditCounts, EditCounts) {
        let t = evaluator.evaluate(utterances, threads: threads)
        return (t.characters, t.words)
    }
}

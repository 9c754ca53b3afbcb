import Foundation
import HarkPlot

/// Any bytes as a training run's `train.log.jsonl`, in two pieces split at
/// the first byte's value: `TrainingLog` keeps only plausible events, in
/// increasing step and epoch order, whatever the lines hold.
func fuzzTrainingLog(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Data(data)
    let cut = bytes.isEmpty ? 0 : Int(bytes[bytes.startIndex]) % (bytes.count + 1)
    var log = TrainingLog()
    log.add(bytes.prefix(cut))
    log.add(bytes.dropFirst(cut))
    log.finish()
    precondition(zip(log.steps, log.steps.dropFirst()).allSatisfy { $0.step < $1.step }, "steps out of order")
    precondition(zip(log.epochs, log.epochs.dropFirst()).allSatisfy { $0.epoch < $1.epoch }, "epochs out of order")
    precondition(log.epochs.allSatisfy { ($0.validCER ?? 0).isFinite }, "an impossible CER kept")
}

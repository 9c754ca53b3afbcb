import Foundation
import HarkCore

/// A training run's log, `train.log.jsonl` in its output directory: one
/// `TrainingEvent` per line (what `hark report` and `hark plot` read).
struct RunLog {
    static let fileName = "train.log.jsonl"
    let url: URL

    init(directory: URL) { url = directory.appendingPathComponent(Self.fileName) }

    /// Appends the event as one JSON line (all of it or nothing: a failed
    /// append leaves no partial line).
    func append(_ event: TrainingEvent) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(event)
        line.append(0x0A)
        try FileWriting.append(Array(line), to: url.path)
    }

    /// A new run starts a new log: an old run's lines are removed.
    func remove() { try? FileManager.default.removeItem(at: url) }

    /// A resumed run will run again the steps logged after its checkpoint:
    /// their lines (and the epochs not finished at `state`) are dropped.
    func truncate(after state: TrainingState) throws {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let e = try? JSONDecoder().decode(TrainingEvent.self, from: Data(line.utf8)) else { return false }
            if case .epoch = e { return e.epoch < state.epoch }
            return e.step <= state.step
        }
        try FileWriting.writeAtomically(Array(kept.map { $0 + "\n" }.joined().utf8), to: url)
    }
}

import Dispatch
import Foundation
import HarkAudio
import HarkCore
import HarkIO

/// One training or validation utterance, features computed once.
public struct Utterance: Sendable {
    public var path: String
    /// The normalised transcript and its token indices.
    public var text: String
    public var labels: [Int]
    /// Features before stacking (CMVN and deltas applied), [T, F].
    public var features: Matrix
    /// Frames after stacking.
    public var inputFrames: Int
}

/// Utterances left out of a data set, by reason.
public struct DatasetReport: Sendable {
    public var loaded = 0
    /// Unreadable or broken audio: path and message.
    public var unreadable: [(String, String)] = []
    /// Transcripts with characters the vocabulary lacks, or empty after normalisation.
    public var untokenizable: [String] = []
    /// Transcripts that cannot fit their frames (CTC needs T ≥ L + repeats).
    public var tooLong: [String] = []
    public var audioSeconds = 0.0

    public init() {}
}

public enum Dataset {
    /// CTC needs one frame per label plus one blank between each pair of equal neighbours.
    public static func minimumFrames(_ labels: [Int]) -> Int {
        labels.count + zip(labels, labels.dropFirst()).filter { $0 == $1 }.count
    }

    /// Reads a manifest's entries and computes their features on `threads` threads.
    public static func load(_ entries: [ManifestEntry], model: AcousticModel, threads: Int,
                            progress: ((Int, Int) -> Void)? = nil) -> ([Utterance], DatasetReport) {
        let lock = NSLock()
        var slots = [Utterance?](repeating: nil, count: entries.count)
        var report = DatasetReport()
        var done = 0
        let options = AudioLoadOptions(targetSampleRate: model.config.sampleRate)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, entries.count))) { worker in
            var i = worker
            while i < entries.count {
                let e = entries[i]
                let text = model.config.text.normalize(e.text ?? "")
                do {
                    guard let labels = model.vocabulary.encode(text), !labels.isEmpty else {
                        lock.lock(); report.untokenizable.append(e.audioPath); lock.unlock()
                        i += threads
                        continue
                    }
                    let audio = try AudioLoader.load(e.audioPath, options: options)
                    let features = model.extractor.compute(audio.waveform.samples)
                    let frames = features.rows / model.config.stackFrames
                    lock.lock()
                    if frames < minimumFrames(labels) {
                        report.tooLong.append(e.audioPath)
                    } else {
                        slots[i] = Utterance(path: e.audioPath, text: text, labels: labels, features: features, inputFrames: frames)
                        report.loaded += 1
                        report.audioSeconds += audio.waveform.duration
                    }
                    lock.unlock()
                } catch {
                    lock.lock(); report.unreadable.append((e.audioPath, "\(error)")); lock.unlock()
                }
                lock.lock(); done += 1; let d = done; lock.unlock()
                progress?(d, entries.count)
                i += threads
            }
        }
        return (slots.compactMap { $0 }, report)
    }
}

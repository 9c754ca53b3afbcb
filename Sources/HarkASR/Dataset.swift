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
    /// The waveform at the model's rate, kept when training augments audio.
    public var samples: [Float]?
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

    /// Reads a manifest's entries and computes their features on `threads`
    /// threads; utterances keep the manifest's order.
    ///
    /// - Parameter keepAudio: keep each utterance's waveform (for augmentation).
    public static func load(_ entries: [ManifestEntry], model: AcousticModel, threads: Int, keepAudio: Bool = false,
                            progress: ((Int, Int) -> Void)? = nil) -> ([Utterance], DatasetReport) {
        /// Why an entry is left out, besides unreadable audio.
        enum Skip: Error { case untokenizable, tooLong }
        var utterances: [Utterance] = []
        var report = DatasetReport()
        let options = AudioLoadOptions(targetSampleRate: model.config.sampleRate)
        var done = 0
        processInOrder(entries, threads: threads, work: { e -> (Utterance, Double) in
            let text = model.config.text.normalize(e.text ?? "")
            guard let labels = model.vocabulary.encode(text), !labels.isEmpty else { throw Skip.untokenizable }
            let audio = try AudioLoader.load(e.audioPath, options: options)
            let features = model.extractor.compute(audio.waveform.samples)
            let frames = features.rows / model.config.stackFrames
            guard frames >= minimumFrames(labels) else { throw Skip.tooLong }
            return (Utterance(path: e.audioPath, text: text, labels: labels, features: features, inputFrames: frames,
                              samples: keepAudio ? audio.waveform.samples : nil),
                    audio.waveform.duration)
        }, emit: { _, _, result in
            utterances.append(result.0)
            report.loaded += 1
            report.audioSeconds += result.1
            done += 1
            progress?(done, entries.count)
        }, failed: { _, e, error in
            switch error {
            case Skip.untokenizable: report.untokenizable.append(e.audioPath)
            case Skip.tooLong: report.tooLong.append(e.audioPath)
            default: report.unreadable.append((e.audioPath, "\(error)"))
            }
            done += 1
            progress?(done, entries.count)
        })
        return (utterances, report)
    }
}

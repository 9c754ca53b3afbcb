import Foundation
import HarkASR
import HarkAudio
import HarkCore
import HarkFeatures

extension AudioFigure {
    /// Longest window a figure shows: a picture of more is unreadable anyway,
    /// and memory stays bounded (10 minutes at 16 kHz is 38 MB of samples).
    public static let maxSeconds = 600.0

    /// Mel bins of the spectrogram (fewer at low sample rates, where 80 would leave filters without an FFT bin).
    static func melBins(sampleRate: Int) -> Int { sampleRate >= 16_000 ? 80 : 40 }

    /// The figure of the window [start, end) of a recording (end nil: to the
    /// end of the recording), read as a stream so only the window is held.
    /// With a transcriber, the audio is resampled to its model's rate and the
    /// posteriorgram shows what the model hears in the window alone (with
    /// per-utterance CMVN, statistics of the window).
    public static func read(path: String, transcriber: Transcriber?, start: Double = 0, end: Double? = nil,
                            channel: ChannelSelection = .average, width: Int = 1200) throws -> AudioFigure {
        guard start >= 0, start.isFinite else { throw PlotError("--start \(start) must be a time ≥ 0 in seconds") }
        if let end { guard end.isFinite, end > start else { throw PlotError("--end \(end) must come after --start \(start)") } }
        var options = AudioLoadOptions(channel: channel)
        options.targetSampleRate = transcriber?.model.config.sampleRate
        let reader = try AudioReader(path, options: options)
        let rate = reader.sampleRate
        let first = Int((start * Double(rate)).rounded())
        let last = end.map { Int(($0 * Double(rate)).rounded()) }
        if let last, Double(last - first) / Double(rate) > maxSeconds {
            throw PlotError("\(path): a window of \(String(format: "%.0f", Double(last - first) / Double(rate))) s is longer than \(Int(maxSeconds)) s; choose a shorter one with --start and --end")
        }
        var samples: [Float] = []
        var position = 0
        while let block = try reader.read() {
            let lo = max(first - position, 0), hi = min(block.count, (last ?? Int.max) - position)
            if lo < hi { samples.append(contentsOf: block[lo..<hi]) }
            position += block.count
            if let last, position >= last { break }
            if Double(samples.count) / Double(rate) > maxSeconds {
                throw PlotError("\(path): longer than \(Int(maxSeconds)) s after --start; choose a window with --start and --end")
            }
        }
        if samples.isEmpty {
            throw PlotError("\(path): no audio in the window from \(start) s (the recording is \(String(format: "%.2f", Double(position) / Double(rate))) s long)")
        }
        let name = (path as NSString).lastPathComponent
        let window = first > 0 || last != nil
            ? String(format: " [%.2f–%.2f s]", Double(first) / Double(rate), Double(first + samples.count) / Double(rate)) : ""
        return try make(samples: samples, sampleRate: rate, startTime: Double(first) / Double(rate),
                        transcriber: transcriber, title: name + window, width: width)
    }

    /// The figure of samples held in memory (at the transcriber's model rate when one is given).
    public static func make(samples: [Float], sampleRate: Int, startTime: Double = 0, transcriber: Transcriber?,
                            title: String, width: Int = 1200) throws -> AudioFigure {
        var fbank = FbankOptions()
        fbank.frame.sampleFrequency = Double(sampleRate)
        fbank.frame.dither = 0
        fbank.mel.numBins = melBins(sampleRate: sampleRate)
        let extractor = try FeatureExtractor(FeatureOptions(kind: .fbank(fbank)))
        let banks = try MelBanks(options: fbank.mel, sampleFrequency: Double(sampleRate), paddedWindowSize: fbank.frame.paddedWindowSize)
        var figure = AudioFigure(samples: samples, sampleRate: sampleRate, startTime: startTime,
                                 spectrogram: extractor.computeBase(samples), frameShift: fbank.frame.frameShift / 1000,
                                 frameLength: fbank.frame.frameLength / 1000,
                                 binFrequencies: banks.centerFrequencies, title: title, width: width)
        if let transcriber {
            let lp = transcriber.logProbabilities(samples)
            let transcript = transcriber.transcribe(samples: samples)
            // The silence gate empties the transcript; the path is then empty too.
            let path = transcript.text.isEmpty ? [] : (transcriber.decoder.decode(lp).first?.tokens ?? [])
            figure.posteriors = Posteriors(
                logProbabilities: lp, tokens: transcriber.model.config.tokens, secondsPerFrame: transcriber.secondsPerFrame,
                path: path.map { ($0.token, $0.firstFrame, $0.lastFrame) },
                words: transcript.words.compactMap { w in w.start.flatMap { s in w.end.map { (w.word, s, $0) } } })
            figure.title += transcript.text.isEmpty ? ": (nothing heard)" : ": “\(transcript.text)”"
        }
        return figure
    }
}

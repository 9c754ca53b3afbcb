import Foundation
import HarkASR
import HarkAudio
import HarkCore
import HarkFeatures

extension AudioFigure {
    /// Longest window a figure shows: a picture of more is unreadable anyway,
    /// and memory stays bounded.
    public static let maxSeconds = 600.0
    /// Most samples a window holds (600 s at 48 kHz, 115 MB): at higher rates the longest window is shorter.
    public static let maxSamples = 600 * 48_000
    /// Latest start or end accepted, seconds (over 31 years: a mistyped number, not a recording).
    public static let maxTime = 1e9

    /// Checks a window's bounds, in seconds (`hark plot` checks its flags with it too).
    public static func checkWindow(start: Double, end: Double?) throws {
        guard start >= 0, start <= maxTime else { throw PlotError("--start \(start) must be a time from 0 to \(Int(maxTime)) s") }
        guard let end else { return }
        guard end > start, end <= maxTime else {
            throw PlotError("--end \(end) must come after --start \(start) and be at most \(Int(maxTime)) s")
        }
        guard end - start <= maxSeconds else {
            throw PlotError("--start \(start) --end \(end): the window is longer than \(Int(maxSeconds)) s")
        }
    }

    /// Mel bins of the spectrogram (fewer at low sample rates, where 80 would leave filters without an FFT bin).
    static func melBins(sampleRate: Int) -> Int { sampleRate >= 16_000 ? 80 : 40 }

    /// The figure of the window [start, end) of a recording (end nil: to the
    /// end of the recording). The input is read as a stream (standard input, a
    /// pipe or a FIFO live, never held whole), a file skips to `start` when its
    /// format allows, and only the window is kept. With a transcriber, the
    /// audio is resampled to its model's rate and the posteriorgram shows what
    /// the model hears in the window alone (with per-utterance CMVN,
    /// statistics of the window).
    public static func read(
        path: String, transcriber: Transcriber?, start: Double = 0, end: Double? = nil,
        channel: ChannelSelection = .average, width: Int = 1200
    ) throws -> AudioFigure {
        try checkWindow(start: start, end: end)
        var options = AudioLoadOptions(channel: channel)
        options.targetSampleRate = transcriber?.model.config.sampleRate
        let reader = try AudioReader.streaming(path, options: options)
        let rate = reader.sampleRate
        if let declared = reader.declaredSeconds, start >= declared {
            throw PlotError("\(path): no audio in the window from \(start) s (the recording is \(String(format: "%.2f", declared)) s long)")
        }
        let first = Int((start * Double(rate)).rounded())
        let last = end.map { Int(($0 * Double(rate)).rounded()) }
        let limit = min(Int(maxSeconds * Double(rate)), maxSamples)
        func tooLong() -> PlotError {
            PlotError(
                "\(path): the window is longer than \(String(format: "%.0f", Double(limit) / Double(rate))) s at \(rate) Hz (at most \(Int(maxSeconds)) s and \(maxSamples) samples); choose a shorter one with --start and --end"
            )
        }
        if let last, last - first > limit { throw tooLong() }
        var samples: [Float] = []
        var position = try reader.skip(toSeconds: start)
        var windowStart: Int?
        while let block = try reader.read() {
            let lo = max(first - position, 0), hi = min(block.count, (last ?? Int.max) - position)
            if lo < hi {
                if windowStart == nil { windowStart = position + lo }
                samples.append(contentsOf: block[lo..<hi])
            }
            position += block.count
            if let last, position >= last { break }
            if samples.count > limit { throw tooLong() }
        }
        guard let windowStart, !samples.isEmpty else {
            throw PlotError(
                "\(path): no audio in the window from \(start) s (the recording is \(String(format: "%.2f", Double(position) / Double(rate))) s long)"
            )
        }
        let name = path == "-" ? "standard input" : (path as NSString).lastPathComponent
        let t0 = Double(windowStart) / Double(rate)
        let window = start > 0 || last != nil ? String(format: " [%.2f–%.2f s]", t0, t0 + Double(samples.count) / Double(rate)) : ""
        return try make(samples: samples, sampleRate: rate, startTime: t0, transcriber: transcriber, title: name + window, width: width)
    }

    /// The figure of samples held in memory (at the transcriber's model rate when one is given).
    public static func make(
        samples: [Float], sampleRate: Int, startTime: Double = 0, transcriber: Transcriber?,
        title: String, width: Int = 1200
    ) throws -> AudioFigure {
        var fbank = FbankOptions()
        fbank.frame.sampleFrequency = Double(sampleRate)
        fbank.frame.dither = 0
        fbank.mel.numBins = melBins(sampleRate: sampleRate)
        let extractor = try FeatureExtractor(FeatureOptions(kind: .fbank(fbank)))
        let banks = try MelBanks(options: fbank.mel, sampleFrequency: Double(sampleRate), paddedWindowSize: fbank.frame.paddedWindowSize)
        var figure = AudioFigure(
            samples: samples, sampleRate: sampleRate, startTime: startTime,
            spectrogram: extractor.computeBase(samples), frameShift: fbank.frame.frameShift / 1000,
            frameLength: fbank.frame.frameLength / 1000,
            binFrequencies: banks.centerFrequencies, title: title, width: width)
        if let transcriber {
            // What `transcribe(samples:)` gives, with the network run once for both the picture and the words.
            let lp = transcriber.logProbabilities(samples)
            let duration = Double(samples.count) / Double(sampleRate)
            let best = transcriber.isSilence(samples) ? nil : transcriber.decoder.decode(lp).first
            let transcript = transcriber.transcript(best.map { [$0] } ?? [], duration: duration)
            // With the silence gate (or nothing but spaces) the transcript is empty; the path is then empty too.
            let path = transcript.text.isEmpty ? [] : (best?.tokens ?? [])
            figure.posteriors = Posteriors(
                logProbabilities: lp, tokens: transcriber.model.config.tokens, secondsPerFrame: transcriber.secondsPerFrame,
                path: path.map { ($0.token, $0.firstFrame, $0.lastFrame) },
                words: transcript.words.compactMap { w in w.start.flatMap { s in w.end.map { (w.word, s, $0) } } })
            figure.title += transcript.text.isEmpty ? ": (nothing heard)" : ": “\(transcript.text)”"
        }
        return figure
    }
}

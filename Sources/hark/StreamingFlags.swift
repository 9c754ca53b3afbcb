import ArgumentParser
import Foundation
import HarkASR
import HarkAudio

/// Live transcription options of `hark transcribe`.
struct StreamingFlags: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Transcribe the input as a live stream, printing JSON lines as results come: {\"type\": \"partial\" or \"final\", \"text\", \"start\", \"end\", \"words\"}.",
            discussion:
                "Standard input (-), a pipe or a FIFO is decoded as it arrives (any format libsndfile reads from a pipe, or raw PCM with --raw-rate)."
        ))
    var stream = false
    @Flag(help: "With --stream, read a file no faster than real time, as if it were live.") var realtime = false
    @Option(
        help: ArgumentHelp(
            "With --stream, the input is headerless signed 16-bit little-endian mono PCM at this rate (Hz).", valueName: "Hz"))
    var rawRate: Int?
    @OptionGroup var partials: PartialFlags

    func validate() throws {
        if !stream && (realtime || rawRate != nil) { throw ValidationError("--realtime and --raw-rate need --stream") }
        if let rawRate { do { _ = try RawPCM(sampleRate: rawRate) } catch { throw ValidationError("--raw-rate: \(error)") } }
    }
}

/// How often a live stream's partial results come (`hark transcribe --stream`, `hark serve`).
struct PartialFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds of audio between partial results of a live stream.", valueName: "s"))
    var partialInterval: Double = StreamingOptions().partialInterval

    /// The streaming options with these partials and `segmentation`'s cuts.
    func options(_ segmentation: SegmentationFlags) -> StreamingOptions {
        StreamingOptions(partialInterval: partialInterval, segmentation: segmentation.cutting)
    }
}

/// How recordings and live streams are cut into utterances at pauses
/// (`Segmenter`): `hark transcribe`, `hark eval`, `hark serve`.
struct SegmentationFlags: ParsableArguments {
    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Cut each recording at its pauses into utterances and decode each on its own (the default); --no-segment decodes a recording as one utterance, as Hark did before it segmented.",
            discussion: "A live stream (--stream, hark serve's WebSocket) is always cut."))
    var segment = true
    @Option(help: ArgumentHelp("Seconds without speech that end an utterance.", valueName: "s"))
    var endpointSilence: Double = SegmenterOptions().endpointSilence
    @Option(
        help: ArgumentHelp(
            "Longest utterance; a longer stretch of speech is cut at its quietest moment without waiting for a pause.", valueName: "s"))
    var maxUtterance: Double = SegmenterOptions().maxUtterance
    @Option(
        help: ArgumentHelp(
            "Seconds of audio decoded before and after each utterance's speech (at most half the endpoint silence).", valueName: "s"))
    var speechPad: Double = SegmenterOptions().speechPad

    /// The cutting options, whether or not recordings are cut.
    var cutting: SegmenterOptions {
        var o = SegmenterOptions(endpointSilence: endpointSilence, maxUtterance: maxUtterance)
        o.speechPad = speechPad
        return o
    }

    /// `Transcriber.segmentation`: nil with --no-segment.
    var options: SegmenterOptions? { segment ? cutting : nil }

    func validate() throws {
        do { try cutting.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Reads one input as a live stream into a `StreamingRecognizer` and prints
/// its results as JSON lines the moment they are ready.
struct LiveTranscription {
    let recognizer: StreamingRecognizer
    let flags: StreamingFlags
    let channel: ChannelSelection

    func run(_ input: String) throws {
        let rate = recognizer.transcriber.model.config.sampleRate
        let options = AudioLoadOptions(targetSampleRate: rate, channel: channel)
        let raw = try flags.rawRate.map { try RawPCM(sampleRate: $0) }
        let reader = try AudioReader.streaming(input, raw: raw, options: options)
        reader.notes.forEach { printError("note: " + $0) }
        let start = Date()
        let piece = max(1, rate / 10)
        var delivered = 0
        func emit(_ results: [StreamResult]) { results.forEach { StandardOutput.line($0.jsonLine) } }
        do {
            while let block = try reader.read() {
                var i = 0
                while i < block.count {
                    let j = min(block.count, i + piece)
                    delivered += j - i
                    if flags.realtime {
                        let due = Double(delivered) / Double(rate) - Date().timeIntervalSince(start)
                        if due > 0 { Thread.sleep(forTimeInterval: due) }
                    }
                    emit(recognizer.accept(Array(block[i..<j])))
                    i = j
                }
            }
        } catch {
            // What arrived before the error is not lost.
            emit(recognizer.finish())
            throw error
        }
        emit(recognizer.finish())
    }
}

import ArgumentParser
import Foundation
import HarkASR
import HarkAudio

/// Live transcription options of `hark transcribe`.
struct StreamingFlags: ParsableArguments {
    @Flag(help: ArgumentHelp("Transcribe the input as a live stream, printing JSON lines as results come: {\"type\": \"partial\" or \"final\", \"text\", \"start\", \"end\", \"words\"}.",
                             discussion: "Standard input (-), a pipe or a FIFO is decoded as it arrives (any format libsndfile reads from a pipe, or raw PCM with --raw-rate)."))
    var stream = false
    @Flag(help: "With --stream, read a file no faster than real time, as if it were live.") var realtime = false
    @Option(help: ArgumentHelp("With --stream, the input is headerless signed 16-bit little-endian mono PCM at this rate (Hz).", valueName: "Hz"))
    var rawRate: Int?
    @OptionGroup var endpointing: EndpointingFlags

    var options: StreamingOptions { endpointing.options }

    func validate() throws {
        if !stream && (realtime || rawRate != nil) { throw ValidationError("--realtime and --raw-rate need --stream") }
        if let rawRate { do { _ = try RawPCM(sampleRate: rawRate) } catch { throw ValidationError("--raw-rate: \(error)") } }
    }
}

/// How live audio becomes partial and final results (`hark transcribe --stream`, `hark serve`).
struct EndpointingFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds of audio between partial results.", valueName: "s")) var partialInterval: Double = StreamingOptions().partialInterval
    @Option(help: ArgumentHelp("Seconds without a word over the silence floor that end an utterance.", valueName: "s"))
    var endpointSilence: Double = StreamingOptions().endpointSilence
    @Option(help: ArgumentHelp("Longest utterance; a longer one is cut without waiting for a pause.", valueName: "s"))
    var maxUtterance: Double = StreamingOptions().maxUtterance

    var options: StreamingOptions {
        StreamingOptions(partialInterval: partialInterval, endpointSilence: endpointSilence, maxUtterance: maxUtterance)
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError("\(error)") }
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

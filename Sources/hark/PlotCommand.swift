import ArgumentParser
import Foundation
import HarkASR
import HarkCore
import HarkPlot

/// `hark plot`: a picture of a recording and, with a model, of what the model heard.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a recording: waveform, log-mel spectrogram and (with --model) the posteriorgram.",
        discussion: """
            The panels share one time axis. The spectrogram shows 80 log-mel bands (40 below 16 kHz) over \
            an 80 dB range. With --model, the posteriorgram shows each token's probability per network \
            frame (the blank on the first row), the decoded path outlined in orange and the words between \
            dashed lines, with the transcript in the title; decoding follows the same options as \
            `hark transcribe`. The model then hears the window alone (its CMVN uses the window's statistics).

            The picture is a PNG or an SVG, as -o's extension says. Long recordings: pick a window of at \
            most 600 s with --start and --end; only the window is held in memory.

            Examples:
              hark plot audio/an52-mmaf-b.wav --model models/an4-blstm -o an52.png
              hark plot meeting.flac --start 61.5 --end 70 -o minute.svg
            """)

    @Option(name: .shortAndLong, help: "The picture to write: FILE.png or FILE.svg.") var output: String
    @Option(help: "Model directory: adds the posteriorgram and the decoded words.") var model: String?
    @OptionGroup(title: "Decoding (with --model; greedy unless a beam, a language model, a vocabulary or hotwords are given)")
    var decoding: DecodingFlags
    @Option(parsing: .unconditional, help: "Start of the window, seconds (default 0).") var start: Double = 0
    @Option(parsing: .unconditional, help: "End of the window, seconds (default: the end of the recording; at most 600 s after --start).")
    var end: Double?
    @Option(help: "Width of the picture in points (pixels in a PNG), 400…8000.") var width: Int = 1200
    @Option(help: "Use this channel (0-based) instead of the mean of all channels.") var channel: Int?
    @Argument(help: "An audio file (or - for standard input).") var audio: String

    mutating func validate() throws {
        guard PictureFormat(path: output) != nil else {
            throw ValidationError("-o \(output): the name must end in .png or .svg")
        }
        do { try AudioFigure.checkWindow(start: start, end: end) } catch { throw ValidationError("\(error)") }
        guard (400...8000).contains(width) else { throw ValidationError("--width \(width) must be in 400…8000") }
        if let channel, channel < 0 { throw ValidationError("--channel \(channel) must be 0 or more") }
    }

    func run() throws {
        try checkOutput(output, isNotOneOf: [audio], option: "-o")
        do {
            var transcriber: Transcriber?
            if let model {
                let acoustic = try AcousticModel.load(directory: try ModelLocation.resolve(model))
                transcriber = Transcriber(model: acoustic, decoding: try decoding.decoding(acoustic, lm: try decoding.loadLM(acoustic)))
            }
            let figure = try AudioFigure.read(
                path: audio, transcriber: transcriber, start: start, end: end,
                channel: channel.map { .channel($0) } ?? .average, width: width)
            let bytes = try figure.render(PictureFormat(path: output)!)
            try FileWriting.writeAtomically(bytes, to: URL(fileURLWithPath: output))
            let layout = figure.layout
            printError("plot: wrote \(output) (\(layout.width)×\(layout.height), \(String(format: "%.2f", figure.duration)) s of audio)")
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("plot: \(error)")
            throw ExitCode(1)
        }
    }
}

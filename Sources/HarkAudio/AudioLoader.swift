import Foundation

/// How an input becomes the waveform the features want.
public struct AudioLoadOptions: Sendable, Equatable {
    /// The sample rate to deliver; `nil` keeps the file's own rate.
    public var targetSampleRate: Int?
    /// Which channel(s) to use from multi-channel audio.
    public var channel: ChannelSelection
    /// The resampler used when the file's rate differs from the target.
    public var resampleQuality: Resampler.Quality
    /// Read pipes, FIFOs and devices as streams (true for inputs the user
    /// named); false refuses them at once (inputs found in a directory, where
    /// a FIFO without a writer would otherwise stop the batch).
    public var allowStreams: Bool
    /// Most bytes read from a stream (standard input, a pipe, a device).
    public var maxStreamBytes: Int
    /// Seconds to wait for a FIFO's writer.
    public var fifoWriterWait: Double

    /// Options of the given values; by default the file's own rate, the mean of the channels, the best resampler,
    /// streams allowed within `AudioLimits`.
    public init(
        targetSampleRate: Int? = nil, channel: ChannelSelection = .average,
        resampleQuality: Resampler.Quality = .best, allowStreams: Bool = true,
        maxStreamBytes: Int = AudioLimits.maxStreamBytes, fifoWriterWait: Double = AudioLimits.fifoWriterWait
    ) {
        self.targetSampleRate = targetSampleRate
        self.channel = channel
        self.resampleQuality = resampleQuality
        self.allowStreams = allowStreams
        self.maxStreamBytes = maxStreamBytes
        self.fifoWriterWait = fifoWriterWait
    }

    var policy: AudioSource.Policy {
        AudioSource.Policy(maxStreamBytes: maxStreamBytes, allowStreams: allowStreams, fifoWriterWait: fifoWriterWait)
    }
}

/// The result of loading one input.
public struct LoadedAudio: Sendable {
    /// The samples, mono, at the target rate (or the file's own when none was asked for).
    public var waveform: Waveform
    /// The file's rate before any resampling.
    public var originalSampleRate: Int
    /// Channels in the file before mixing.
    public var channels: Int
    /// libsndfile's name of the container and encoding, e.g. "WAV (Microsoft) / Signed 16 bit PCM".
    public var formatName: String
    /// Things the user should know that are not errors (e.g. upsampling).
    public var notes: [String]
}

/// Reads any file libsndfile can decode, mixes it to mono and resamples it,
/// whole. (`AudioReader` gives the same samples block by block.)
public enum AudioLoader {
    /// The decoding library and its version, e.g. "libsndfile-1.2.0".
    public static var decoderVersion: String { SoundFile.libraryVersion }

    /// Bytes of a file inspected before decoding (the header checks).
    static let headBytes = 65_536

    /// Loads `path`, or standard input when `path` is `-`.
    public static func load(_ path: String, options: AudioLoadOptions = AudioLoadOptions()) throws -> LoadedAudio {
        try collect(AudioReader(path, options: options))
    }

    /// Decodes an in-memory file (any format libsndfile reads).
    public static func load(
        bytes: [UInt8], displayName: String,
        options: AudioLoadOptions = AudioLoadOptions()
    ) throws -> LoadedAudio {
        try collect(AudioReader(bytes: bytes, displayName: displayName, options: options))
    }

    private static func collect(_ reader: AudioReader) throws -> LoadedAudio {
        var samples: [Float] = []
        while let block = try reader.read() { samples.append(contentsOf: block) }
        return LoadedAudio(
            waveform: Waveform(samples: samples, sampleRate: reader.sampleRate),
            originalSampleRate: reader.originalSampleRate, channels: reader.channels,
            formatName: reader.formatName, notes: reader.notes)
    }
}

import Foundation

/// How an input becomes the waveform the features want.
public struct AudioLoadOptions: Sendable, Equatable {
    /// The sample rate to deliver; `nil` keeps the file's own rate.
    public var targetSampleRate: Int?
    /// Which channel(s) to use from multi-channel audio.
    public var channel: ChannelSelection
    /// The resampler used when the file's rate differs from the target.
    public var resampleQuality: Resampler.Quality

    public init(targetSampleRate: Int? = nil, channel: ChannelSelection = .average,
                resampleQuality: Resampler.Quality = .best) {
        self.targetSampleRate = targetSampleRate
        self.channel = channel
        self.resampleQuality = resampleQuality
    }
}

/// The result of loading one input.
public struct LoadedAudio: Sendable {
    public var waveform: Waveform
    /// The file's rate before any resampling.
    public var originalSampleRate: Int
    public var channels: Int
    public var formatName: String
    /// Things the user should know that are not errors (e.g. upsampling).
    public var notes: [String]
}

/// Reads any file libsndfile can decode, mixes it to mono and resamples it.
public enum AudioLoader {
    /// Bytes of a file inspected before decoding (the RIFF header check).
    static let headBytes = 65_536

    /// Loads `path`, or standard input when `path` is `-`.
    public static func load(_ path: String, options: AudioLoadOptions = AudioLoadOptions()) throws -> LoadedAudio {
        let decoded: DecodedAudio
        if path == "-" {
            let bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            decoded = try decode(bytes: bytes, displayName: "-", channel: options.channel)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw AudioError(.notFound, path)
            }
            if isDirectory.boolValue { throw AudioError(.isDirectory, path) }
            guard let file = FileHandle(forReadingAtPath: path) else {
                throw AudioError(.unreadable, path, "permission denied or not a regular file")
            }
            let head = [UInt8](file.readData(ofLength: headBytes))
            let size = Int(file.seekToEndOfFile())
            file.closeFile()
            if size == 0 { throw AudioError(.empty, path, "0 bytes") }
            try RiffCheck.check(head: head, fileSize: size, displayName: path)
            decoded = try SoundFile.decode(path: path, displayName: path, channel: options.channel)
        }
        return try finish(decoded, displayName: path, options: options)
    }

    /// Decodes an in-memory file (any format libsndfile reads).
    public static func load(bytes: [UInt8], displayName: String,
                            options: AudioLoadOptions = AudioLoadOptions()) throws -> LoadedAudio {
        let decoded = try decode(bytes: bytes, displayName: displayName, channel: options.channel)
        return try finish(decoded, displayName: displayName, options: options)
    }

    private static func decode(bytes: [UInt8], displayName: String, channel: ChannelSelection) throws -> DecodedAudio {
        if bytes.isEmpty { throw AudioError(.empty, displayName, "0 bytes") }
        try RiffCheck.check(head: Array(bytes.prefix(headBytes)), fileSize: bytes.count, displayName: displayName)
        return try SoundFile.decode(bytes: bytes, displayName: displayName, channel: channel)
    }

    private static func finish(_ decoded: DecodedAudio, displayName: String,
                               options: AudioLoadOptions) throws -> LoadedAudio {
        var waveform = decoded.waveform
        var notes: [String] = []
        let original = waveform.sampleRate
        if let target = options.targetSampleRate, target != original {
            if target > original {
                notes.append("\(displayName): upsampling from \(original) Hz to \(target) Hz; this cannot add the missing bandwidth above \(original / 2) Hz")
            }
            do {
                waveform.samples = try Resampler.resample(waveform.samples, from: original, to: target,
                                                          quality: options.resampleQuality)
            } catch var error as AudioError {
                error.input = displayName
                throw error
            }
            waveform.sampleRate = target
        }
        return LoadedAudio(waveform: waveform, originalSampleRate: original, channels: decoded.channels,
                           formatName: decoded.formatName, notes: notes)
    }
}

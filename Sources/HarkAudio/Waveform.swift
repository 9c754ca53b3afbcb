/// Mono audio as Float32 samples in [-1, 1] at `sampleRate` Hz.
public struct Waveform: Sendable, Equatable {
    /// The samples, in [-1, 1].
    public var samples: [Float]
    /// Samples per second, Hz.
    public var sampleRate: Int

    /// A waveform of the given samples at `sampleRate` Hz.
    public init(samples: [Float], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// Duration in seconds.
    public var duration: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }
}

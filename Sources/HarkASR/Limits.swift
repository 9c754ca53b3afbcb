/// The largest sizes Hark accepts from flags, `config.json` files and
/// checkpoints: beyond them a value is refused before anything is allocated.
/// Each is far above what a small-footprint model uses and small enough that
/// the memory it implies fits a workstation.
public enum Limits {
    /// Hidden units per direction (the default model has 128).
    public static let hiddenSize = 4096
    /// Recurrent layers.
    public static let layers = 32
    /// Frames stacked into one network input.
    public static let stackFrames = 64
    /// Output tokens, blank included.
    public static let tokens = 65_536
    /// Network parameters in all (4 bytes each: 1.6 GB).
    public static let parameters = 400_000_000
    /// Utterances per batch.
    public static let batchSize = 65_536
    /// Epochs, steps, patience and checkpoint intervals.
    public static let count = 1_000_000_000
    /// Beam width of prefix beam search (memory and time grow with it).
    public static let beamWidth = 4096
    /// Worker threads.
    public static let threads = 1024
    /// The longest utterance a live stream may be set to hold (its samples are kept).
    public static let maxStreamUtteranceSeconds: Double = 600
}

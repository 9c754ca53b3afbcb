/// What Hark accepts as audio input, and why.
///
/// A toolkit run unattended on other people's files must refuse, in one line,
/// what it cannot process sensibly, rather than allocate without bound or
/// produce hours of garbage.
public enum AudioLimits {
    /// Lowest sample rate accepted, Hz. Below this, speech has no usable
    /// bandwidth; a header claiming it is almost certainly corrupt (a 500 KB
    /// file "at 63 Hz" would otherwise become a 2-hour recording).
    public static let minSampleRate = 1_000
    /// Highest sample rate accepted, Hz: the highest rate audio interfaces use.
    public static let maxSampleRate = 384_000
    /// Most bytes read from standard input or any other input that is not a
    /// regular file (a pipe, a FIFO, a device): such input is held in memory
    /// so that libsndfile can seek in it. 2 GiB holds 18 hours of 16 kHz
    /// 16-bit mono; save longer recordings to a file, which is streamed.
    public static let maxStreamBytes = 2 << 30
    /// Seconds to wait for a writer to open a FIFO named on the command line.
    public static let fifoWriterWait: Double = 10
}

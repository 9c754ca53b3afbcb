import Foundation

/// Progress and the closing summary of a batch, on stderr.
///
/// With many inputs it redraws one line (on a terminal) or prints a line
/// every few seconds (in a log), with the fraction done and the ETA.
final class BatchProgress: @unchecked Sendable {
    let total: Int
    let label: String
    private let lock = NSLock()
    private let start = Date()
    private var lastPrint = Date.distantPast
    private(set) var done = 0
    private(set) var failed = 0
    private(set) var audioSeconds = 0.0
    private let interactive = isatty(fileno(stderr)) != 0
    /// Below this many inputs no progress line is shown, only the summary.
    static let minimumForProgress = 20

    /// Counts without printing (the ranks of an MPI job other than rank 0).
    let quiet: Bool

    init(total: Int, label: String, quiet: Bool = false) {
        self.total = total
        self.label = label
        self.quiet = quiet
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    func finished(audioSeconds seconds: Double) { record { done += 1; audioSeconds += seconds } }
    /// `report`: print the message now (false: someone else reports it).
    func failed(_ message: String, report: Bool = true) {
        record {
            failed += 1
            guard report && !quiet else { return }
            if interactive { writeStandardError("\r\u{1B}[K") }
            printError(message)
        }
    }

    private func record(_ update: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        update()
        guard total >= Self.minimumForProgress && !quiet else { return }
        let now = Date()
        let every = interactive ? 0.2 : 5.0
        guard now.timeIntervalSince(lastPrint) >= every || done + failed == total else { return }
        lastPrint = now
        let n = done + failed
        let t = now.timeIntervalSince(start)
        let eta = n > 0 ? t / Double(n) * Double(total - n) : 0
        let line = String(format: "%@: %d/%d (%.0f%%), %.1f s elapsed, ETA %.1f s",
                          label, n, total, 100 * Double(n) / Double(total), t, eta)
        writeStandardError(interactive ? "\r\u{1B}[K" + line + (n == total ? "\n" : "") : line + "\n")
    }

    /// "features: 948 done, 0 failed; 42.6 min of audio in 1.90 s (real-time factor 0.00074, 1345× faster than real time)".
    func summary() -> String {
        let t = elapsed
        let speed = t > 0 ? audioSeconds / t : 0
        let audio = audioSeconds >= 3600 ? String(format: "%.2f h", audioSeconds / 3600)
            : audioSeconds >= 60 ? String(format: "%.1f min", audioSeconds / 60) : String(format: "%.2f s", audioSeconds)
        return String(format: "%@: %d done, %d failed; %@ of audio in %.2f s (real-time factor %.2g, %.0f× faster than real time)",
                      label, done, failed, audio, t, audioSeconds > 0 ? t / audioSeconds : 0, speed)
    }
}


import ArgumentParser
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

    func finished(audioSeconds seconds: Double) {
        record {
            done += 1; audioSeconds += seconds
        }
    }
    /// Inputs that failed before the batch (not found, not audio), counted in the summary.
    func failedBefore(_ count: Int) { lock.lock(); failedEarlier += count; lock.unlock() }
    private var failedEarlier = 0
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
        var line = String(format: "%@: %d/%d (%.0f%%), %.1f s elapsed", label, n, total, 100 * Double(n) / Double(total), t)
        // An ETA once it means something: a few inputs done and a second gone.
        if n < total && n >= max(3, total / 50) && t >= 1 {
            line += String(format: ", ETA %.0f s", t / Double(n) * Double(total - n))
        }
        writeStandardError(interactive ? "\r\u{1B}[K" + line + (n == total ? "\n" : "") : line + "\n")
    }

    /// "features: 948 done, 0 failed; 42.6 min of audio in 1.90 s (real-time factor 0.00074, 1345× faster than real time)";
    /// without audio done, only the counts.
    func summary() -> String {
        let t = elapsed
        let failed = self.failed + failedEarlier
        guard done > 0 && audioSeconds > 0 else {
            return String(format: "%@: %d done, %d failed in %.2f s", label, done, failed, t)
        }
        let speed = t > 0 ? audioSeconds / t : 0
        let audio =
            audioSeconds >= 3600
            ? String(format: "%.2f h", audioSeconds / 3600)
            : audioSeconds >= 60 ? String(format: "%.1f min", audioSeconds / 60) : String(format: "%.2f s", audioSeconds)
        return String(
            format: "%@: %d done, %d failed; %@ of audio in %.2f s (real-time factor %.2g, %.0f× faster than real time)",
            label, done, failed, audio, t, audioSeconds > 0 ? t / audioSeconds : 0, speed)
    }
}

/// Notes about inputs (a file upsampled, …), each kind said once: the first
/// is printed as it comes, the others of its kind are counted, and
/// `finish()` prints how many more there were. A batch of 500 8 kHz files
/// says "upsampling" twice, not 500 times.
final class NoteCollector: @unchecked Sendable {
    private let lock = NSLock()
    /// A note's kind: its text after the input's name, digits kept (the rates matter).
    private var counts: [(kind: String, more: Int)] = []

    func note(_ text: String, input: String) {
        let kind = text.hasPrefix(input + ": ") ? String(text.dropFirst(input.count + 2)) : text
        lock.lock()
        defer { lock.unlock() }
        if let i = counts.firstIndex(where: { $0.kind == kind }) {
            counts[i].more += 1
        } else {
            counts.append((kind, 0))
            printError("note: " + text)
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        for (kind, more) in counts where more > 0 {
            printError("note: \(more) more input(s): \(kind.split(separator: ";").first ?? "")")
        }
        counts = []
    }
}

/// The end of a batch command: the inputs that failed, listed on stderr, and
/// exit status 1 when there are any (the others' results are already out).
func endBatch(failed: [String]) throws {
    guard !failed.isEmpty else { return }
    printError("\(failed.count) input(s) failed:\n" + failed.map { "  " + $0 }.joined(separator: "\n"))
    throw ExitCode(1)
}

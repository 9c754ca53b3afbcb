import Foundation

/// The speed-perturbed copies of training utterances, kept once made (as
/// Kaldi's recipes make them once, before training): resampling each
/// utterance afresh at every step took a fifth of an augmented run's cycles.
/// A copy is a function of the utterance and the factor alone, so a run
/// gives the same bits whether a copy came from here or was made again.
/// Memory is bounded: beyond `budgetBytes` of copies, new ones are made each
/// time and not kept.
final class SpeedPerturbedCopies: @unchecked Sendable {
    /// 512 MiB: every copy at two factors of about 70 minutes of 16 kHz audio.
    static let defaultBudget = 512 << 20
    let budgetBytes: Int
    private let lock = NSLock()
    private var copies: [Key: [Float]] = [:]
    private var bytes = 0

    private struct Key: Hashable {
        let utterance: Int
        let factor: Double
    }

    init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    /// Utterance `utterance` at speed `factor`: the kept copy, or `make()`'s, kept if it fits.
    func samples(_ utterance: Int, factor: Double, make: () throws -> [Float]) rethrows -> [Float] {
        if factor == 1 { return try make() }
        let key = Key(utterance: utterance, factor: factor)
        if let kept = lock.withLock({ copies[key] }) { return kept }
        let made = try make()
        lock.withLock {
            if copies[key] == nil && bytes + made.count * 4 <= budgetBytes {
                copies[key] = made
                bytes += made.count * 4
            }
        }
        return made
    }
}

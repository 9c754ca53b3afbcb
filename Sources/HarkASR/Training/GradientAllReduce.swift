import Dispatch
import HarkCore
import HarkNN

/// What the ranks of a data-parallel run sum (`Collective.allreduceSum`):
/// each step's gradients, loss and frames, and each validation's counts.
/// One process alone sums nothing.
struct GradientAllReduce {
    let collective: Collective

    /// The batch's gradient, loss and frames from every rank's share: each
    /// rank's mean-reduced gradient and loss weighted by its share of the
    /// batch (B_r / B), summed in one fused buffer
    /// [every parameter's gradient | loss | frames]. A non-finite loss on any
    /// rank makes the sum non-finite, so every rank skips the step.
    func sum(_ parameters: [Parameter], loss: Float, frames: Int, share: Float) -> (loss: Float, frames: Int, seconds: Double) {
        let count = parameters.reduce(0) { $0 + $1.count }
        var fused = [Float](repeating: 0, count: count + 2)
        var offset = 0
        for p in parameters {
            for i in 0..<p.count { fused[offset + i] = p.grad[i] * share }
            offset += p.count
        }
        fused[count] = loss.isFinite ? loss * share : .nan
        fused[count + 1] = Float(frames)
        let started = DispatchTime.now().uptimeNanoseconds
        collective.allreduceSum(&fused)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        offset = 0
        for p in parameters {
            p.grad.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count { g[i] = fused[offset + i] }
            }
            offset += p.count
        }
        return (fused[count], Int(fused[count + 1].rounded()), seconds)
    }

    /// The validation totals of every rank's share of the validation set:
    /// the counts and the CTC loss sum, so that every rank selects the same
    /// epoch by any metric.
    func sum(_ totals: Evaluator.Totals) -> Evaluator.Totals {
        guard collective.size > 1 else { return totals }
        var totals = totals
        var counts =
            (totals.characters.packed + totals.words.packed + [totals.utterances, totals.wrongUtterances, totals.lossCount])
            .map(Double.init) + [totals.lossSum]
        collective.allreduceSum(&counts)
        let n = counts.dropLast().map { Int($0.rounded()) }
        totals.characters = EditCounts(packed: n, offset: 0)
        totals.words = EditCounts(packed: n, offset: 4)
        totals.utterances = n[8]
        totals.wrongUtterances = n[9]
        totals.lossCount = n[10]
        totals.lossSum = counts[11]
        return totals
    }
}

import Foundation
import HarkCore

/// Connectionist Temporal Classification (Graves et al., 2006): the negative
/// log-likelihood of a label sequence summed over all its alignments, and its
/// gradient, as PyTorch's `torch.nn.functional.ctc_loss`.
///
/// Letters: T frames, B utterances, K classes including the blank, L the
/// label length, S = 2L + 1 the length of the extended label sequence
/// l′ = (blank, l₁, blank, l₂, …, l_L, blank).
///
/// Layout: log-probabilities are a `SequenceBatch` [T·B, K] whose row t·B + b
/// holds frame t of utterance b (time-major, PyTorch's [T, B, K]); its
/// lengths are PyTorch's `input_lengths`. The gradient has the same layout.
public struct CTCLoss: Sendable {
    /// How the per-utterance losses become one: left as they are (`none`), summed, or each divided by its target length
    /// and averaged (`mean`).
    public enum Reduction: String, Codable, Sendable {
        /// Per-utterance losses; the gradient is that of their sum.
        case none
        case sum
        /// Each loss divided by its target length (at least 1), then averaged over the batch.
        case mean
    }

    /// The class index of the blank.
    public var blank: Int
    /// How the losses are combined.
    public var reduction: Reduction
    /// Infinite losses (targets that cannot fit their frames) become 0 with gradient 0.
    public var zeroInfinity: Bool
    /// Utterances are spread over this many threads.
    public var threads: Int
    /// Which recursion runs: `.fast` the scaled-probability one (falling back
    /// to log space where it underflows), `.reference` always log space.
    public var kernels = KernelChoice.fast

    /// A loss with PyTorch's defaults (blank 0, `mean`, infinite losses kept) on `threads` threads.
    public init(
        blank: Int = 0, reduction: Reduction = .mean, zeroInfinity: Bool = false,
        threads: Int = defaultThreadCount
    ) {
        self.blank = blank
        self.reduction = reduction
        self.zeroInfinity = zeroInfinity
        self.threads = threads
    }

    /// The losses and their gradient.
    public struct Result {
        /// The negative log-likelihood of each utterance (+∞ when its target
        /// cannot fit its frames, 0 then under `zeroInfinity`).
        public var losses: [Float]
        /// The reduced loss (`none`: the sum).
        public var loss: Float
        /// ∂loss/∂input, same layout as the input; zero on padded frames.
        public var gradient: Matrix
    }

    /// Loss and gradient with respect to the log-probabilities, in PyTorch's
    /// convention: for t < Tᵦ,
    ///
    ///     ∂/∂lp[t, k] = exp(lp[t, k]) − exp(log Σ_{s: l′ₛ = k} αₜ(s) βₜ(s) + nll − lp[t, k])
    ///
    /// which is the gradient with respect to the activations of the
    /// log-softmax that produced lp (autograd then passes it through
    /// log-softmax unchanged). For an infinite loss PyTorch returns NaN;
    /// Hark returns 0, so one impossible utterance cannot poison a batch.
    ///
    /// - Shapes: logProbs [T·B, K] with B lengths ≤ T; targets B label lists
    ///   (values in 0..<K, never the blank).
    public func callAsFunction(logProbs: SequenceBatch, targets: [[Int]]) -> Result {
        run(logProbs, targets: targets)
    }

    /// Loss and gradient with respect to unnormalised activations, through a
    /// fused log-softmax (what training uses): ∂/∂a[t, k] = softmax(a)[t, k] − γₜ(k),
    /// γ the posterior occupation of class k at frame t.
    ///
    /// - Shapes: activations [T·B, K], the rest as `callAsFunction`.
    public func fromActivations(_ activations: SequenceBatch, targets: [[Int]]) -> Result {
        run(activations.with(data: logSoftmax(activations.data)), targets: targets)
    }

    private func run(_ batch: SequenceBatch, targets: [[Int]]) -> Result {
        let lp = batch.data, K = lp.cols, B = batch.batch, T = batch.steps, inputLengths = batch.lengths
        precondition(targets.count == B, "\(targets.count) targets for \(B) utterances")
        precondition((0..<K).contains(blank), "blank \(blank) is not a class of \(K)")
        for (b, t) in targets.enumerated() {
            precondition(inputLengths[b] >= 0 && inputLengths[b] <= T, "input length \(inputLengths[b]) of utterance \(b) is not in 0…\(T)")
            precondition(t.allSatisfy { $0 >= 0 && $0 < K && $0 != blank }, "target \(b) has labels outside 0..<\(K) or the blank \(blank)")
        }
        var losses = [Float](repeating: 0, count: B)
        var gradient = Matrix(rows: T * B, cols: K)
        // Frame t of utterance b is row t·B + b: frames of one utterance are B·K floats apart.
        let frameStride = B * K
        lp.data.withUnsafeBufferPointer { lpBuffer in
            gradient.data.withUnsafeMutableBufferPointer { gBuffer in
                losses.withUnsafeMutableBufferPointer { lossBuffer in
                    let lpBase = SendablePointer(lpBuffer.baseAddress!)
                    let gBase = SendablePointer(gBuffer.baseAddress!)
                    let lossBase = SendablePointer(lossBuffer.baseAddress!)
                    parallelChunks(count: B, threads: threads) { range in
                        var work = Workspace()
                        for b in range {
                            let offset = b * K
                            let nll = utteranceLossAndGradient(
                                lp: lpBase.pointer + offset, grad: gBase.pointer + offset, frameStride: frameStride,
                                frames: inputLengths[b], classes: K, target: targets[b], work: &work)
                            lossBase.pointer[b] = Float(nll)
                        }
                    }
                }
            }
        }
        // Reduction: scale each utterance's loss and gradient.
        var total: Float = 0
        for b in 0..<B {
            if losses[b] == .infinity && zeroInfinity { losses[b] = 0 }
            let scale: Float = reduction == .mean ? 1 / Float(max(targets[b].count, 1)) / Float(B) : 1
            total += losses[b] * scale
            if scale != 1 {
                for t in 0..<inputLengths[b] {
                    let row = (t * B + b) * K
                    for k in 0..<K { gradient.data[row + k] *= scale }
                }
            }
        }
        return Result(losses: losses, loss: total, gradient: gradient)
    }

    /// Scratch space of one thread, reused across utterances.
    ///
    /// The recursions run in double precision: the log-space values grow to
    /// hundreds over long utterances, and the gradient's exp(lcab + nll − lp)
    /// subtracts such values; in float32 that leaves errors of ~1e-4 (as
    /// PyTorch's float32 CTC has), in double ~1e-12.
    struct Workspace {
        var labels: [Int] = []
        var alpha: [Double] = []
        var beta: [Double] = []
        var lcab: [Double] = []
        /// Scaled path: the emission probabilities y[t, k] = exp(lp[t, k]).
        var y: [Double] = []
    }

    /// The three steps for one utterance: alphas, betas, gradient.
    ///
    /// - Parameters:
    ///   - lp: frame t's K log-probabilities at `lp + t·frameStride`.
    ///   - grad: the gradient rows, same addressing; written for t < frames.
    /// - Returns: the negative log-likelihood (+∞ when the target cannot fit).
    func utteranceLossAndGradient(
        lp: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>, frameStride: Int,
        frames T: Int, classes K: Int, target: [Int], work: inout Workspace
    ) -> Double {
        let L = target.count, S = 2 * L + 1
        if T == 0 { return L == 0 ? 0 : .infinity }
        // l′: blank, l₁, blank, l₂, …, blank
        work.labels = (0..<S).map { $0 % 2 == 0 ? blank : target[$0 / 2] }
        if work.alpha.count < T * S { work.alpha = [Double](repeating: 0, count: T * S) }
        if work.beta.count < T * S { work.beta = [Double](repeating: 0, count: T * S) }
        if work.lcab.count < K { work.lcab = [Double](repeating: 0, count: K) }
        if kernels == .fast, let nll = scaledRecursion(lp: lp, grad: grad, frameStride: frameStride, T: T, K: K, work: &work) {
            return nll
        }
        let nll = work.labels.withUnsafeBufferPointer { l in
            work.alpha.withUnsafeMutableBufferPointer { a in
                work.beta.withUnsafeMutableBufferPointer { bt in
                    work.lcab.withUnsafeMutableBufferPointer { lcab in
                        let alpha = a.baseAddress!, beta = bt.baseAddress!
                        let logLikelihood = alphas(lp: lp, frameStride: frameStride, T: T, labels: l, alpha: alpha)
                        let nll = -logLikelihood
                        let backward = betas(lp: lp, frameStride: frameStride, T: T, labels: l, beta: beta)
                        assert(
                            !nll.isFinite || abs(backward - logLikelihood) <= 1e-3 * max(1, abs(logLikelihood)),
                            "CTC forward (\(logLikelihood)) and backward (\(backward)) likelihoods disagree")
                        if nll == .infinity {
                            // No alignment: the gradient stays 0 (PyTorch: NaN).
                            return nll
                        }
                        gradientFromAlphasBetas(
                            lp: lp, grad: grad, frameStride: frameStride, T: T, K: K, labels: l,
                            alpha: alpha, beta: beta, nll: nll, lcab: lcab.baseAddress!)
                        return nll
                    }
                }
            }
        }
        return nll
    }

    /// Step 1, the forward variables: αₜ(s) = log P(l′₁…ₛ emitted by frames 0…t, ending in l′ₛ).
    ///
    ///     α₀(0) = lp₀(blank),  α₀(1) = lp₀(l₁)
    ///     αₜ(s) = lpₜ(l′ₛ) + log(αₜ₋₁(s) + αₜ₋₁(s−1) + [l′ₛ ≠ blank ∧ l′ₛ ≠ l′ₛ₋₂] αₜ₋₁(s−2))
    ///
    /// Returns log P(l) = log(α_{T−1}(S−1) + α_{T−1}(S−2)). Row t of `alpha` is [S].
    func alphas(
        lp: UnsafeMutablePointer<Float>, frameStride: Int, T: Int, labels l: UnsafeBufferPointer<Int>,
        alpha: UnsafeMutablePointer<Double>
    ) -> Double {
        let S = l.count
        for s in 0..<S { alpha[s] = -.infinity }
        alpha[0] = Double(lp[blank])
        if S > 1 { alpha[1] = Double(lp[l[1]]) }
        for t in 1..<max(T, 1) {
            let row = alpha + t * S, prev = alpha + (t - 1) * S, lpt = lp + t * frameStride
            for s in 0..<S {
                var a = prev[s]
                if s >= 1 { a = logAdd(a, prev[s - 1]) }
                if s >= 2 && l[s] != blank && l[s] != l[s - 2] { a = logAdd(a, prev[s - 2]) }
                row[s] = a == -.infinity ? a : a + Double(lpt[l[s]])
            }
        }
        let last = alpha + (T - 1) * S
        return S > 1 ? logAdd(last[S - 1], last[S - 2]) : last[0]
    }

    /// Step 2, the backward variables (PyTorch's convention: they include frame t's emission):
    ///
    ///     β_{T−1}(S−1) = lp_{T−1}(blank),  β_{T−1}(S−2) = lp_{T−1}(l_L)
    ///     βₜ(s) = lpₜ(l′ₛ) + log(βₜ₊₁(s) + βₜ₊₁(s+1) + [l′ₛ ≠ blank ∧ l′ₛ ≠ l′ₛ₊₂] βₜ₊₁(s+2))
    ///
    /// Returns log P(l) computed from the other end, log(β₀(0) + β₀(1)).
    func betas(
        lp: UnsafeMutablePointer<Float>, frameStride: Int, T: Int, labels l: UnsafeBufferPointer<Int>,
        beta: UnsafeMutablePointer<Double>
    ) -> Double {
        let S = l.count
        let last = beta + (T - 1) * S, lpLast = lp + (T - 1) * frameStride
        for s in 0..<S { last[s] = -.infinity }
        last[S - 1] = Double(lpLast[blank])
        if S > 1 { last[S - 2] = Double(lpLast[l[S - 2]]) }
        var t = T - 2
        while t >= 0 {
            let row = beta + t * S, next = beta + (t + 1) * S, lpt = lp + t * frameStride
            for s in 0..<S {
                var b = next[s]
                if s + 1 < S { b = logAdd(b, next[s + 1]) }
                if s + 2 < S && l[s] != blank && l[s] != l[s + 2] { b = logAdd(b, next[s + 2]) }
                row[s] = b == -.infinity ? b : b + Double(lpt[l[s]])
            }
            t -= 1
        }
        return S > 1 ? logAdd(beta[0], beta[1]) : beta[0]
    }

    /// Step 3, the gradient: lcab(k) = log Σ_{s: l′ₛ = k} αₜ(s)·βₜ(s), then
    /// ∂/∂lp[t, k] = exp(lpₜ(k)) − exp(lcab(k) + nll − lpₜ(k)).
    func gradientFromAlphasBetas(
        lp: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>, frameStride: Int,
        T: Int, K: Int, labels l: UnsafeBufferPointer<Int>,
        alpha: UnsafeMutablePointer<Double>, beta: UnsafeMutablePointer<Double>,
        nll: Double, lcab: UnsafeMutablePointer<Double>
    ) {
        let S = l.count
        for t in 0..<T {
            for k in 0..<K { lcab[k] = -.infinity }
            let a = alpha + t * S, b = beta + t * S
            for s in 0..<S {
                let ab = a[s] + b[s]
                if ab != -.infinity { lcab[l[s]] = logAdd(lcab[l[s]], ab) }
            }
            let lpt = lp + t * frameStride, g = grad + t * frameStride
            for k in 0..<K {
                let occupation = lcab[k] == -.infinity ? 0 : exp(lcab[k] + nll - Double(lpt[k]))
                g[k] = Float(exp(Double(lpt[k])) - occupation)
            }
        }
    }
}

extension CTCLoss {
    /// The fast path: the same recursions in probability space with every
    /// frame rescaled (Graves et al., 2006, section 4.1), which needs no
    /// transcendental function inside the recursion:
    ///
    ///     α̂ₜ(s) = yₜ(l′ₛ) · (α̂ₜ₋₁(s) + α̂ₜ₋₁(s−1) + [l′ₛ ≠ blank ∧ l′ₛ ≠ l′ₛ₋₂] α̂ₜ₋₁(s−2)) / Cₜ,
    ///     Cₜ = the sum of the unscaled row, so log P(l) = Σₜ log Cₜ + log(α̂_{T−1}(S−1) + α̂_{T−1}(S−2)),
    ///
    /// β̂ likewise from the end, and the occupation of class k at frame t is
    /// γₜ(k) = Σ_{s: l′ₛ = k} α̂ₜ(s) β̂ₜ(s) / yₜ(k), normalised over k (the
    /// scales cancel). The gradient is then exp(lpₜ(k)) − γₜ(k), as in the
    /// log-space path. Returns nil when a frame's scale underflows to 0 (an
    /// impossible target, or emission probabilities below e⁻⁷⁴⁵); the caller
    /// then uses the log-space recursion.
    func scaledRecursion(
        lp: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>, frameStride: Int,
        T: Int, K: Int, work: inout Workspace
    ) -> Double? {
        let S = work.labels.count
        if work.y.count < T * K { work.y = [Double](repeating: 0, count: T * K) }
        return work.labels.withUnsafeBufferPointer { l in
            work.y.withUnsafeMutableBufferPointer { yBuffer in
                work.alpha.withUnsafeMutableBufferPointer { aBuffer in
                    work.beta.withUnsafeMutableBufferPointer { bBuffer in
                        work.lcab.withUnsafeMutableBufferPointer { occBuffer -> Double? in
                            let y = yBuffer.baseAddress!
                            for t in 0..<T {
                                let lpt = lp + t * frameStride
                                for k in 0..<K { y[t * K + k] = exp(Double(lpt[k])) }
                            }
                            let path = ScaledPath(l: l, S: S, T: T, K: K, blank: blank, y: y)
                            guard let logP = path.alpha(aBuffer.baseAddress!),
                                let logPBackward = path.beta(bBuffer.baseAddress!)
                            else { return nil }
                            let beta = bBuffer.baseAddress!
                            assert(
                                abs(logPBackward + log(S > 1 ? beta[0] + beta[1] : beta[0]) - logP) <= 1e-6 * max(1, abs(logP)),
                                "CTC forward (\(logP)) and backward likelihoods disagree")
                            guard
                                path.gradient(
                                    alpha: aBuffer.baseAddress!, beta: beta, occupation: occBuffer.baseAddress!,
                                    grad: grad, frameStride: frameStride)
                            else { return nil }
                            return -logP
                        }
                    }
                }
            }
        }
    }
}

/// The three passes of the scaled recursion over one utterance: the extended
/// labels l′ [S], the emission probabilities y [T, K] (y = exp lp), and the
/// α̂, β̂ tables [T, S] they fill.
private struct ScaledPath {
    let l: UnsafeBufferPointer<Int>
    let S: Int, T: Int, K: Int, blank: Int
    let y: UnsafeMutablePointer<Double>

    /// May label s be skipped into from s − 2?
    @inline(__always) func skips(_ s: Int) -> Bool { s >= 2 && l[s] != blank && l[s] != l[s - 2] }

    /// Scales a row of S values to sum 1; returns the log of the sum it had
    /// (Cₜ or Dₜ), or nil when that sum is not a positive finite number.
    @inline(__always) func rescale(_ row: UnsafeMutablePointer<Double>) -> Double? {
        var c = 0.0
        for s in 0..<S { c += row[s] }
        guard c > 0 && c.isFinite else { return nil }
        let inv = 1 / c
        for s in 0..<S { row[s] *= inv }
        return log(c)
    }

    /// α̂ₜ(s) = yₜ(l′ₛ) · (α̂ₜ₋₁(s) + α̂ₜ₋₁(s−1) + [skips(s)] α̂ₜ₋₁(s−2)) / Cₜ, each row scaled to sum 1.
    /// Returns log P(l) = Σₜ log Cₜ + log(α̂_{T−1}(S−1) + α̂_{T−1}(S−2)), or nil when a scale underflows.
    func alpha(_ alpha: UnsafeMutablePointer<Double>) -> Double? {
        var logP = 0.0
        for s in 0..<S { alpha[s] = 0 }
        alpha[0] = y[blank]
        if S > 1 { alpha[1] = y[l[1]] }
        for t in 0..<T {
            let row = alpha + t * S
            if t > 0 {
                let prev = alpha + (t - 1) * S, yt = y + t * K
                for s in 0..<S {
                    var a = prev[s]
                    if s >= 1 { a += prev[s - 1] }
                    if skips(s) { a += prev[s - 2] }
                    row[s] = a * yt[l[s]]
                }
            }
            guard let logC = rescale(row) else { return nil }
            logP += logC
        }
        let last = alpha + (T - 1) * S
        let tail = S > 1 ? last[S - 1] + last[S - 2] : last[0]
        guard tail > 0 else { return nil }
        return logP + log(tail)
    }

    /// β̂ₜ(s) = yₜ(l′ₛ) · (β̂ₜ₊₁(s) + β̂ₜ₊₁(s+1) + [skips(s+2)] β̂ₜ₊₁(s+2)) / Dₜ, from the end.
    /// Returns Σₜ log Dₜ (log P again, less the first row's sum: the debug check), or nil.
    func beta(_ beta: UnsafeMutablePointer<Double>) -> Double? {
        var logPBackward = 0.0
        let lastB = beta + (T - 1) * S
        for s in 0..<S { lastB[s] = 0 }
        lastB[S - 1] = y[(T - 1) * K + blank]
        if S > 1 { lastB[S - 2] = y[(T - 1) * K + l[S - 2]] }
        var t = T - 1
        while t >= 0 {
            let row = beta + t * S
            if t < T - 1 {
                let next = beta + (t + 1) * S, yt = y + t * K
                for s in 0..<S {
                    var b = next[s]
                    if s + 1 < S { b += next[s + 1] }
                    if s + 2 < S && skips(s + 2) { b += next[s + 2] }
                    row[s] = b * yt[l[s]]
                }
            }
            guard let logD = rescale(row) else { return nil }
            logPBackward += logD
            t -= 1
        }
        return logPBackward
    }

    /// γₜ(k) = Σ_{s: l′ₛ = k} α̂ₜ(s) β̂ₜ(s) / yₜ(k), normalised over k (the scales
    /// cancel), and the gradient gradₜ(k) = yₜ(k) − γₜ(k). False when a frame's
    /// occupation is not a positive finite number.
    func gradient(
        alpha: UnsafeMutablePointer<Double>, beta: UnsafeMutablePointer<Double>,
        occupation: UnsafeMutablePointer<Double>, grad: UnsafeMutablePointer<Float>, frameStride: Int
    ) -> Bool {
        for t in 0..<T {
            for k in 0..<K { occupation[k] = 0 }
            let a = alpha + t * S, b = beta + t * S, yt = y + t * K
            for s in 0..<S { occupation[l[s]] += a[s] * b[s] }
            var z = 0.0
            for k in 0..<K where occupation[k] > 0 {
                occupation[k] /= yt[k]
                z += occupation[k]
            }
            guard z > 0 && z.isFinite else { return false }
            let g = grad + t * frameStride
            let invZ = 1 / z
            for k in 0..<K { g[k] = Float(yt[k] - occupation[k] * invZ) }
        }
        return true
    }
}

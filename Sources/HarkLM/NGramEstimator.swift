import Foundation

/// Builds an ARPA model with interpolated modified Kneser-Ney smoothing as
/// KenLM's `lmplz` does (Chen & Goodman 1998, "An Empirical Study of
/// Smoothing Techniques for Language Modeling", §3–4; Heafield et al. 2013,
/// "Scalable Modified Kneser-Ney Language Model Estimation", §3).
///
/// Every sentence is read as `<s> w₁ … w_k </s>`. For n-grams g of order n:
///
/// - **Adjusted counts** a(g): the raw count c(g) at the highest order N and
///   for g beginning with `<s>`; otherwise the continuation count
///   N₁₊(• g) = |{x : x g occurs}|. `<s>` and `<unk>` have a = 0.
/// - **Discounts** per order, from the counts of counts tₖ = |{g : a(g) = k}|
///   (Chen & Goodman eq. 26): Y = t₁ / (t₁ + 2 t₂),
///   D_k = k − (k + 1) Y t_{k+1} / t_k for k = 1, 2, 3 (D₃ serves 3+);
///   t₁, t₂, t₃ must be non-zero and 0 ≤ D_k ≤ k, or estimation fails
///   as in lmplz, unless `discountFallback` gives that order's discounts
///   (lmplz --discount_fallback).
/// - **Probabilities**, for a context h (n − 1 words) with
///   S(h) = Σ_w a(h w):
///
///       u(h w)   = (a(h w) − D(a(h w))) / S(h)
///       γ(h)     = (D₁ N₁(h •) + D₂ N₂(h •) + D₃ N₃₊(h •)) / S(h)
///       p(h w)   = u(h w) + γ(h) · p(h′ w)          h′ = h without its first word
///       p(w)     = u(w) + γ(∅) / (|V| − 1)           |V| counts <unk>, <s>, </s>
///
///   and the back-off of a context g is γ(g) (log10 in the file; 0 for an
///   n-gram no longer n-gram extends). `<unk>` gets only the uniform share
///   γ(∅)/(|V| − 1); `<s>` gets probability 1 (log10 0), as in lmplz.
/// - **Pruning** (lmplz --prune): an n-gram of order ≥ 2 whose raw count is
///   ≤ the threshold of its order is left out. The discounts still come from
///   all n-grams; a pruned n-gram's adjusted count moves into γ of its
///   context, so the distribution still sums to one.
public struct NGramEstimator {
    public let order: Int
    /// Pruning thresholds for orders 2, 3, …; the last applies to the higher
    /// orders too. Empty: no pruning. Must be ≥ 0 and non-decreasing.
    public let prune: [Int]

    /// Discounts D₁, D₂, D₃₊ for an order whose counts of counts give none
    /// (lmplz --discount_fallback, whose values `lmplzFallback` are); nil:
    /// such a corpus is an error, as in lmplz by default.
    public var discountFallback: [Double]?

    /// lmplz's default fallback discounts.
    public static let lmplzFallback = [0.5, 1.0, 1.5]

    public init(order: Int, prune: [Int] = []) {
        self.order = order
        self.prune = prune
    }

    /// The pruning threshold of order n (0: keep everything).
    func threshold(_ n: Int) -> Int {
        guard n >= 2, !prune.isEmpty else { return 0 }
        return prune[min(n - 2, prune.count - 1)]
    }

    /// The special words lmplz refuses inside sentences.
    static let specials: Set<String> = ["<s>", "</s>", "<unk>"]

    /// The ARPA text of the model of `sentences` (each a list of words).
    public func estimate(sentences: [[String]]) throws -> String {
        guard (1...NGramModel.maxOrder).contains(order) else {
            throw EstimationError("order \(order) is outside 1…\(NGramModel.maxOrder)")
        }
        guard prune.allSatisfy({ $0 >= 0 }) else { throw EstimationError("pruning thresholds must be ≥ 0: \(prune)") }
        guard zip(prune, prune.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw EstimationError("pruning thresholds must not decrease with the order: \(prune)")
        }
        // Word ids: <unk> 0, <s> 1, </s> 2 (as lmplz), then by first appearance.
        let unk: Int32 = 0, bos: Int32 = 1, eos: Int32 = 2
        var vocabulary: [String] = ["<unk>", "<s>", "</s>"]
        var ids: [String: Int32] = [:]
        // raw[n − 1][g]: occurrences of the n-gram g.
        var raw = [[[Int32]: Int]](repeating: [:], count: order)
        for (index, sentence) in sentences.enumerated() {
            var seq: [Int32] = [bos]
            for word in sentence {
                if Self.specials.contains(word) {
                    throw EstimationError("sentence \(index + 1) contains \(word), which is reserved for the model's own use")
                }
                if let id = ids[word] {
                    seq.append(id)
                } else {
                    let id = Int32(vocabulary.count)
                    ids[word] = id
                    vocabulary.append(word)
                    seq.append(id)
                }
            }
            seq.append(eos)
            for end in 1..<seq.count {
                for n in 1...min(order, end + 1) {
                    raw[n - 1][Array(seq[(end - n + 1)...end]), default: 0] += 1
                }
            }
        }
        raw[0][[unk]] = 0
        raw[0][[bos]] = 0

        // Adjusted counts.
        var adjusted = raw
        for n in stride(from: order - 1, through: 1, by: -1) {
            var continuation: [[Int32]: Int] = [:]
            for g in raw[n].keys { continuation[Array(g.dropFirst()), default: 0] += 1 }
            for g in raw[n - 1].keys where g[0] != bos && g != [unk] {
                adjusted[n - 1][g] = continuation[g] ?? 0
            }
        }
        adjusted[0][[bos]] = 0

        // Discounts D[n − 1][k], k = 0…3, from the counts of counts.
        var discounts: [[Double]] = []
        for n in 1...order {
            var t = [Int](repeating: 0, count: 5)
            for a in adjusted[n - 1].values where a >= 1 && a <= 4 { t[a] += 1 }
            do {
                discounts.append(try Self.discounts(order: n, countsOfCounts: t))
            } catch let error as EstimationError {
                guard let fallback = discountFallback, fallback.count == 3 else {
                    throw EstimationError(error.problem + "; the corpus is too small or too repetitive for order \(order) (add text, lower the order, or use fallback discounts)")
                }
                discounts.append([0] + fallback)
            }
        }

        func pruned(_ g: [Int32]) -> Bool { g.count >= 2 && raw[g.count - 1][g]! <= threshold(g.count) }

        // Per context h: S(h) and γ(h).
        var sums = [[[Int32]: Double]](repeating: [:], count: order)   // sums[n − 1][h], |h| = n − 1
        var gamma = [[[Int32]: Double]](repeating: [:], count: order)
        for n in 1...order {
            let d = discounts[n - 1]
            var numerator: [[Int32]: Double] = [:]
            for (g, a) in adjusted[n - 1] {
                let h = Array(g.dropLast())
                sums[n - 1][h, default: 0] += Double(a)
                numerator[h, default: 0] += pruned(g) ? Double(a) : (a > 0 ? d[min(a, 3)] : 0)
            }
            for (h, s) in sums[n - 1] { gamma[n - 1][h] = numerator[h]! / s }
        }
        // Interpolation, lower orders first: p(h w) = u(h w) + γ(h) · p(h′ w).
        let uniform = 1 / Double(adjusted[0].count - 1)  // <s> excluded
        var prob = [[[Int32]: Double]](repeating: [:], count: order)
        for n in 1...order {
            let d = discounts[n - 1]
            for (g, a) in adjusted[n - 1] where !pruned(g) {
                let h = Array(g.dropLast())
                let u = (Double(a) - (a > 0 ? d[min(a, 3)] : 0)) / sums[n - 1][h]!
                let lower = n == 1 ? uniform : prob[n - 2][Array(g.dropFirst())]!
                prob[n - 1][g] = u + gamma[n - 1][h]! * lower
            }
        }
        prob[0][[bos]] = 1

        // The ARPA text: unigrams in id order, longer n-grams sorted by ids.
        var out = "\\data\\\n"
        for n in 1...order { out += "ngram \(n)=\(prob[n - 1].count)\n" }
        for n in 1...order {
            out += "\n\\\(n)-grams:\n"
            let grams = prob[n - 1].keys.sorted { $0.lexicographicallyPrecedes($1) }
            for g in grams {
                out += Self.format(min(0, log10(prob[n - 1][g]!)))
                out += "\t" + g.map { vocabulary[Int($0)] }.joined(separator: " ")
                if n < order {
                    // γ(g) when g is a context of a kept or pruned longer n-gram; else 1.
                    let isContext = g.last != unk && g.last != eos && gamma[n][g] != nil
                    out += "\t" + Self.format(isContext ? log10(gamma[n][g]!) : 0)
                }
                out += "\n"
            }
        }
        out += "\n\\end\\\n"
        return out
    }

    /// D₀…D₃ of one order from its counts of counts t₁…t₄ (Chen & Goodman eq. 26).
    static func discounts(order n: Int, countsOfCounts t: [Int]) throws -> [Double] {
        for k in 1...3 where t[k] == 0 {
            throw EstimationError("cannot compute Kneser-Ney discounts for \(n)-grams: no \(n)-gram has adjusted count \(k)")
        }
        let y = Double(t[1]) / Double(t[1] + 2 * t[2])
        var d = [0.0, 0, 0, 0]
        for k in 1...3 {
            d[k] = Double(k) - Double(k + 1) * y * Double(t[k + 1]) / Double(t[k])
            guard d[k] >= 0 && d[k] <= Double(k) else {
                throw EstimationError("the \(n)-gram discount D\(k) = \(d[k]) is outside [0, \(k)]")
            }
        }
        return d
    }

    /// A log10 value as the shortest text that reads back as the same Float.
    static func format(_ value: Double) -> String {
        let f = Float(value)
        if f == 0 { return "0" }
        return "\(f)"
    }
}

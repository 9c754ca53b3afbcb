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
///
/// Storage: the n-grams of each order are numbered as they first appear,
/// n-gram i of order n being (an (n−1)-gram id, a word id) (`GramCounts`),
/// so counts, contexts, suffixes and probabilities are flat arrays indexed
/// by those ids. Memory grows with the number of distinct n-grams (about
/// 190 bytes each at order 4, the ARPA text included); the output lists each
/// order in the order of first appearance.
public struct NGramEstimator {
    /// N, the order of the model built: its longest n-grams.
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

    /// An estimator of order-`order` models with the given pruning thresholds (none by default) and no fallback discounts.
    public init(order: Int, prune: [Int] = []) {
        self.order = order
        self.prune = prune
    }

    /// The pruning threshold of order n (0: keep everything).
    func threshold(_ n: Int) -> Int {
        guard n >= 2, !prune.isEmpty else { return 0 }
        return prune[min(n - 2, prune.count - 1)]
    }

    /// Words by id, their ids, and the n-gram counts of the sentences added so far.
    private var vocabulary: [String] = [ARPAWords.unknown, ARPAWords.sentenceStart, ARPAWords.sentenceEnd]
    private var ids: [String: Int32] = [:]
    private var grams: [GramCounts] = []
    /// Sentences added so far.
    public private(set) var sentences = 0

    /// The ARPA text of the model of `sentences` (each a list of words).
    public func estimate(sentences: [[String]]) throws -> String {
        var estimator = self
        for sentence in sentences { try estimator.add(sentence) }
        return try estimator.arpa()
    }

    /// Counts the n-grams of one more sentence (a corpus is read as a stream:
    /// memory holds the counts, not the text).
    public mutating func add(_ sentence: [String]) throws {
        // Word ids: <unk> 0, <s> 1, </s> 2 (as lmplz), then by first appearance.
        // Unigram ids are word ids; grams[n − 1] numbers the n-grams of order n ≥ 2.
        let bos: Int32 = 1, eos: Int32 = 2
        if grams.isEmpty {
            guard (1...NGramModel.maxOrder).contains(order) else {
                throw EstimationError("order \(order) is outside 1…\(NGramModel.maxOrder)")
            }
            grams = (1...order).map { GramCounts(order: $0) }
            grams[0].raw = [0, 0, 0]
        }
        sentences += 1
        var seq: [Int32] = [bos]
        for word in sentence {
            if ARPAWords.special.contains(word) {  // lmplz refuses them inside sentences
                throw EstimationError("sentence \(sentences) contains \(word), which is reserved for the model's own use")
            }
            if let id = ids[word] {
                seq.append(id)
            } else {
                let id = Int32(vocabulary.count)
                ids[word] = id
                vocabulary.append(word)
                grams[0].raw.append(0)
                seq.append(id)
            }
        }
        seq.append(eos)
        // Every n-gram of the sentence, by its start s: seq[s], seq[s…s+1], …
        for s in 0..<seq.count {
            var id = seq[s]
            grams[0].raw[Int(id)] += 1
            var n = 2
            while n <= order && s + n - 1 < seq.count {
                id = grams[n - 1].add(prefix: id, word: seq[s + n - 1])
                n += 1
            }
        }
    }

    /// The ARPA text of the model of the sentences added.
    public func arpa() throws -> String {
        guard (1...NGramModel.maxOrder).contains(order) else {
            throw EstimationError("order \(order) is outside 1…\(NGramModel.maxOrder)")
        }
        guard prune.allSatisfy({ $0 >= 0 }) else { throw EstimationError("pruning thresholds must be ≥ 0: \(prune)") }
        guard zip(prune, prune.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw EstimationError("pruning thresholds must not decrease with the order: \(prune)")
        }
        let unk: Int32 = 0, bos: Int32 = 1, eos: Int32 = 2
        var grams = self.grams
        if grams.isEmpty {
            grams = (1...order).map { GramCounts(order: $0) }
            grams[0].raw = [0, 0, 0]
        }
        grams[0].raw[Int(bos)] = 0  // the unigram <s> is not counted, as in lmplz
        let counts = grams.map(\.count)
        for n in stride(from: 2, through: order, by: 1) { grams[n - 1].linkSuffixes(lower: n == 2 ? nil : grams[n - 2]) }

        // Adjusted counts: raw at the highest order and for n-grams that begin with <s>;
        // else the number of distinct words before the n-gram.
        var adjusted = grams.map { $0.raw }
        var startsWithBOS: [[Bool]] = [(0..<counts[0]).map { $0 == Int(bos) }]
        for n in 2..<(order + 1) {
            startsWithBOS.append(grams[n - 1].prefix.map { startsWithBOS[n - 2][Int($0)] })
        }
        for n in 1..<order {
            var continuation = [Int](repeating: 0, count: counts[n - 1])
            for suffix in grams[n].suffix { continuation[Int(suffix)] += 1 }
            for i in 0..<counts[n - 1] where !startsWithBOS[n - 1][i] { adjusted[n - 1][i] = continuation[i] }
        }
        adjusted[0][Int(unk)] = 0
        adjusted[0][Int(bos)] = 0

        // Discounts D[n − 1][k], k = 0…3, from the counts of counts.
        var discounts: [[Double]] = []
        for n in 1...order {
            var t = [Int](repeating: 0, count: 5)
            for a in adjusted[n - 1] where a >= 1 && a <= 4 { t[a] += 1 }
            do {
                discounts.append(try Self.discounts(order: n, countsOfCounts: t))
            } catch let error as EstimationError {
                guard let fallback = discountFallback, fallback.count == 3 else {
                    throw EstimationError(
                        error.problem
                            + "; the corpus is too small or too repetitive for order \(order) (add text, lower the order, or use fallback discounts)"
                    )
                }
                discounts.append([0] + fallback)
            }
        }

        func pruned(_ n: Int, _ i: Int) -> Bool { n >= 2 && grams[n - 1].raw[i] <= threshold(n) }
        /// The context of n-gram i of order n: an n−1-gram id (all unigrams share context 0).
        func context(_ n: Int, _ i: Int) -> Int { n == 1 ? 0 : Int(grams[n - 1].prefix[i]) }

        // Per context h: S(h) = Σ_w a(h w) and γ(h); contexts[n − 1] are the (n−1)-grams that have extensions.
        var sums: [[Double]] = [], gamma: [[Double]] = []
        for n in 1...order {
            let d = discounts[n - 1]
            let contexts = n == 1 ? 1 : counts[n - 2]
            var sum = [Double](repeating: 0, count: contexts), numerator = [Double](repeating: 0, count: contexts)
            for i in 0..<counts[n - 1] {
                let a = adjusted[n - 1][i], h = context(n, i)
                sum[h] += Double(a)
                numerator[h] += pruned(n, i) ? Double(a) : (a > 0 ? d[min(a, 3)] : 0)
            }
            sums.append(sum)
            gamma.append(zip(numerator, sum).map { $1 > 0 ? $0 / $1 : .nan })
        }
        // Interpolation, lower orders first: p(h w) = u(h w) + γ(h) · p(h′ w).
        let uniform = 1 / Double(counts[0] - 1)  // <s> excluded
        var prob: [[Double]] = []
        for n in 1...order {
            let d = discounts[n - 1]
            var p = [Double](repeating: .nan, count: counts[n - 1])
            for i in 0..<counts[n - 1] where !pruned(n, i) {
                let a = adjusted[n - 1][i], h = context(n, i)
                let u = (Double(a) - (a > 0 ? d[min(a, 3)] : 0)) / sums[n - 1][h]
                let lower = n == 1 ? uniform : prob[n - 2][Int(grams[n - 1].suffix[i])]
                p[i] = u + gamma[n - 1][h] * lower
            }
            prob.append(p)
        }
        prob[0][Int(bos)] = 1

        // The ARPA text, each order in the order of first appearance.
        var text: [[String]] = [vocabulary]  // text[n − 1][i]: "w₁ … wₙ" of n-gram i
        var out = "\\data\\\n"
        for n in 1...order { out += "ngram \(n)=\((0..<counts[n - 1]).filter { !pruned(n, $0) }.count)\n" }
        for n in 1...order {
            if n >= 2 {
                let g = grams[n - 1]
                text.append((0..<counts[n - 1]).map { text[n - 2][Int(g.prefix[$0])] + " " + vocabulary[Int(g.word[$0])] })
                if n >= 3 { text[n - 2] = [] }  // order n − 1 is written and order n spelt: free its texts
            }
            out += "\n\\\(n)-grams:\n"
            for i in 0..<counts[n - 1] where !pruned(n, i) {
                out += Self.format(min(0, log10(prob[n - 1][i])))
                out += "\t" + text[n - 1][i]
                if n < order {
                    // γ(g) when g is a context of a kept or pruned longer n-gram; else 1.
                    let last = n == 1 ? Int32(i) : grams[n - 1].word[i]
                    let isContext = last != unk && last != eos && sums[n][i] > 0
                    out += "\t" + Self.format(isContext ? log10(gamma[n][i]) : 0)
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

/// The n-grams of one order n ≥ 2, numbered by first appearance: n-gram i
/// is its first n − 1 words (the (n−1)-gram `prefix[i]`) followed by
/// `word[i]`, seen `raw[i]` times; `suffix[i]` is the (n−1)-gram of its last
/// n − 1 words. For n = 1 only `raw` is used (unigram ids are word ids).
struct GramCounts {
    let order: Int
    var prefix: [Int32] = []
    var word: [Int32] = []
    var raw: [Int] = []
    var suffix: [Int32] = []
    private var index: [UInt64: Int32] = [:]

    init(order: Int) { self.order = order }

    var count: Int { raw.count }

    private static func key(_ prefix: Int32, _ word: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: prefix)) << 32 | UInt64(UInt32(bitPattern: word))
    }

    /// Counts one occurrence of (prefix, word); returns its id.
    mutating func add(prefix p: Int32, word w: Int32) -> Int32 {
        let k = Self.key(p, w)
        if let id = index[k] {
            raw[Int(id)] += 1
            return id
        }
        let id = Int32(raw.count)
        index[k] = id
        prefix.append(p)
        word.append(w)
        raw.append(1)
        return id
    }

    func find(prefix p: Int32, word w: Int32) -> Int32? { index[Self.key(p, w)] }

    /// Fills `suffix` from the order below (nil: unigrams, whose ids are word ids).
    /// The suffix of (prefix, w) is (suffix of prefix, w), which the order below has.
    mutating func linkSuffixes(lower: GramCounts?) {
        suffix = (0..<count).map { i in
            guard let lower else { return word[i] }
            return lower.find(prefix: lower.suffix[Int(prefix[i])], word: word[i])!
        }
    }
}

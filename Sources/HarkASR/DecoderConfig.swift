/// The optional `"decoder"` object of a model's `config.json`: the decoding a
/// model directory recommends, used by `hark transcribe` and `hark eval`
/// unless flags say otherwise.
///
///     "decoder": { "lm": "lm.arpa", "alpha": 0.6, "beta": 1.5, "beam": 32,
///                  "unknown_penalty": -10, "token_min_logprob": -8 }
///
/// `lm` is a path relative to the model directory (an ARPA file, plain or gzip).
public struct DecoderConfig: Codable, Equatable, Sendable {
    /// The language model, relative to the model directory; nil: none.
    public var lm: String?
    /// α, the language model's weight (`WordDecodingOptions.alpha`); nil: the default.
    public var alpha: Float?
    /// β, the bonus per word (`WordDecodingOptions.beta`); nil: the default.
    public var beta: Float?
    /// The beam width; nil: greedy decoding unless words or n-best call for a beam.
    public var beam: Int?
    /// Added (natural log) to a word the vocabulary does not know (`WordDecodingOptions.unknownPenalty`); nil: the default.
    public var unknownPenalty: Float?
    /// Tokens below this log-probability at a frame are not tried by the beam.
    public var tokenMinLogprob: Float?

    /// A configuration of the given values (nil: the default, and left out of config.json).
    public init(
        lm: String? = nil, alpha: Float? = nil, beta: Float? = nil, beam: Int? = nil,
        unknownPenalty: Float? = nil, tokenMinLogprob: Float? = nil
    ) {
        self.lm = lm
        self.alpha = alpha
        self.beta = beta
        self.beam = beam
        self.unknownPenalty = unknownPenalty
        self.tokenMinLogprob = tokenMinLogprob
    }

    enum CodingKeys: String, CodingKey {
        case lm, alpha, beta, beam
        case unknownPenalty = "unknown_penalty"
        case tokenMinLogprob = "token_min_logprob"
    }

    /// Checks every field; the error names it.
    public func validate() throws {
        for (name, v) in [("alpha", alpha), ("beta", beta), ("unknown_penalty", unknownPenalty), ("token_min_logprob", tokenMinLogprob)] {
            if let v, !v.isFinite || abs(v) > 1000 { throw InvalidValue("\(name) \(v) must be a finite number of magnitude ≤ 1000") }
        }
        if let b = beam, !(1...Limits.beamWidth).contains(b) { throw InvalidValue("beam \(b) must be in 1…\(Limits.beamWidth)") }
        if let lm, lm.isEmpty || lm.contains("\0") { throw InvalidValue("lm \"\(lm)\" is not a file name") }
    }
}

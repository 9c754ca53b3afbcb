import Foundation
import HarkCTC
import HarkLM

/// What a caller asks of decoding, on top of the model's `"decoder"`
/// (`DecoderConfig`) and the library's defaults: every field nil or empty
/// means "the model's, else the default". `hark transcribe`, `eval`, `tune`,
/// `plot` and `serve` fill one from their flags; a library caller that
/// leaves it empty decodes as they do without flags.
public struct DecodingRequest: Sendable {
    /// Beam width; nil: the model's `beam`, else greedy unless words or
    /// n-best call for a beam (then `BeamSearchOptions.defaultWidth`).
    public var beam: Int?
    /// An ARPA file (plain or gzip); "none" turns the model's off; nil: the model's.
    public var lm: String?
    /// α, the language model's weight; nil: the model's, else `WordDecodingOptions`'s default.
    public var alpha: Float?
    /// β, the bonus per word; nil: the model's, else `WordDecodingOptions`'s default.
    public var beta: Float?
    /// Added (natural log) to a word the vocabulary does not know; nil: the model's, else `WordDecodingOptions`'s default.
    public var unknownPenalty: Float?
    /// Words that alone may be output (already read from their file).
    public var vocabulary: [String]?
    /// Words or phrases to favour and their boost (natural log per word).
    public var hotwords: [(word: String, boost: Float)] = []
    /// Hypotheses returned, best first; more than 1 calls for beam search, whose width must be at least this.
    public var nBest = 1
    /// Tokens below this log-probability at a frame are not tried by the beam; nil: the model's, else
    /// `BeamSearchOptions.wordTokenThreshold` with words and −∞ without.
    public var tokenMinLogprob: Float?
    /// Prefixes more than this below the best are dropped after each frame; nil: `BeamSearchOptions.wordScorePruning`
    /// with words, −∞ (none dropped) without.
    public var beamPruneLogprob: Float?
    /// Decode words (a beam with the word scorer) even without a language
    /// model, a vocabulary or a hotword: `hark`'s `--hotwords FILE` asks for
    /// it whether or not the file holds any.
    public var words = false

    /// An empty request: the model's decoding, else the defaults.
    public init() {}
}

/// A request for more best hypotheses than the beam keeps.
public struct NBestExceedsBeam: Error, CustomStringConvertible, Equatable {
    /// The best hypotheses asked for.
    public let nBest: Int
    /// The beam width the request decodes with.
    public let width: Int
    /// The problem in one line.
    public var description: String {
        "n-best \(nBest) is more than the beam keeps (\(width)): a beam of \(nBest) or more is needed"
    }
}

extension AcousticModel {
    /// The language model a request decodes with: its `lm`, else the model's
    /// `decoder.lm` (relative to the model directory); nil: none.
    public func languageModelPath(_ request: DecodingRequest) -> String? {
        if let lm = request.lm { return lm == "none" ? nil : lm }
        return config.decoder?.lm.map { (directory ?? URL(fileURLWithPath: ".")).appendingPathComponent($0).path }
    }

    /// Reads the language model a request decodes with (once; shared by every utterance).
    public func loadLanguageModel(_ request: DecodingRequest) throws -> NGramModel? {
        guard let path = languageModelPath(request) else { return nil }
        return try NGramModel.read(URL(fileURLWithPath: path))
    }

    /// Whether a request decodes words (an LM, a vocabulary or hotwords).
    public func decodesWords(_ request: DecodingRequest) -> Bool {
        request.words || languageModelPath(request) != nil || request.vocabulary != nil || !request.hotwords.isEmpty
    }

    /// The decoding of this model for `request`, with `lm` the model
    /// `loadLanguageModel(request)` read: greedy unless a beam, words or
    /// n-best are asked for; otherwise prefix beam search with the request's
    /// values, else the model's `"decoder"`, else the library's defaults
    /// (`BeamSearchOptions.defaultWidth`, `wordTokenThreshold`,
    /// `wordScorePruning`, `WordDecodingOptions()`). Words and hotwords are
    /// normalised as the model's text.
    public func decoding(_ request: DecodingRequest = DecodingRequest(), lm: NGramModel?) throws -> DecoderOptions {
        let words = decodesWords(request)
        let width = request.beam ?? config.decoder?.beam
        guard words || width != nil || request.nBest > 1 else { return .greedy }
        let beamWidth = width ?? BeamSearchOptions.defaultWidth
        guard request.nBest <= beamWidth else { throw NBestExceedsBeam(nBest: request.nBest, width: beamWidth) }
        var options = BeamSearchOptions(width: beamWidth, nBest: request.nBest)
        options.tokenThreshold =
            request.tokenMinLogprob ?? config.decoder?.tokenMinLogprob ?? (words ? BeamSearchOptions.wordTokenThreshold : -.infinity)
        options.scorePruning = request.beamPruneLogprob ?? (words ? BeamSearchOptions.wordScorePruning : -.infinity)
        guard words else { return .beam(options) }
        guard let space = vocabulary.tokens.firstIndex(of: " ") else {
            throw InvalidValue("the model has no space token: word decoding needs one")
        }
        var o = WordDecodingOptions()
        o.alpha = request.alpha ?? config.decoder?.alpha ?? o.alpha
        o.beta = request.beta ?? config.decoder?.beta ?? o.beta
        o.unknownPenalty = request.unknownPenalty ?? config.decoder?.unknownPenalty ?? o.unknownPenalty
        let normalize = { (s: String) in self.config.text.normalize(s) }
        if let list = request.vocabulary {
            o.vocabulary = list.map(normalize).filter { !$0.isEmpty }
            guard !(o.vocabulary!.isEmpty) else { throw InvalidValue("the vocabulary has no word in it") }
        }
        for (w, boost) in request.hotwords { o.hotwords[normalize(w)] = boost }
        if let lm {
            options.scorer = WordScorer(lm: lm, options: o, tokens: vocabulary.tokens, space: space)
        } else {
            options.scorer = WordScorer(lm: NoLanguageModel(), hasModel: false, options: o, tokens: vocabulary.tokens, space: space)
        }
        return .beam(options)
    }
}

extension Transcriber {
    /// A transcriber that decodes as the model's directory says (its
    /// `"decoder"`, language model included), changed by `request`: what
    /// `hark transcribe`, `eval` and `serve` build.
    public convenience init(model: AcousticModel, request: DecodingRequest) throws {
        self.init(model: model, decoding: try model.decoding(request, lm: try model.loadLanguageModel(request)))
    }
}

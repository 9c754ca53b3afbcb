import ArgumentParser
import Foundation
import HarkASR
import HarkCTC
import HarkLM

/// How `transcribe`, `eval` and `tune` decode: greedy by default; a beam, a
/// language model, a vocabulary or hotwords turn on prefix beam search with
/// word fusion. A model directory's `"decoder"` defaults apply unless a flag
/// says otherwise.
struct DecodingFlags: ParsableArguments {
    @Option(
        help:
            "Beam search with this beam width (default: greedy, or the model's decoder.beam; \(BeamSearchOptions.defaultWidth) when words or --nbest call for a beam)."
    )
    var beam: Int?
    @Option(
        help:
            "A word n-gram language model (ARPA, plain or gzip) fused into the beam search (default: the model's decoder.lm). 'none' turns the model's off."
    )
    var lm: String?
    @Option(help: "Weight α of the LM's log-probability (default: the model's, else \(number(WordDecodingOptions().alpha))).")
    var alpha: Float?
    @Option(help: "Bonus β per word (default: the model's, else \(number(WordDecodingOptions().beta))).")
    var beta: Float?
    @Option(
        help:
            "Penalty (natural log) for a word the LM or vocabulary does not know (default \(number(WordDecodingOptions().unknownPenalty)))."
    )
    var unknownPenalty: Float?
    @Option(help: "Only words of this file (one per line) may be output.")
    var vocabulary: String?
    @Option(
        help:
            "A word or phrase to favour, WORD[:BOOST] (boost in natural log per word, default \(number(WordDecodingOptions.defaultHotwordBoost))); repeatable."
    )
    var hotword: [String] = []
    @Option(help: "A file of hotwords, one WORD[:BOOST] per line.")
    var hotwords: String?
    @Option(help: "Keep the N best hypotheses (JSON output lists them with their scores).")
    var nbest: Int = 1
    @Option(
        help:
            "Tokens below this log-probability at a frame are not tried by the beam (default with words \(number(BeamSearchOptions.wordTokenThreshold)), else -inf: all)."
    )
    var tokenMinLogprob: Float?
    @Option(
        help:
            "Prefixes scoring more than this below the best are dropped after each frame (default with words \(number(BeamSearchOptions.wordScorePruning)), else -inf: keep the beam width)."
    )
    var beamPruneLogprob: Float?

    mutating func validate() throws {
        if let beam, !(1...Limits.beamWidth).contains(beam) { throw ValidationError("--beam \(beam) must be in 1…\(Limits.beamWidth)") }
        guard (1...Limits.beamWidth).contains(nbest) else { throw ValidationError("--nbest \(nbest) must be in 1…\(Limits.beamWidth)") }
        for (name, v) in [("alpha", alpha), ("beta", beta), ("unknown-penalty", unknownPenalty)] {
            if let v, !v.isFinite || abs(v) > 1000 { throw ValidationError("--\(name) \(v) must be a finite number of magnitude ≤ 1000") }
        }
        if let t = tokenMinLogprob, t.isNaN || t > 0 { throw ValidationError("--token-min-logprob \(t) must be ≤ 0") }
        if let t = beamPruneLogprob, t.isNaN || t > 0 { throw ValidationError("--beam-prune-logprob \(t) must be ≤ 0") }
        for h in hotword { _ = try Self.parseHotword(h, source: "--hotword") }
    }

    static func parseHotword(_ text: String, source: String) throws -> (String, Float) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let word = String(parts[0]).trimmingCharacters(in: .whitespaces)
        let shown = text.count > 60 ? "\(text.prefix(60))…" : text
        guard !word.isEmpty, parts.count <= 2 else { throw ValidationError("\(source) \"\(shown)\": expected WORD[:BOOST]") }
        guard word.utf8.count <= ARPALimits.wordBytes else {
            throw ValidationError(
                "\(source) \"\(shown)\": \(word.utf8.count) bytes; the longest hotword Hark takes is \(ARPALimits.wordBytes)")
        }
        guard parts.count == 2 else { return (word, WordDecodingOptions.defaultHotwordBoost) }
        guard let boost = Float(parts[1]), boost.isFinite, abs(boost) <= 1000 else {
            throw ValidationError("\(source) \"\(shown)\": the boost must be a number from -1000 to 1000")
        }
        return (word, boost)
    }

    /// The largest word list read (a vocabulary of millions of words fits).
    static let maxWordFileBytes = 64 << 20

    /// A word list: a regular UTF-8 text file of at most `maxWordFileBytes`.
    static func readWordFile(_ path: String, flag: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ToolError("\(flag) \(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ToolError("\(flag) \(path): not a regular file") }
        guard Int(info.st_size) <= maxWordFileBytes else {
            throw ToolError("\(flag) \(path): \(info.st_size) bytes; at most \(maxWordFileBytes) are read")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ToolError("\(flag) \(path): cannot read it as UTF-8 text")
        }
        return text
    }

    /// The flags as a library request (word files read and checked here, so
    /// that errors name the flag and the line); `alpha`, `beta` override theirs.
    func request(alpha a: Float? = nil, beta b: Float? = nil) throws -> DecodingRequest {
        var r = DecodingRequest()
        r.beam = beam
        r.lm = lm
        r.alpha = a ?? alpha
        r.beta = b ?? beta
        r.unknownPenalty = unknownPenalty
        r.nBest = nbest
        r.tokenMinLogprob = tokenMinLogprob
        r.beamPruneLogprob = beamPruneLogprob
        if let vocabulary {
            let text = try Self.readWordFile(vocabulary, flag: "--vocabulary")
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            if let i = lines.firstIndex(where: { $0.utf8.count > ARPALimits.wordBytes }) {
                throw ToolError(
                    "--vocabulary \(vocabulary) line \(i + 1): a word of \(lines[i].utf8.count) bytes; the longest Hark takes is \(ARPALimits.wordBytes)"
                )
            }
            r.vocabulary = lines.map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !(r.vocabulary!.isEmpty) else { throw ToolError("--vocabulary \(vocabulary): no word in it") }
        }
        var pairs = try hotword.map { try Self.parseHotword($0, source: "--hotword") }
        if let hotwords {
            let text = try Self.readWordFile(hotwords, flag: "--hotwords")
            for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                do { pairs.append(try Self.parseHotword(String(line), source: "--hotwords \(hotwords) line \(i + 1):")) } catch {
                    throw ToolError("\(error)")
                }
            }
        }
        r.hotwords = pairs.map { (word: $0.0, boost: $0.1) }
        r.words = hotwords != nil
        return r
    }

    /// The loaded LM, if any (read once; shared by every utterance).
    func loadLM(_ model: AcousticModel) throws -> NGramModel? {
        try model.loadLanguageModel(try request())
    }

    /// The decoding for `model` (with `lm` already loaded), optionally with
    /// other α, β: the library's (`AcousticModel.decoding`) for these flags.
    func decoding(_ model: AcousticModel, lm: NGramModel?, alpha: Float? = nil, beta: Float? = nil) throws -> DecoderOptions {
        do {
            return try model.decoding(try request(alpha: alpha, beta: beta), lm: lm)
        } catch let e as NBestExceedsBeam {
            throw ValidationError("--nbest \(e.nBest) is more than the beam keeps (\(e.width)): give --beam \(e.nBest) or more")
        } catch let e as InvalidValue {
            throw ToolError(e.description)
        }
    }
}

/// A default as help prints it: "0.5", "-10".
private func number(_ x: Float) -> String { x == x.rounded() ? String(Int(x)) : "\(x)" }

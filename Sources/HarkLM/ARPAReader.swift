import Foundation

extension NGramModel {
    /// Reads an ARPA file written by KenLM, SRILM or `hark lm`, plain or gzip
    /// (recognised by its magic bytes, not its extension). A malformed file
    /// throws an `ARPAError` naming the file, the line and what is wrong.
    public static func read(_ url: URL) throws -> NGramModel {
        try read(bytes: try readBytes(url.path), name: url.path)
    }

    /// Reads an ARPA file held in memory, plain or gzip, with the checks of
    /// `read`; `name` is used in errors.
    public static func read(bytes: [UInt8], name: String) throws -> NGramModel {
        var bytes = bytes
        if Gzip.isCompressed(bytes) {
            // Inflated as a stream and refused early: a gzip bomb never reaches memory whole.
            bytes = try Gzip.decompress(bytes, name: name, maxRatio: ARPALimits.maxInflationRatio) { head in
                guard head.count < ARPALimits.headerWithin || ARPAParser.containsDataLine(head) else {
                    throw ARPAError(
                        file: name, line: nil,
                        problem: "no \\data\\ line in the first \(ARPALimits.headerWithin >> 20) MiB of the inflated text: not an ARPA file"
                    )
                }
            }
        }
        var parser = ARPAParser(bytes: bytes, name: name)
        return try parser.parse()
    }

    /// The file's bytes, read straight into one array (no second copy).
    static func readBytes(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ARPAError(
                file: path, line: nil,
                problem: errno == ENOENT ? "no such file" : "cannot read the file (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ARPAError(file: path, line: nil, problem: "not a regular file")
        }
        let size = Int(info.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let n = Foundation.read(fd, buffer.baseAddress! + count, size - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : 0; break }
                count += n
            }
        }
        if failure != 0 { throw ARPAError(file: path, line: nil, problem: "cannot read the file (\(String(cString: strerror(failure))))") }
        return bytes
    }

    /// Parses ARPA text, with the checks of `read`; `name` is used in errors.
    public static func parse(_ text: String, name: String) throws -> NGramModel {
        var parser = ARPAParser(bytes: Array(text.utf8), name: name)
        return try parser.parse()
    }
}

/// The ARPA back-off format (as SRILM's ngram-format(5) describes it):
///
///     \data\
///     ngram 1=<count>
///     …
///     ngram N=<count>
///
///     \1-grams:
///     <log10 p>  <w>  [<log10 bo>]
///     …
///     \N-grams:
///     <log10 p>  <w₁ … w_N>
///
///     \end\
///
/// Fields are separated by tabs or spaces; anything before `\data\` (comments
/// some tools write) and after `\end\` is ignored. Checked: the counts are
/// consecutive from order 1, each section has exactly its header's count of
/// lines, each line has a probability, n words and (below the highest order)
/// an optional back-off; numbers parse, a probability is ≤ 0 and not NaN
/// (−inf allowed), a back-off is finite; the words of longer n-grams are
/// unigrams; the context (first n − 1 words) of an n-gram is an n−1-gram,
/// as KenLM requires; no n-gram appears twice; `<s>` and `</s>` are unigrams.
/// Limits on what an ARPA file may hold (docs/limits.md).
public enum ARPALimits {
    /// The longest word, in bytes (the decoder's word tree costs memory per letter).
    public static let wordBytes = 1000
    /// Inflated bytes per compressed byte of a gzip file (ARPA text compresses 3–6×; a bomb 1000×).
    public static let maxInflationRatio = 100
    /// A gzip file's `\data\` line must come within this many inflated bytes.
    public static let headerWithin = 1 << 20
}

struct ARPAParser {
    /// Whether `bytes` holds a line that is `\data\` (blanks around it allowed).
    static func containsDataLine(_ bytes: [UInt8]) -> Bool {
        bytes.split(separator: 10, omittingEmptySubsequences: true).contains { line in
            line.filter { $0 != 32 && $0 != 9 && $0 != 13 }.elementsEqual("\\data\\".utf8)
        }
    }

    /// A run of the file's bytes (no reference counting, unlike ArraySlice).
    typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

    let bytes: [UInt8]
    let name: String
    /// `bytes` while `parse` runs.
    private var buffer = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var position = 0
    private var lineNumber = 0
    /// The fields of the current line, reused from line to line.
    private var fieldBuffer: [Bytes] = []

    init(bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.name = name
    }

    private func fail(_ problem: String, line: Int? = nil) -> ARPAError {
        ARPAError(file: name, line: line ?? lineNumber, problem: problem)
    }

    /// The next line without its end of line (\n or \r\n), or nil at the end.
    private mutating func nextLine() -> Bytes? {
        let bytes = buffer
        guard position < bytes.count else { return nil }
        let start = position
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        position = end + 1
        lineNumber += 1
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { return bytes[start..<(end - 1)] }
        return bytes[start..<end]
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0d || b == 0x0b || b == 0x0c }

    private static func trimmed(_ line: Bytes) -> Bytes {
        var s = line.startIndex, e = line.endIndex
        while s < e && isSpace(line[s]) { s += 1 }
        while e > s && isSpace(line[e - 1]) { e -= 1 }
        return line[s..<e]
    }

    /// The line's fields, in `fieldBuffer`.
    private mutating func split(_ line: Bytes) {
        fieldBuffer.removeAll(keepingCapacity: true)
        var i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex && Self.isSpace(line[i]) { i += 1 }
            let start = i
            while i < line.endIndex && !Self.isSpace(line[i]) { i += 1 }
            if i > start { fieldBuffer.append(line[start..<i]) }
        }
    }

    private static func text(_ s: Bytes) -> String { String(decoding: UnsafeBufferPointer(rebasing: s), as: UTF8.self) }

    private static func quoted(_ s: Bytes) -> String {
        let t = text(s)
        return "\"" + (t.count > 60 ? String(t.prefix(60)) + "…" : t) + "\""
    }

    /// A number as Swift reads it (decimal or exponent form, nan, inf; a
    /// decimal point whatever the locale), the whole field or an error.
    private func number(_ field: Bytes, what: String) throws -> Float {
        guard let v = Float(Self.text(field)) else { throw fail("\(what) \(Self.quoted(field)) is not a number") }
        return v
    }

    mutating func parse() throws -> NGramModel {
        let bytes = self.bytes
        return try bytes.withUnsafeBufferPointer { b in
            buffer = b
            defer { buffer = UnsafeBufferPointer(start: nil, count: 0) }
            return try parseBuffer()
        }
    }

    private mutating func parseBuffer() throws -> NGramModel {
        // \data\ and the counts.
        var found = false
        while let line = nextLine() {
            if Self.trimmed(line).elementsEqual("\\data\\".utf8) { found = true; break }
        }
        guard found else { throw fail("no \\data\\ line: not an ARPA file", line: max(lineNumber, 1)) }
        var counts: [Int] = []
        var section: Bytes?
        while let raw = nextLine() {
            let line = Self.trimmed(raw)
            if line.isEmpty { continue }
            if line.first == UInt8(ascii: "\\") { section = line; break }
            guard line.starts(with: "ngram ".utf8) else {
                throw fail("expected \"ngram N=COUNT\" in the \\data\\ header, found \(Self.quoted(line))")
            }
            let spec = Self.text(line.dropFirst(6)).split(separator: "=", omittingEmptySubsequences: false)
            guard spec.count == 2, let n = Int(spec[0].trimmingCharacters(in: .whitespaces)),
                let c = Int(spec[1].trimmingCharacters(in: .whitespaces))
            else {
                throw fail("expected \"ngram N=COUNT\" in the \\data\\ header, found \(Self.quoted(line))")
            }
            guard n == counts.count + 1 else {
                throw fail("the header's orders must run 1, 2, 3, …; found order \(n) after \(counts.count)")
            }
            guard n <= NGramModel.maxOrder else { throw fail("order \(n) is above the supported maximum \(NGramModel.maxOrder)") }
            guard c >= 0 else { throw fail("negative count \(c) of \(n)-grams") }
            // Each n-gram line takes at least 2n + 1 bytes ("p w₁ … wₙ" and its end of line):
            // refuse counts the file cannot hold before allocating for them.
            guard c <= bytes.count / (2 * n + 1) else {
                throw fail("the header says \(c) \(n)-grams; a file of \(bytes.count) bytes cannot hold that many")
            }
            counts.append(c)
        }
        guard !counts.isEmpty else { throw fail("the \\data\\ header lists no \"ngram N=COUNT\" lines") }
        let order = counts.count

        // \1-grams:
        var words: [String] = []
        var vocabulary: [String: Int32] = [:]
        var unigrams: [NGramWeights] = []
        words.reserveCapacity(counts[0])
        unigrams.reserveCapacity(counts[0] + 1)
        var tables: [NGramTable] = []
        var gram = [Int32](repeating: 0, count: order)
        for n in 1...order {
            guard let header = section else {
                throw fail("missing the \\\(n)-grams: section (the file ends)", line: lineNumber + 1)
            }
            guard header.elementsEqual("\\\(n)-grams:".utf8) else {
                throw fail("expected \\\(n)-grams:, found \(Self.quoted(header))")
            }
            var table = n >= 2 ? NGramTable(order: n, capacity: counts[n - 1]) : nil
            var seen = 0
            section = nil
            while let raw = nextLine() {
                let line = Self.trimmed(raw)
                if line.isEmpty { continue }
                if line.first == UInt8(ascii: "\\") { section = line; break }
                seen += 1
                guard seen <= counts[n - 1] else {
                    throw fail("more \(n)-grams than the header's \(counts[n - 1])")
                }
                split(line)
                let f = fieldBuffer
                let hasBackoff = f.count == n + 2
                guard f.count == n + 1 || (hasBackoff && n < order) else {
                    let expected =
                        n < order
                        ? "a probability, \(n) word\(n == 1 ? "" : "s") and an optional back-off"
                        : "a probability and \(n) word\(n == 1 ? "" : "s") (no back-off at the highest order)"
                    throw fail("\(f.count) field\(f.count == 1 ? "" : "s") in a \(n)-gram line; expected \(expected)")
                }
                let prob = try number(f[0], what: "probability")
                guard !prob.isNaN && prob != .infinity else { throw fail("probability \(Self.quoted(f[0])) is not allowed") }
                guard prob <= 0 else { throw fail("probability \(Self.quoted(f[0])) is positive; ARPA probabilities are log10 values ≤ 0") }
                var backoff: Float = 0
                if hasBackoff {
                    backoff = try number(f[n + 1], what: "back-off")
                    guard backoff.isFinite else { throw fail("back-off \(Self.quoted(f[n + 1])) is not finite") }
                }
                let weights = NGramWeights(prob: prob, backoff: backoff, extends: backoff != 0)
                if n == 1 {
                    guard f[1].count <= ARPALimits.wordBytes else {
                        throw fail("a word of \(f[1].count) bytes; the longest Hark takes is \(ARPALimits.wordBytes)")
                    }
                    let word = Self.text(f[1])
                    guard vocabulary[word] == nil else { throw fail("the 1-gram \(Self.quoted(f[1])) appears twice") }
                    vocabulary[word] = Int32(words.count)
                    words.append(word)
                    unigrams.append(weights)
                } else {
                    for k in 0..<n {
                        guard let id = vocabulary[Self.text(f[k + 1])] else {
                            throw fail("the word \(Self.quoted(f[k + 1])) of this \(n)-gram is not among the 1-grams")
                        }
                        gram[k] = id
                    }
                    // Its context must be an n−1-gram (KenLM refuses the file otherwise), which
                    // then begins a longer n-gram and so must stay in a state.
                    if n == 2 {
                        unigrams[Int(gram[0])].extends = true
                    } else if let p = tables[n - 3].find(gram[0..<(n - 1)]) {
                        tables[n - 3].weights[p].extends = true
                    } else {
                        let context = f[1..<n].map { Self.text($0) }.joined(separator: " ")
                        throw fail("the context \"\(context)\" of this \(n)-gram is not among the \(n - 1)-grams")
                    }
                    guard table!.insert(gram[0..<n], weights) else {
                        throw fail("this \(n)-gram appears twice")
                    }
                }
            }
            guard seen == counts[n - 1] else {
                throw fail("the \\\(n)-grams: section has \(seen) lines; the header says \(counts[n - 1])")
            }
            if let table { tables.append(table) }
        }
        guard let end = section else { throw fail("missing \\end\\ (the file ends)", line: lineNumber + 1) }
        guard end.elementsEqual("\\end\\".utf8) else { throw fail("expected \\end\\, found \(Self.quoted(end))") }

        guard let start = vocabulary[ARPAWords.sentenceStart] else {
            throw ARPAError(file: name, line: nil, problem: "the 1-grams have no <s>")
        }
        guard let stop = vocabulary[ARPAWords.sentenceEnd] else {
            throw ARPAError(file: name, line: nil, problem: "the 1-grams have no </s>")
        }
        let unknown: Int32
        if let u = vocabulary[ARPAWords.unknown] {
            unknown = u
        } else {
            // KenLM's default for a model without <unk>: log10 p = −100.
            unknown = Int32(words.count)
            words.append(ARPAWords.unknown)
            unigrams.append(NGramWeights(prob: -100, backoff: 0, extends: false))
        }
        return NGramModel(
            order: order, words: words, unigrams: unigrams, tables: tables,
            unknown: unknown, sentenceStart: start, sentenceEnd: stop)
    }
}

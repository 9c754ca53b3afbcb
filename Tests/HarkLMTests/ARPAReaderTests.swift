import Foundation
import HarkLM
import HarkTestSupport
import XCTest

final class ARPAReaderTests: XCTestCase {
    func testHandWrittenFixture() throws {
        let model = try NGramModel.read(LMFixtures.url("hand.arpa"))
        XCTAssertEqual(model.order, 3)
        XCTAssertEqual(model.counts, [7, 8, 5])
        XCTAssertEqual(model.words, ["A", "B", "C", "D"])
        XCTAssertTrue(model.contains("<unk>") && model.contains("D"))
        XCTAssertFalse(model.contains("X"))
    }

    /// Worked by hand from hand.arpa: p(D | A B) has neither "A B D" nor "B D",
    /// so it is p(D) + bo(B) + bo(A B) = −1.3 − 0.25 − 0.1.
    func testBackOffByHand() throws {
        let model = try NGramModel.read(LMFixtures.url("hand.arpa"))
        var state = model.beginSentence
        for word in ["A", "B"] { state = model.score(state, word).next }
        XCTAssertEqual(model.score(state, "D").log10, -1.65, accuracy: 1e-6)
        // After <s> A an unknown word is <unk> (−1.5) backed off from the contexts A (−0.3) and <s> A (−0.15).
        let unknown = model.score(model.score(model.beginSentence, "A").next, "X")
        XCTAssertTrue(unknown.isUnknown)
        XCTAssertEqual(unknown.log10, -1.5 - 0.3 - 0.15, accuracy: 1e-6)
    }

    /// States keep only what can matter: after D (no back-off, begins no
    /// bigram) nothing is kept, so every history ending in D is one state.
    func testStatesMerge() throws {
        let model = try NGramModel.read(LMFixtures.url("hand.arpa"))
        let afterD = model.score(model.score(model.beginSentence, "A").next, "D").next
        let afterCD = model.score(model.score(model.nullContext, "C").next, "D").next
        XCTAssertEqual(afterD, afterCD)
        XCTAssertEqual(afterD, model.nullContext)
        XCTAssertEqual(afterD.hashValue, model.nullContext.hashValue)
        let afterAB = model.score(model.score(model.beginSentence, "A").next, "B").next
        XCTAssertEqual(afterAB.count, 2, "A B is a context of A B C")
        XCTAssertNotEqual(afterAB, model.score(model.nullContext, "B").next)
    }

    func testGzipReadsAsPlain() throws {
        let plain = try NGramModel.read(LMFixtures.url("hand.arpa"))
        // hand.arpa.gz is the same text, gzip-compressed; its name is not what tells.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let renamed = dir.appendingPathComponent("model.arpa")
        try FileManager.default.copyItem(at: LMFixtures.url("hand.arpa.gz"), to: renamed)
        let compressed = try NGramModel.read(renamed)
        XCTAssertEqual(compressed.counts, plain.counts)
        for sentence in [["A", "B", "C"], ["D", "X", "A"], []] {
            XCTAssertEqual(compressed.sentenceLog10(sentence), plain.sentenceLog10(sentence))
        }
        // A truncated gzip file is an error naming the file.
        let gz = try Data(contentsOf: LMFixtures.url("hand.arpa.gz"))
        let truncated = dir.appendingPathComponent("cut.arpa.gz")
        try gz.prefix(gz.count / 2).write(to: truncated)
        XCTAssertThrowsError(try NGramModel.read(truncated)) { error in
            XCTAssertTrue("\(error)".contains("cut.arpa.gz") && "\(error)".contains("gzip"), "\(error)")
        }
    }

    /// gzip-compresses `bytes` into `dir/name` with the system's gzip.
    func gzipped(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> URL {
        let plain = dir.appendingPathComponent(name.replacingOccurrences(of: ".gz", with: ""))
        try Data(bytes).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-9", "-f", plain.path]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(gzip.terminationStatus, 0)
        return dir.appendingPathComponent(name)
    }

    /// A gzip bomb is refused while it inflates: zeros fail the `\data\`
    /// check after the first MiB, a valid head followed by a run of one
    /// letter fails the ratio check; neither is inflated whole.
    func testGzipBombsAreRefusedEarly() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zeros = try gzipped([UInt8](repeating: 0, count: 20 << 20), "zeros.arpa.gz", in: dir)
        XCTAssertThrowsError(try NGramModel.read(zeros)) { error in
            XCTAssertTrue("\(error)".contains("zeros.arpa.gz") && "\(error)".contains("no \\data\\ line in the first 1 MiB"), "\(error)")
        }
        let head = Array("\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n-1\t".utf8)
        let long = try gzipped(head + [UInt8](repeating: 65, count: 20 << 20) + Array("\n\n\\end\\\n".utf8), "long.arpa.gz", in: dir)
        XCTAssertThrowsError(try NGramModel.read(long)) { error in
            XCTAssertTrue("\(error)".contains("long.arpa.gz") && "\(error)".contains("more than 100 times"), "\(error)")
        }
    }

    /// Comments before \data\, spaces instead of tabs, CRLF line ends, text after \end\.
    func testTolerantLayout() throws {
        let text =
            "# made by hand\r\n\r\n\\data\\\r\nngram 1=4\r\nngram 2=1\r\n\r\n\\1-grams:\r\n-1 <unk> 0\r\n-99 <s>   -0.5\r\n"
            + "-0.5 </s>\r\n-0.3 A -0.2\r\n\r\n\\2-grams:\r\n-0.1 <s> A\r\n\r\n\\end\\\r\ntrailing text\r\n"
        let model = try NGramModel.parse(text, name: "crlf.arpa")
        XCTAssertEqual(model.counts, [4, 1])
        XCTAssertEqual(model.sentenceLog10(["A"]), -0.1 - 0.2 - 0.5, accuracy: 1e-6)
    }

    /// A model without <unk> scores unknown words −100, as KenLM does.
    func testMissingUnknownIsAdded() throws {
        let text = "\\data\\\nngram 1=3\n\n\\1-grams:\n-99\t<s>\n-0.5\t</s>\n-0.3\tA\n\n\\end\\\n"
        let model = try NGramModel.parse(text, name: "nounk.arpa")
        let s = model.score(model.beginSentence, "B")
        XCTAssertTrue(s.isUnknown)
        XCTAssertEqual(s.log10, -100)
    }

    static let good = """
        \\data\\
        ngram 1=4
        ngram 2=2

        \\1-grams:
        -1.0\t<unk>\t0
        -99\t<s>\t-0.5
        -0.5\t</s>
        -0.3\tA\t-0.2

        \\2-grams:
        -0.1\t<s> A
        -0.2\tA </s>

        \\end\\

        """

    /// Each malformed file is refused with an error naming the file, the line and the problem.
    func testMalformedFilesNameTheLine() throws {
        XCTAssertNoThrow(try NGramModel.parse(Self.good, name: "good.arpa"))
        let lines = Self.good.components(separatedBy: "\n")
        func edit(_ line: Int, _ replacement: String?) -> String {
            var l = lines
            if let replacement { l[line - 1] = replacement } else { l.remove(at: line - 1) }
            return l.joined(separator: "\n")
        }
        // Lines of `good`: 1 \data\, 2–3 counts, 5 \1-grams:, 6–9 unigrams (9: A),
        // 11 \2-grams:, 12–13 bigrams, 15 \end\.
        let cases: [(String, String, Int?, String)] = [
            ("not ARPA", "hello\nworld\n", 2, "no \\data\\"),
            ("bad header line", edit(2, "ngram one=4"), 2, "ngram N=COUNT"),
            ("orders not consecutive", edit(3, "ngram 3=2"), 3, "orders must run"),
            ("absurd count", edit(3, "ngram 2=999999999999"), 3, "cannot hold"),
            ("header count too high", edit(3, "ngram 2=3"), 15, "has 2 lines; the header says 3"),
            ("header count too low", edit(2, "ngram 1=3"), 9, "more 1-grams than the header's 3"),
            ("too few fields", edit(13, "-0.2\tA"), 13, "2 fields in a 2-gram line"),
            ("back-off at the highest order", edit(12, "-0.1\t<s> A\t-0.3"), 12, "no back-off at the highest order"),
            ("non-numeric probability", edit(9, "abc\tA\t-0.2"), 9, "probability \"abc\" is not a number"),
            ("non-numeric back-off", edit(9, "-0.3\tA\tx"), 9, "back-off \"x\" is not a number"),
            ("NaN probability", edit(9, "nan\tA\t-0.2"), 9, "not allowed"),
            ("infinite back-off", edit(9, "-0.3\tA\tinf"), 9, "not finite"),
            ("positive probability", edit(9, "0.5\tA\t-0.2"), 9, "positive"),
            ("an n-gram of the wrong order", edit(12, "-0.1\t<s> A A"), 12, "4 fields in a 2-gram line"),
            ("unknown word in a bigram", edit(12, "-0.1\t<s> B"), 12, "\"B\" of this 2-gram is not among the 1-grams"),
            ("duplicate unigram", edit(9, "-0.3\t</s>"), 9, "appears twice"),
            (
                "a word over the length limit", edit(9, "-0.3\t" + String(repeating: "A", count: 1001) + "\t-0.2"), 9,
                "a word of 1001 bytes; the longest Hark takes is 1000"
            ),
            ("duplicate bigram", edit(13, "-0.2\t<s> A"), 13, "appears twice"),
            ("wrong section header", edit(11, "\\3-grams:"), 11, "expected \\2-grams:"),
            ("missing \\end\\", edit(15, nil), 15, "missing \\end\\"),
            ("something else for \\end\\", edit(15, "\\3-grams:"), 15, "expected \\end\\"),
            (
                "a trigram without its context",
                edit(3, "ngram 2=2\nngram 3=1").replacingOccurrences(of: "\n\n\\end\\", with: "\n\n\\3-grams:\n-0.1\tA <s> A\n\n\\end\\"),
                17, "the context \"A <s>\" of this 3-gram is not among the 2-grams"
            ),
            ("the file ends after the 1-grams", lines[0..<9].joined(separator: "\n"), 10, "missing the \\2-grams: section")
        ]
        for (what, text, line, fragment) in cases {
            XCTAssertThrowsError(try NGramModel.parse(text, name: "bad.arpa"), what) { error in
                guard let e = error as? ARPAError else { return XCTFail("\(what): \(error)") }
                XCTAssertEqual(e.file, "bad.arpa", what)
                XCTAssertEqual(e.line, line, "\(what): \(e)")
                XCTAssertTrue(e.problem.contains(fragment), "\(what): \(e)")
            }
        }
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try NGramModel.read(URL(fileURLWithPath: "/nonexistent/lm.arpa"))) { error in
            XCTAssertEqual("\(error)", "/nonexistent/lm.arpa: no such file")
        }
        XCTAssertThrowsError(try NGramModel.read(LMFixtures.directory)) { error in
            XCTAssertTrue("\(error)".hasSuffix("Fixtures: not a regular file"), "\(error)")
        }
        XCTAssertThrowsError(try NGramModel.parse("", name: "empty.arpa")) { error in
            XCTAssertTrue("\(error)".contains("no \\data\\"), "\(error)")
        }
    }
}

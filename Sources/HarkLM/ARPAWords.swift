/// The three words of an ARPA model that are not words of the text: where a
/// sentence starts and ends, and what stands for a word the model does not
/// know. The reader requires the first two; the estimator writes all three
/// and refuses them inside sentences.
public enum ARPAWords {
    /// The start of a sentence.
    public static let sentenceStart = "<s>"
    /// The end of a sentence.
    public static let sentenceEnd = "</s>"
    /// Any word the model does not know.
    public static let unknown = "<unk>"
    /// The three, which are not words of a transcript.
    public static let special: Set<String> = [sentenceStart, sentenceEnd, unknown]
}

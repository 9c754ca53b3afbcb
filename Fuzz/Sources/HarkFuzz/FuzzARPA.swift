import Foundation
import HarkLM

/// Any bytes as an ARPA language model, plain or gzip (a file whose first
/// bytes are gzip's magic is inflated first): `NGramModel.read(bytes:)`
/// throws or returns a model that scores a sentence of its own words to a
/// finite or −∞ log-probability, never crashes, hangs or inflates without
/// bound (the gzip ratio and header checks).
func fuzzARPA(_ data: UnsafeBufferPointer<UInt8>) {
    guard let model = try? NGramModel.read(bytes: Array(data), name: "fuzz.arpa") else { return }
    let words = Array(model.words.prefix(8))
    let score = model.sentenceLog10(words)
    precondition(!score.isNaN, "a NaN score for \(words)")
}

import HarkFeatures

/// A value of `option`, spelled as on the command line, other than the one it
/// has in `options`, that its declaration accepts and `accept` approves with
/// the other options as they are — for table-driven tests, which must see
/// every option change something. Nil when no candidate fits (then the test
/// should fail: a new kind of option needs a new kind of candidate here).
///
/// Candidates: the other boolean, the other names of an enum, n ± 1 for
/// integers, x + 1, x / 2, x − 1 and 0.5 for numbers.
public func otherValue(
    of option: FeatureOption, in options: FeatureOptions,
    accepted accept: (FeatureOptions) -> Bool = { (try? $0.validate()) != nil }
) -> String? {
    guard let current = option.text(in: options) else { return nil }
    let candidates: [String]
    switch option.kind {
    case .boolean: candidates = [current == "true" ? "false" : "true"]
    case .choice(let names): candidates = names.filter { $0 != current }
    case .integer, .unsignedInteger:
        guard let n = Int(current) else { return nil }
        candidates = [n + 1, n - 1].map(String.init)
    case .number:
        guard let x = Double(current) else { return nil }
        candidates = [x + 1, x / 2, x - 1, 0.5].map { "\($0)" }
    }
    for text in candidates {
        var changed = options
        guard (try? option.set(text, in: &changed)) != nil,
            let spelled = option.text(in: changed), spelled != current, accept(changed)
        else { continue }
        return spelled
    }
    return nil
}

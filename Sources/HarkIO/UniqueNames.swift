/// Names handed out once each: a taken name gets `-2`, `-3`, …
struct UniqueNames {
    private var used: Set<String> = []
    private var nextSuffix: [String: Int] = [:]

    /// `base` if free, else the first free `base-n` from where the last
    /// search for `base` stopped.
    mutating func claim(_ base: String) -> String {
        if used.insert(base).inserted { return base }
        var n = nextSuffix[base, default: 2]
        var candidate = "\(base)-\(n)"
        while !used.insert(candidate).inserted {
            n += 1
            candidate = "\(base)-\(n)"
        }
        nextSuffix[base] = n + 1
        return candidate
    }
}

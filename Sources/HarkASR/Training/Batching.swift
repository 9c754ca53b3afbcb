import HarkCore

/// How training cuts its data into batches: the batches of an epoch, and
/// a batch into groups of similar length for the network.
public enum Batching {
    /// The batches of an epoch, as indices into `lengths` (the utterances'
    /// input frames). Shuffled: utterances sorted by length, cut into
    /// batches of similar length, batches in a random order seeded by (seed,
    /// epoch). Not shuffled: in order.
    public static func epoch(_ lengths: [Int], batchSize: Int, shuffle: Bool, seed: UInt64, epoch: Int) -> [[Int]] {
        let n = lengths.count, size = max(1, batchSize)
        guard shuffle else {
            return stride(from: 0, to: n, by: size).map { Array($0..<min(n, $0 + size)) }
        }
        var rng = SeededGenerator(seed: seed ^ 0x5EED_BA7C, stream: UInt64(epoch))
        // Ties in length are broken by a random key, so batches differ between epochs.
        let keys = (0..<n).map { _ in rng.next() }
        let order = (0..<n).sorted { (lengths[$0], keys[$0]) < (lengths[$1], keys[$1]) }
        var result = stride(from: 0, to: n, by: size).map { Array(order[$0..<min(n, $0 + size)]) }
        result.shuffle(using: &rng)
        return result
    }

    /// The examples of a batch, by length, in groups run through the network
    /// one after the other: longest first, an example joins the current group
    /// while it is at least `ratio` as long as the group's longest; a group
    /// of fewer than `minimumGroup` joins the one before. Augmentation makes
    /// the examples of a length-sorted batch differ (silence, joined
    /// utterances), and one padded batch would compute the longest's length
    /// for all. A function of the lengths alone: the same on any thread count.
    ///
    /// - Returns: indices into `lengths`, each group longest first (one group: in order).
    public static func lengthGroups(_ lengths: [Int], ratio: Double = 0.6, minimumGroup: Int = 4) -> [[Int]] {
        let order = lengths.indices.sorted { (lengths[$0], -$0) > (lengths[$1], -$1) }
        var groups: [[Int]] = []
        for i in order {
            if let first = groups.last?.first, Double(lengths[i]) >= ratio * Double(lengths[first]) || groups.last!.count < minimumGroup {
                groups[groups.count - 1].append(i)
            } else {
                groups.append([i])
            }
        }
        if groups.count > 1 && groups.last!.count < minimumGroup {
            let last = groups.removeLast()
            groups[groups.count - 1] += last
        }
        // One group is the batch as it came.
        return groups.count == 1 ? [Array(lengths.indices)] : groups
    }

}

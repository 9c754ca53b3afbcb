import HarkCore

/// The base features (MFCC or fbank, before CMVN and deltas) of a signal that
/// arrives in blocks: each `push` returns the frames its samples complete,
/// `finish` the last ones (whose windows may reflect at the signal's end).
/// The rows equal `FeatureExtractor.computeBase` of the whole signal, bit for bit.
///
/// A frame comes out as soon as its window is complete (a frame's features do
/// not depend on the frames computed with it). Memory: the samples of the
/// frames not yet computed, and one push's output.
///
/// - Shapes: each call returns [t, baseDimension]; their rows concatenated are [T, baseDimension].
public final class FeatureStream {
    /// The extractor whose base features are computed.
    public let extractor: FeatureExtractor
    /// One workspace per thread: the blocks of a push are computed on up to this many threads
    /// (the rows do not depend on how many: each block is computed alone).
    private let work: [FeatureExtractor.Workspace]
    /// Samples `origin ..< origin + buffer.count` of the signal.
    private var buffer: [Float] = []
    private var origin = 0
    /// The next frame to compute.
    public private(set) var nextFrame = 0
    private var finished = false

    /// A stream at the signal's start; each push computes its frames on up to `threads` threads.
    public init(_ extractor: FeatureExtractor, threads: Int = 1) {
        self.extractor = extractor
        work = (0..<max(1, threads)).map { _ in FeatureExtractor.Workspace(extractor) }
    }

    /// Index of frame t's first sample (negative before the start when edges are not snipped).
    private func firstSample(_ t: Int) -> Int {
        let e = extractor
        return e.snipEdges ? t * e.windowShift : t * e.windowShift + e.windowShift / 2 - e.windowSize / 2
    }

    /// Adds samples (mono, [-1, 1], at the extractor's rate); returns the frames now complete.
    public func push(_ samples: [Float]) -> Matrix {
        precondition(!finished, "push after finish")
        buffer.append(contentsOf: samples)
        let end = origin + buffer.count
        var last = nextFrame
        while firstSample(last) + extractor.windowSize <= end { last += 1 }
        // Every complete frame: a frame's features do not depend on the block it is computed in.
        return compute(upTo: last)
    }

    /// The remaining frames, once every sample has been pushed.
    public func finish() -> Matrix {
        precondition(!finished, "finish twice")
        finished = true
        let total = extractor.frame.frameCount(sampleCount: origin + buffer.count)
        return compute(upTo: max(total, nextFrame))
    }

    private func compute(upTo last: Int) -> Matrix {
        let D = extractor.baseDimension
        var out = Matrix(rows: last - nextFrame, cols: D)
        if last > nextFrame && !buffer.isEmpty {
            let B = FeatureExtractor.blockFrames, first = nextFrame, origin = self.origin, work = self.work
            let blocks = (last - first + B - 1) / B
            buffer.withUnsafeBufferPointer { wave in
                out.data.withUnsafeMutableBufferPointer { dst in
                    let base = SendablePointer(dst.baseAddress!)
                    // Workers take whole blocks; worker w uses workspace w.
                    let workers = min(work.count, blocks)
                    let chunk = (blocks + workers - 1) / workers
                    parallelChunks(count: workers, threads: workers) { range in
                        for w in range {
                            for b in (w * chunk)..<min(blocks, (w + 1) * chunk) {
                                let t0 = first + b * B, t1 = min(last, t0 + B)
                                self.extractor.computeBlock(
                                    t0..<t1, wave: wave, origin: origin,
                                    out: base.pointer + (t0 - first) * D, work: work[w])
                            }
                        }
                    }
                }
            }
        }
        nextFrame = last
        // Keep what later frames can reach, reflections included: from one window before the next frame.
        let keepFrom = max(0, firstSample(nextFrame) - extractor.windowSize)
        if keepFrom > origin {
            let drop = min(keepFrom - origin, buffer.count)
            buffer.removeFirst(drop)
            origin += drop
        }
        return out
    }
}

/// Kaldi's `add-deltas` on frames that arrive in blocks: a frame is emitted
/// once the frames its filter reaches have arrived (order × window ahead);
/// `finish` emits the last ones, clamped at the end as `addDeltas` clamps.
/// The rows equal `addDeltas` of the whole matrix, bit for bit.
///
/// - Shapes: [t, D] in → [t', D·(order + 1)] out.
public final class DeltaStream {
    /// The delta order (1: deltas, 2: deltas and delta-deltas, …) and the window w of each filter.
    public let order: Int, window: Int
    /// Frames `origin ..< origin + frames.rows` of the input, the oldest still needed first.
    private var kept: [Float] = []
    private var origin = 0
    private var received = 0
    private var nextFrame = 0
    private let reach: Int
    private var dimension = -1

    /// A stream at the first frame, for deltas of the given order and window.
    public init(order: Int, window: Int) {
        self.order = order
        self.window = window
        reach = order * window
    }

    /// Adds the next frames [t, D]; returns the output frames now complete, [t', D·(order + 1)].
    public func push(_ rows: Matrix) -> Matrix {
        if dimension < 0 { dimension = rows.cols }
        kept.append(contentsOf: rows.data)
        received += rows.rows
        return emit(upTo: max(nextFrame, received - reach), total: nil)
    }

    /// The remaining output frames, once every input frame has been pushed.
    public func finish() -> Matrix {
        emit(upTo: received, total: received)
    }

    private func emit(upTo last: Int, total: Int?) -> Matrix {
        let D = max(dimension, 0)
        guard last > nextFrame, D > 0 else { return Matrix(rows: 0, cols: D * (order + 1)) }
        // The frames last-1+reach and first-reach, clamped to the signal: within
        // this padded block addDeltas never clamps, so every sum is the whole-matrix one.
        let lo = nextFrame - reach, hi = last + reach
        let newest = (total ?? received) - 1
        var padded = Matrix(rows: hi - lo, cols: D)
        for r in lo..<hi {
            let src = min(max(r, 0), newest) - origin
            padded.data.replaceSubrange(((r - lo) * D)..<((r - lo + 1) * D), with: kept[(src * D)..<((src + 1) * D)])
        }
        let full = addDeltas(padded, order: order, window: window)
        let C = full.cols
        let out = Matrix(rows: last - nextFrame, cols: C, data: Array(full.data[(reach * C)..<((reach + last - nextFrame) * C)]))
        nextFrame = last
        let keepFrom = max(0, nextFrame - reach)
        if keepFrom > origin {
            kept.removeFirst((keepFrom - origin) * D)
            origin = keepFrom
        }
        return out
    }
}

extension FeatureExtractor {
    /// Features (analysis, CMVN, deltas, as `compute`) of a signal read block
    /// by block with `read` (nil at the end), handed to `emit` block by block.
    /// Per-utterance CMVN needs the whole utterance's statistics, so with CMVN
    /// the signal is read twice: once for the statistics, then (after
    /// `rewind`) for the features. Memory does not grow with the signal's length,
    /// and the rows equal `compute` of the whole signal, bit for bit.
    ///
    /// With more than one thread, `read` runs on a thread of its own, a block
    /// or two ahead of the analysis (`ReadAhead`): decoding overlaps with the
    /// features. `rewind` and `emit` run on the caller's thread, never while
    /// `read` does.
    ///
    /// - Shapes: the emitted blocks' rows concatenated are `compute`'s [T, F].
    public func computeStreaming(
        threads: Int = 1, read: @escaping () throws -> [Float]?, rewind: () throws -> Void,
        emit: (Matrix) throws -> Void
    ) throws {
        /// Calls `body` with each block `read` returns, read ahead on another thread when there are threads to spare.
        func blocks(_ body: ([Float]) throws -> Void) throws {
            guard threads > 1 else {
                while let block = try read() { try body(block) }
                return
            }
            let ahead = ReadAhead(read: read)
            defer { ahead.stop() }
            while let block = try ahead.next() { try body(block) }
        }
        var transform: CmvnTransform?
        if options.cmvn != .none {
            var stats = CmvnStatistics(options: options, dimension: baseDimension)
            let first = FeatureStream(self, threads: threads)
            try blocks { stats.add(first.push($0)) }
            stats.add(first.finish())
            transform = stats.transform()
            try rewind()
        }
        let stream = FeatureStream(self, threads: threads)
        let deltas = options.deltas > 0 ? DeltaStream(order: options.deltas, window: options.deltaWindow) : nil
        func pass(_ base: Matrix) throws {
            var m = base
            transform?.apply(to: &m)
            if let deltas { m = deltas.push(m) }
            if m.rows > 0 { try emit(m) }
        }
        try blocks { try pass(stream.push($0)) }
        try pass(stream.finish())
        if let deltas {
            let rest = deltas.finish()
            if rest.rows > 0 { try emit(rest) }
        }
    }
}

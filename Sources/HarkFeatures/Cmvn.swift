import Foundation
import HarkCore

/// Which frames of an utterance its CMVN statistics are taken over.
public enum CmvnFrames: String, Codable, CaseIterable, Sendable {
    /// Every frame, as Kaldi's `compute-cmvn-stats` on the utterance: the
    /// statistics then depend on how much silence the recording holds.
    case all
    /// The frames whose level is within `CmvnStatistics.speechRange` (40 dB) of
    /// the utterance's loudest frame: silence and faint noise around the
    /// speech, however long, change nothing.
    case speech
}

/// Per-utterance mean (and variance) normalisation in place, as Kaldi's
/// `compute-cmvn-stats` on the utterance followed by `apply-cmvn`
/// (statistics accumulated in double precision by `CmvnStatistics`), over
/// all frames or, with `options.cmvnFrames` = `.speech`, over the speech.
///
/// - Shapes: [T, D] in place: base features (before deltas).
public func applyCmvn(_ features: inout Matrix, options: FeatureOptions) {
    guard options.cmvn != .none, features.rows > 0 else { return }
    var stats = CmvnStatistics(options: options, dimension: features.cols)
    stats.add(features)
    stats.transform().apply(to: &features)
}

/// Per-utterance CMVN over all frames (`applyCmvn(_:options:)` with `.all`).
public func applyCmvn(_ features: inout Matrix, mode: CmvnMode) {
    guard mode != .none, features.rows > 0 else { return }
    var stats = CmvnStatistics(mode: mode, dimension: features.cols)
    stats.add(features)
    stats.transform().apply(to: &features)
}

/// x · scale + offset per column: the normalisation CMVN statistics give.
public struct CmvnTransform: Sendable {
    /// Per column: what x is multiplied by (1, or 1/σ).
    public var scale: [Float]
    /// Per column: what is then added (−μ, or −μ/σ).
    public var offset: [Float]

    /// - Shapes: [T, D] in place.
    public func apply(to m: inout Matrix) {
        let D = m.cols
        for r in 0..<m.rows {
            for c in 0..<D { m.data[r * D + c] = m.data[r * D + c] * scale[c] + offset[c] }
        }
    }
}

/// CMVN statistics learned from a first pass over an utterance's base
/// features, accumulated row by row in double precision, so that streamed
/// features (`FeatureStream`) and whole matrices (`applyCmvn`) get the same
/// transform:
///
///     mean: x − μ.   meanvar: (x − μ) / σ,  σ² = E[x²] − μ², floored at 1e-20.
///
/// Over speech frames (`CmvnFrames.speech`) the loudest frame is known only
/// at the end, so rows are accumulated by their level in whole decibels
/// (`level`), one bin each; the transform sums the bins within 40 dB of the
/// loudest. A frame's level comes from its base features: the log-energy
/// column when there is one, else the log of the summed mel energies (fbank)
/// or C0/√M, the mean log mel energy (MFCC).
public struct CmvnStatistics {
    /// Levels below the loudest frame's that still count as speech, dB.
    public static let speechRange = 40
    /// Mean, or mean and variance.
    public let mode: CmvnMode
    /// Every frame or the speech.
    public let frames: CmvnFrames
    private let dimension: Int
    /// The level of row r of a [t, D] buffer, dB (nil: all frames, one bin).
    private let level: ((UnsafeBufferPointer<Float>, Int, Int) -> Int)?
    /// The bins' Σx and Σx² [bins][D] and frame counts; `binIndex[level]` is a bin's place.
    private var binIndex: [Int: Int] = [:]
    private var sums: [[Double]] = [], sumSquares: [[Double]] = [], counts: [Int] = []

    /// Empty statistics with `options`' mode and frames, for base features of `dimension` columns.
    public init(options: FeatureOptions, dimension: Int) {
        self.mode = options.cmvn
        self.frames = options.cmvnFrames
        self.dimension = dimension
        level = options.cmvnFrames == .speech ? Self.levelRule(options) : nil
    }

    /// Empty statistics over all frames, for base features of `dimension` columns.
    public init(mode: CmvnMode, dimension: Int) {
        self.mode = mode
        self.frames = .all
        self.dimension = dimension
        level = nil
    }

    /// Frames accumulated.
    public var count: Int { counts.reduce(0, +) }

    /// - Shapes: rows [t, D] (base features).
    public mutating func add(_ rows: Matrix) {
        let cols = rows.cols
        rows.data.withUnsafeBufferPointer { data in
            for r in 0..<rows.rows {
                let key = level.map { $0(data, r * cols, cols) } ?? 0
                let i: Int
                if let known = binIndex[key] {
                    i = known
                } else {
                    i = counts.count
                    binIndex[key] = i
                    sums.append([Double](repeating: 0, count: dimension))
                    sumSquares.append([Double](repeating: 0, count: dimension))
                    counts.append(0)
                }
                let row = data.baseAddress! + r * cols
                sums[i].withUnsafeMutableBufferPointer { sum in
                    sumSquares[i].withUnsafeMutableBufferPointer { sumSquare in
                        for c in 0..<cols {
                            let v = Double(row[c])
                            sum[c] += v
                            sumSquare[c] += v * v
                        }
                    }
                }
                counts[i] += 1
            }
        }
    }

    /// The normalisation; identity with no frames or mode `.none`.
    public func transform() -> CmvnTransform {
        var offset = [Float](repeating: 0, count: dimension)
        var scale = [Float](repeating: 1, count: dimension)
        guard mode != .none, let loudest = binIndex.keys.max() else { return CmvnTransform(scale: scale, offset: offset) }
        var sum = [Double](repeating: 0, count: dimension), sumSq = sum, count = 0
        for key in binIndex.keys.sorted() where level == nil || key >= loudest - Self.speechRange {
            let i = binIndex[key]!
            for c in 0..<dimension {
                sum[c] += sums[i][c]
                sumSq[c] += sumSquares[i][c]
            }
            count += counts[i]
        }
        let n = Double(count)
        for c in 0..<dimension {
            let mean = sum[c] / n
            if mode == .meanvar {
                let variance = max(sumSq[c] / n - mean * mean, 1e-20)
                let s = 1 / variance.squareRoot()
                scale[c] = Float(s)
                offset[c] = Float(-mean * s)
            } else {
                offset[c] = Float(-mean)
            }
        }
        return CmvnTransform(scale: scale, offset: offset)
    }

    /// A row's level in whole decibels from its base features.
    static func levelRule(_ options: FeatureOptions) -> (UnsafeBufferPointer<Float>, Int, Int) -> Int {
        let decibelsPerNeper = Float(10 / log(10.0))
        func bin(_ nepers: Float) -> Int {
            let db = nepers * decibelsPerNeper
            return db.isFinite ? Int(max(-1000, min(1000, db)).rounded(.down)) : -1000
        }
        switch options.kind {
        case .fbank(let o) where o.useEnergy:
            return { row, start, _ in bin(row[start]) }
        case .fbank(let o):
            // log Σ exp(x_m) of log-mel energies, or log Σ x_m of the energies themselves.
            return { row, start, n in
                let x = row[start..<(start + n)]
                guard o.useLogFbank else { return bin(logf(max(x.reduce(0, +), .leastNormalMagnitude))) }
                let m = x.max() ?? 0
                return bin(m + logf(x.reduce(0) { $0 + expf($1 - m) }))
            }
        case .mfcc(let o) where o.useEnergy:
            return { row, start, _ in bin(row[start]) }
        case .mfcc(let o):
            let scale = 1 / Float(o.mel.numBins).squareRoot()
            return { row, start, _ in bin(row[start] * scale) }
        }
    }
}

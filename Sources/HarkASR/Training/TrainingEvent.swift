/// One progress report of a training run, and a line of its JSON-lines log
/// (`train.log.jsonl`): `{"type": "step", …}` or `{"type": "epoch", …}` with
/// the fields of the payload; absent values are left out.
public enum TrainingEvent: Codable, Sendable, Equatable {
    case step(StepReport)
    case epoch(EpochReport)

    /// After every optimizer step (or skipped step).
    public struct StepReport: Codable, Sendable, Equatable {
        /// The epoch in progress, from 0.
        public var epoch: Int
        /// Steps attempted so far, this one included.
        public var step: Int
        /// The batch's CTC loss; nil when it was not finite.
        public var loss: Float?
        /// The optimizer's learning rate after the step: the step's scheduled rate, or the last one applied when it was skipped.
        public var learningRate: Float?
        /// The gradient norm before clipping; nil when not finite (the step was skipped).
        public var gradNorm: Float?
        /// Network input frames per second of wall-clock time since the previous report.
        public var framesPerSecond: Double?
        /// Steps skipped so far because their loss or gradient was not finite.
        public var skippedNonFinite: Int?
        /// Seconds since the run began, over all its resumptions.
        public var elapsed: Double
        /// Estimated seconds to the last planned step, at this run's mean time per step.
        public var etaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case epoch, step, loss, learningRate = "lr", gradNorm = "grad_norm", framesPerSecond = "frames_per_s"
            case skippedNonFinite = "skipped_nonfinite", elapsed, etaSeconds = "eta_s"
        }
    }

    /// At the end of every epoch.
    public struct EpochReport: Codable, Sendable, Equatable {
        /// The epoch that ended, from 0.
        public var epoch: Int
        /// Steps attempted so far.
        public var step: Int
        /// The greedy character error rate on the validation data, as a fraction (nil without validation data).
        public var validCER: Double?
        /// The greedy word error rate on the validation data, as a fraction (nil without validation data).
        public var validWER: Double?
        /// The validation CTC loss per label (PyTorch's 'mean' reduction, over utterances).
        public var validLoss: Double?
        /// Whether this epoch's model is the best so far (nil without validation data).
        public var best: Bool?
        /// Seconds since the run began, over all its resumptions.
        public var elapsed: Double

        enum CodingKeys: String, CodingKey {
            case epoch, step, validCER = "valid_cer", validWER = "valid_wer", validLoss = "valid_loss", best, elapsed
        }
    }

    /// Whether every value is one a training run can report: counts from 0
    /// below Hark's limits, times finite and ≥ 0, a loss finite and ≥ 0, error rates from 0 to
    /// 100 (10,000%: insertions can take a rate past 1, not past that).
    /// A report skips the others and says so.
    public var isPlausible: Bool {
        func ok(_ v: Double?, max: Double = .greatestFiniteMagnitude) -> Bool { v.map { $0.isFinite && $0 >= 0 && $0 <= max } ?? true }
        func ok(_ v: Float?) -> Bool { ok(v.map(Double.init)) }
        // Counts past Hark's own limits (a billion epochs, a trillion steps) are impossible too.
        func ok(count: Int, max: Int) -> Bool { count >= 0 && count < max }
        switch self {
        case .step(let r):
            return ok(count: r.epoch, max: 1_000_000_000) && ok(count: r.step, max: 1_000_000_000_000) && ok(r.loss) && ok(r.learningRate)
                && ok(r.gradNorm) && ok(r.framesPerSecond)
                && (r.skippedNonFinite ?? 0) >= 0 && ok(r.elapsed) && ok(r.etaSeconds)
        case .epoch(let r):
            return ok(count: r.epoch, max: 1_000_000_000) && ok(count: r.step, max: 1_000_000_000_000) && ok(r.validCER, max: 100)
                && ok(r.validLoss) && ok(r.validWER, max: 100) && ok(r.elapsed)
        }
    }

    /// The report's epoch.
    public var epoch: Int {
        switch self {
        case .step(let r): return r.epoch
        case .epoch(let r): return r.epoch
        }
    }

    /// The report's step count.
    public var step: Int {
        switch self {
        case .step(let r): return r.step
        case .epoch(let r): return r.step
        }
    }

    private enum TypeKey: String, CodingKey { case type }

    /// Decodes one log line; throws for a `type` other than `step` and `epoch`.
    public init(from decoder: Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "step": self = .step(try StepReport(from: decoder))
        case "epoch": self = .epoch(try EpochReport(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: TypeKey.type, in: try decoder.container(keyedBy: TypeKey.self),
                debugDescription: "unknown event type \"\(type)\"")
        }
    }

    /// Encodes one log line: `type` beside the payload's fields.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .step(let r): try c.encode("step", forKey: .type); try r.encode(to: encoder)
        case .epoch(let r): try c.encode("epoch", forKey: .type); try r.encode(to: encoder)
        }
    }
}

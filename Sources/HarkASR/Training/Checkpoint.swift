import Foundation
import HarkCore
import HarkIO
import HarkNN

/// Everything a training run needs to continue exactly: weights, optimizer
/// state, where the run is, and the options and model configuration it was
/// started with.
///
/// File format (`checkpoint.safetensors` in the run's directory), one
/// safetensors file:
/// - tensors `model.<name>`: the model's `state_dict()` (`model.rnn.weight_ih_l0`, …);
/// - tensors `optimizer.<buffer>.<i>`: the optimizer's per-parameter buffers
///   (`optimizer.m.0`, `optimizer.v.0` for Adam, `optimizer.momentum.0` for SGD),
///   i in the model's parameter order;
/// - metadata `state`, `options`, `config`: `TrainingState`, `TrainingOptions`
///   and `ModelConfig` as JSON; `optimizer_step`: the optimizer's step count.
public struct Checkpoint {
    /// The checkpoint's file name in the run's directory.
    public static let fileName = "checkpoint.safetensors"

    /// The model's weights under its parameter names (without `model.`).
    public var weights: SafeTensorsFile
    /// The optimizer's buffers and step count.
    public var optimizer: OptimizerState
    /// Where the run is.
    public var state: TrainingState
    /// The options the run was started with (a resumed run keeps them).
    public var options: TrainingOptions
    /// The configuration of the model being trained.
    public var config: ModelConfig
    /// The shapes the optimizer buffers are written with (the parameters', in order).
    var parameterShapes: [[Int]] = []

    /// A snapshot of a run.
    public init(model: AcousticModel, optimizer: Optimizer, state: TrainingState, options: TrainingOptions) {
        weights = StateDict.file(model.namedParameters)
        self.optimizer = optimizer.state
        self.state = state
        self.options = options
        config = model.config
        parameterShapes = model.parameters.map(\.shape)
    }

    /// Writes the file atomically (a temporary file renamed over the old
    /// one): a run killed at any moment leaves the previous checkpoint or the
    /// new one, never half of one.
    public func write(to directory: URL) throws {
        var tensors = weights.order.map { ("model." + $0, weights.tensors[$0]!) }
        for name in optimizer.buffers.keys.sorted() {
            for (i, b) in optimizer.buffers[name]!.enumerated() {
                let shape = i < parameterShapes.count && parameterShapes[i].reduce(1, *) == b.count ? parameterShapes[i] : [b.count]
                tensors.append(("optimizer.\(name).\(i)", SafeTensor(shape: shape, floats: b)))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [
            "state": String(decoding: try encoder.encode(state), as: UTF8.self),
            "options": String(decoding: try encoder.encode(options), as: UTF8.self),
            "config": String(decoding: try encoder.encode(config), as: UTF8.self)
        ]
        if let step = optimizer.step { metadata["optimizer_step"] = String(step) }
        try FileWriting.writeAtomically(
            SafeTensorsFile(tensors: tensors, metadata: metadata).encode(),
            to: directory.appendingPathComponent(Self.fileName))
    }

    /// Reads `directory`'s checkpoint; the error names the file and what is wrong.
    public static func read(from directory: URL) throws -> Checkpoint {
        let url = directory.appendingPathComponent(fileName)
        let file = try SafeTensorsFile.read(url)
        func fail(_ problem: String) -> ModelError { ModelError(problem: "\(url.path): \(problem)") }
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let json = file.metadata[key] else { throw fail("not a Hark training checkpoint (no \"\(key)\" metadata)") }
            do { return try JSONDecoder().decode(T.self, from: Data(json.utf8)) } catch let e as DecodingError {
                throw fail("metadata \"\(key)\": \(describe(e))")
            }
        }
        var weights: [(String, SafeTensor)] = []
        var buffers: [String: [Int: [Float]]] = [:]
        for name in file.order {
            if name.hasPrefix("model.") {
                weights.append((String(name.dropFirst("model.".count)), file.tensors[name]!))
            } else if name.hasPrefix("optimizer.") {
                let parts = name.split(separator: ".")
                guard parts.count == 3, let i = Int(parts[2]), i >= 0 else { throw fail("unexpected tensor \"\(name)\"") }
                buffers[String(parts[1]), default: [:]][i] = try file.tensors[name]!.floats(name: name)
            } else {
                throw fail("unexpected tensor \"\(name)\"")
            }
        }
        var optimizer = OptimizerState()
        for (name, byIndex) in buffers {
            guard Set(byIndex.keys) == Set(0..<byIndex.count) else { throw fail("optimizer \(name): buffers missing") }
            optimizer.buffers[name] = (0..<byIndex.count).map { byIndex[$0]! }
        }
        if let s = file.metadata["optimizer_step"] {
            guard let step = Int(s), step >= 0 else { throw fail("optimizer_step \"\(s)\" is not a count") }
            optimizer.step = step
        }
        let checkpoint = Checkpoint(
            weights: SafeTensorsFile(tensors: weights), optimizer: optimizer,
            state: try decode(TrainingState.self, "state"),
            options: try decode(TrainingOptions.self, "options"),
            config: try decode(ModelConfig.self, "config"))
        do {
            try checkpoint.options.validate()
            try checkpoint.state.validate()
            try checkpoint.config.validate()
        } catch {
            throw fail("\(error)")
        }
        return checkpoint
    }

    private init(
        weights: SafeTensorsFile, optimizer: OptimizerState, state: TrainingState,
        options: TrainingOptions, config: ModelConfig
    ) {
        self.weights = weights
        self.optimizer = optimizer
        self.state = state
        self.options = options
        self.config = config
    }

    /// Puts the weights into `model` and the state into `optimizer`.
    public func restore(into model: AcousticModel, optimizer target: Optimizer, file: String) throws {
        do {
            try StateDict.load(weights, into: model.namedParameters)
            try target.restore(optimizer, parameterSizes: model.parameters.map(\.count))
        } catch {
            throw ModelError(problem: "\(file): \(error)")
        }
    }
}

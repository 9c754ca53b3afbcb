import HarkIO

/// Why a state dict does not fit a model.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    /// Every mismatch found, each in words.
    public var problems: [String]
    /// The one problem, or their count and all of them.
    public var description: String {
        problems.count == 1 ? problems[0] : "\(problems.count) problems: " + problems.joined(separator: "; ")
    }
}

/// Parameters under their full PyTorch names (module prefix included), in
/// `state_dict()` order.
public typealias NamedParameters = [(name: String, parameter: Parameter)]

/// Parameters to and from safetensors files under PyTorch's `state_dict()` names.
public enum StateDict {
    /// The safetensors file holding these parameters, as PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), …)` would.
    public static func file(_ parameters: NamedParameters, metadata: [String: String] = [:]) -> SafeTensorsFile {
        SafeTensorsFile(
            tensors: parameters.map { ($0.name, SafeTensor(shape: $0.parameter.shape, floats: $0.parameter.value)) },
            metadata: metadata)
    }

    /// Copies every tensor into its parameter, as `load_state_dict(strict=True)`:
    /// every parameter must be present with its exact shape and dtype F32, and,
    /// when `strict`, no other tensor may be present. Every value must be
    /// finite (a NaN or an infinity is named with its tensor and index).
    /// Nothing is changed unless everything fits.
    public static func load(_ file: SafeTensorsFile, into parameters: NamedParameters, strict: Bool = true) throws {
        var problems: [String] = []
        var values: [[Float]] = []
        for (name, p) in parameters {
            guard let t = file.tensors[name] else {
                problems.append("missing tensor \"\(name)\" (shape \(p.shape))")
                continue
            }
            guard t.shape == p.shape else {
                problems.append("tensor \"\(name)\" has shape \(t.shape), the model expects \(p.shape)")
                continue
            }
            do {
                let v = try t.floats(name: "tensor \"\(name)\"")
                // One NaN weight turns every output into NaN: refuse it here,
                // where the name and place are still known.
                if let bad = v.firstIndex(where: { !$0.isFinite }) {
                    let count = v.lazy.filter { !$0.isFinite }.count
                    problems.append(
                        "tensor \"\(name)\" has a non-finite value (\(v[bad])) at index \(bad)\(indexInShape(bad, p.shape))"
                            + (count > 1 ? " and \(count - 1) more" : ""))
                    continue
                }
                values.append(v)
            } catch { problems.append("\(error)") }
        }
        if strict {
            let known = Set(parameters.map { $0.name })
            for name in file.order where !known.contains(name) {
                problems.append("unexpected tensor \"\(name)\"")
            }
        }
        guard problems.isEmpty else { throw StateDictError(problems: problems) }
        for ((_, p), v) in zip(parameters, values) { p.value = v }
    }

    /// `[i, j]` for a flat index of a tensor of two or more dimensions.
    private static func indexInShape(_ flat: Int, _ shape: [Int]) -> String {
        guard shape.count > 1, !shape.contains(0) else { return "" }
        var rest = flat
        var index: [Int] = []
        for d in shape.reversed() {
            index.append(rest % d)
            rest /= d
        }
        return " ([\(index.reversed().map(String.init).joined(separator: ", "))])"
    }
}

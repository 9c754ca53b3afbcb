import Foundation
import HarkCore
import HarkIO
import HarkTestSupport

/// Reads the tensors written by `scripts/make_nn_fixtures.py`.
struct TorchFixture {
    let file: SafeTensorsFile
    let index: [String: Any]

    init(_ name: String) throws {
        let folder = repositoryRoot.appendingPathComponent("Tests/HarkNNTests/Fixtures")
        file = try SafeTensorsFile.read(folder.appendingPathComponent(name + ".safetensors"))
        index = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name + ".json"))) as! [String: Any]
    }

    var cases: [[String: Any]] { index["cases"] as! [[String: Any]] }

    func has(_ name: String) -> Bool { file.tensors[name] != nil }

    func floats(_ name: String) -> [Float] { try! file.tensors[name]!.floats(name: name) }

    /// The tensor as a matrix whose columns are its last dimension.
    func matrix(_ name: String) -> Matrix {
        let t = file.tensors[name]!
        let cols = t.shape.last ?? 1
        return Matrix(rows: t.elementCount / max(cols, 1), cols: cols, data: floats(name))
    }

    /// The tensors under `prefix`, with the prefix removed (a state dict).
    func stateDict(prefix: String) -> SafeTensorsFile {
        let names = file.order.filter { $0.hasPrefix(prefix) }
        return SafeTensorsFile(tensors: names.map { (String($0.dropFirst(prefix.count)), file.tensors[$0]!) })
    }
}

import Foundation
import HarkCore

/// One tensor of a safetensors file.
public struct SafeTensor: Equatable, Sendable {
    /// safetensors' dtype name: "F32", "F16", "I64", …
    public var dtype: String
    /// The tensor's shape (empty: a scalar).
    public var shape: [Int]
    /// The raw little-endian bytes.
    public var bytes: [UInt8]

    /// A tensor of the given dtype, shape and raw bytes (not checked against each other).
    public init(dtype: String, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.init(dtype: "F32", shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    /// The number of elements: the product of `shape`.
    public var elementCount: Int { shape.reduce(1, *) }

    /// The values of an F32 tensor.
    public func floats(name: String = "tensor") throws -> [Float] {
        guard dtype == "F32" else {
            throw IOError(name, "dtype \(dtype), but Hark needs F32 (in PyTorch: `model.float()` before saving)")
        }
        guard bytes.count == elementCount * 4 else {
            throw IOError(name, "shape \(shape) needs \(elementCount * 4) bytes but the tensor has \(bytes.count)")
        }
        var out = [Float](repeating: 0, count: elementCount)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
        return out
    }

    /// The values of an I64 (or I32) tensor.
    public func integers(name: String = "tensor") throws -> [Int] {
        let size: Int
        switch dtype {
        case "I64": size = 8
        case "I32": size = 4
        default: throw IOError(name, "dtype \(dtype), expected an integer tensor (I64 or I32)")
        }
        guard bytes.count == elementCount * size else {
            throw IOError(name, "shape \(shape) needs \(elementCount * size) bytes but the tensor has \(bytes.count)")
        }
        return (0..<elementCount).map { i in
            var v: UInt64 = 0
            for k in 0..<size { v |= UInt64(bytes[i * size + k]) << (8 * UInt64(k)) }
            return size == 8 ? Int(Int64(bitPattern: v)) : Int(Int32(truncatingIfNeeded: v))
        }
    }
}

/// The safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// …, "__metadata__": {"key": "value"}}`, then the data, with offsets relative
/// to the end of the header.
///
/// Reading checks everything before trusting it: the header length against
/// the file size, the JSON, every dtype, shape and offset pair, that each
/// tensor's byte count equals its element count times its dtype's size, and
/// that the tensors, sorted by offset, tile the data section exactly: no
/// gap, no overlap, nothing after the last one. Nothing is allocated from an
/// unchecked field.
public struct SafeTensorsFile: Sendable {
    /// The tensors by name.
    public var tensors: [String: SafeTensor]
    /// The header's `__metadata__` (empty when absent).
    public var metadata: [String: String]
    /// Tensor names in the order of their data in the file.
    public var order: [String]

    /// A file of the given tensors, their data in that order (a name given twice keeps its last tensor).
    public init(tensors: [(String, SafeTensor)], metadata: [String: String] = [:]) {
        self.tensors = Dictionary(tensors, uniquingKeysWith: { _, last in last })
        self.order = tensors.map { $0.0 }
        self.metadata = metadata
    }

    /// Bytes per element of each dtype safetensors defines.
    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1
    ]
    /// A header larger than this is refused (real ones are kilobytes).
    static let maxHeaderBytes = 100 * 1024 * 1024

    /// Reads and checks the file at `url`.
    public static func read(_ url: URL) throws -> SafeTensorsFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw IOError(url.path, FileManager.default.fileExists(atPath: url.path) ? "cannot read" : "no such file")
        }
        return try decode([UInt8](data), name: url.path)
    }

    /// Parses and checks a file's bytes; `name` names it in errors.
    public static func decode(_ bytes: [UInt8], name: String) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else {
            throw IOError(name, "truncated: \(bytes.count) bytes, less than the 8-byte header length")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw IOError(name, "truncated: the header length is \(n) bytes but only \(bytes.count - 8) follow")
        }
        guard n <= UInt64(maxHeaderBytes) else { throw IOError(name, "header length \(n) bytes is implausibly large") }
        let headerEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
            let header = json as? [String: Any]
        else {
            throw IOError(name, "the header is not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, begin: Int, end: Int, dtype: String, shape: [Int])] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw IOError(name, "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw IOError(name, "__metadata__ value \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw IOError(name, "tensor \"\(key)\": entry is not an object") }
            guard let dtype = info["dtype"] as? String, let size = dtypeSizes[dtype] else {
                throw IOError(name, "tensor \"\(key)\": unknown dtype \(String(describing: info["dtype"] ?? "missing"))")
            }
            guard let shapeList = info["shape"] as? [Any] else {
                throw IOError(name, "tensor \"\(key)\": shape is not a list of non-negative integers")
            }
            let shape = shapeList.compactMap { integer($0) }
            guard shape.count == shapeList.count else {
                throw IOError(name, "tensor \"\(key)\": shape is not a list of non-negative integers")
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                let begin = integer(offsets[0]), let end = integer(offsets[1])
            else {
                throw IOError(name, "tensor \"\(key)\": data_offsets is not a pair of integers")
            }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw IOError(name, "tensor \"\(key)\": data_offsets [\(begin), \(end)] lie outside the \(dataSize) data bytes")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw IOError(name, "tensor \"\(key)\": shape \(shape) overflows") }
                count = p
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, needed == end - begin else {
                throw IOError(
                    name,
                    "tensor \"\(key)\": shape \(shape) of \(dtype) needs \(overflow ? -1 : needed) bytes but data_offsets give \(end - begin)"
                )
            }
            entries.append((key, begin, end, dtype, shape))
        }
        // The spec: the data section is exactly the tensors, back to back.
        // A header length off by one shifts every tensor by a byte and shows
        // up here as a gap, an overlap or bytes left over.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for e in entries {
            if e.begin < covered {
                throw IOError(name, "tensors \"\(previous!)\" and \"\(e.name)\" overlap (bytes \(e.begin)..<\(covered) of the data)")
            }
            if e.begin > covered {
                throw IOError(
                    name,
                    previous.map { "\(e.begin - covered) bytes between tensors \"\($0)\" and \"\(e.name)\" belong to no tensor" }
                        ?? "the first \(e.begin) data bytes, before tensor \"\(e.name)\", belong to no tensor")
            }
            covered = e.end
            previous = e.name
        }
        if covered != dataSize {
            throw IOError(
                name,
                "\(dataSize - covered) bytes after the last tensor belong to no tensor (the data section is \(dataSize) bytes, the tensors cover \(covered); is the header length right?)"
            )
        }
        var file = SafeTensorsFile(tensors: [], metadata: metadata)
        for e in entries {
            file.tensors[e.name] = SafeTensor(
                dtype: e.dtype, shape: e.shape,
                bytes: Array(bytes[(headerEnd + e.begin)..<(headerEnd + e.end)]))
            file.order.append(e.name)
        }
        return file
    }

    private static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d == d.rounded() else { return nil }
        guard d >= 0, d < 9.0e15 else { return nil }
        return n.intValue
    }

    /// The file's bytes: tensors in `order`, header padded with spaces to a
    /// multiple of 8 bytes (so the data is aligned).
    public func encode() -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for name in order {
            let t = tensors[name]!
            header[name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = [UInt8]((try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8))
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(i)))) }
        out += json
        for name in order { out += tensors[name]!.bytes }
        return out
    }

    /// Writes atomically (temporary file, then rename).
    public func write(to url: URL) throws {
        do {
            try FileWriting.writeAtomically(encode(), to: url)
        } catch {
            throw IOError(url.path, "cannot write: \((error as? WriteError)?.reason ?? "\(error)")")
        }
    }
}

import Foundation
import HarkASR

/// Any bytes as a model's `config.json`: decoding and `validate()` throw or
/// succeed, never crash, hang or allocate without bound.
func fuzzConfig(_ data: UnsafeBufferPointer<UInt8>) {
    let bytes = Data(data)
    guard let config = try? JSONDecoder().decode(ModelConfig.self, from: bytes) else { return }
    try? config.validate()
}

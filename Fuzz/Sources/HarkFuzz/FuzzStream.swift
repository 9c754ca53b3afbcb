import Foundation
import HarkASR
import HarkFeatures
import HarkServer

/// Any bytes as what a WebSocket client sends on `/v1/stream` after the
/// handshake: the frame guard, the frame decoder and the message handling
/// (`StreamProtocolHarness`) refuse or recognise them, never crash, hang or
/// hold more than the message limit. A small random-weight model keeps the
/// recogniser's share of each run short.
let streamService: RecognitionService = {
    let features = FeatureOptions(kind: .fbank(FbankOptions()), cmvn: .meanvar)
    let tokens = ["<blank>", " "] + (65...90).map { String(UnicodeScalar(UInt8($0))) }
    let network = ModelConfig.Network(
        cell: .lstm, inputSize: features.dimension * 3, hiddenSize: 8, numLayers: 1,
        bidirectional: true, dropout: 0, projSize: 0)
    let config = ModelConfig(
        sampleRate: 16_000, features: features, stackFrames: 3, network: network,
        tokens: tokens, blank: 0, text: TextNormalizer())
    var options = ServerOptions()
    options.maxMessageBytes = 64 * 1024
    let model = try! AcousticModel(config: config, seed: 1)
    return try! RecognitionService(transcriber: Transcriber(model: model), modelName: "fuzz", options: options)
}()

func fuzzStream(_ data: UnsafeBufferPointer<UInt8>) {
    _ = StreamProtocolHarness.run(Array(data), service: streamService)
}

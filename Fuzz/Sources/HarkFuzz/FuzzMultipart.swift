import Foundation
import HarkServer

/// Any bytes as the body of `POST /v1/audio/transcriptions`, with the
/// boundary the seeds use and one taken from the input's first line: the
/// form parser throws the error the route answers with, or returns a form,
/// never crashes or hangs.
func fuzzMultipart(_ data: UnsafeBufferPointer<UInt8>) {
    let body = Array(data)
    _ = try? OpenAITranscription(contentType: "multipart/form-data; boundary=hark-fuzz", body: body)
    if let newline = body.firstIndex(of: 10), newline > 2, body[0] == 45, body[1] == 45 {
        let boundary = String(decoding: body[2..<newline].filter { $0 != 13 }, as: UTF8.self)
        _ = try? OpenAITranscription(contentType: "multipart/form-data; boundary=\"\(boundary)\"", body: body)
    }
}

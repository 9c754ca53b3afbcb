import Foundation
import HarkASR
import MultipartKit
import NIOCore

/// `POST /v1/audio/transcriptions`, as OpenAI's API takes it: a
/// multipart/form-data body with `file` (the audio), `response_format` (json,
/// text, srt, vtt or verbose_json; default json) and
/// `timestamp_granularities[]` (`word` and/or `segment`, for verbose_json).
/// `model`, `language`, `prompt` and `temperature` are accepted and ignored:
/// the server has one model. Existing OpenAI client libraries work by
/// pointing their base URL at the server.
public struct OpenAITranscription {
    enum ResponseFormat: String { case json, text, srt, vtt, verbose_json }

    var file: [UInt8]
    var filename: String
    var format: ResponseFormat = .json
    var granularities: Set<String> = []
    /// `stream=true`: server-sent events as the audio is recognised (`OpenAIStream`).
    var stream = false

    /// Parses the form; a bad one throws the `ServiceError` the route answers with.
    public init(contentType: String, body: [UInt8]) throws {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else {
            throw ServiceError(
                415, "unsupported_media_type",
                "Content-Type must be multipart/form-data with a 'file' field (got \(contentType.isEmpty ? "none" : contentType))")
        }
        var boundary =
            parts.dropFirst().first { $0.lowercased().hasPrefix("boundary=") }.map { String($0.dropFirst("boundary=".count)) } ?? ""
        if boundary.count >= 2 && boundary.hasPrefix("\"") && boundary.hasSuffix("\"") {
            boundary = String(boundary.dropFirst().dropLast())
        }
        // RFC 2046: 1 to 70 characters.
        guard (1...70).contains(boundary.utf8.count) else {
            throw ServiceError(400, "bad_request", "the multipart Content-Type has no valid boundary")
        }

        // Parts as they come: headers, then body bytes, then completion.
        var fields: [(name: String, filename: String?, body: [UInt8])] = []
        var partName = "", partFilename: String?, bytes: [UInt8] = []
        if let offset = multipartHeaderNameTrap(in: body, boundary: boundary) {
            throw ServiceError(
                400, "bad_request",
                "the multipart body cannot be parsed: a part's header name holds the byte 0x\(String(body[offset], radix: 16, uppercase: true)) at offset \(offset) (header names are ASCII)"
            )
        }
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { field, value in
            guard field.lowercased() == "content-disposition" else { return }
            partName = Self.parameter("name", in: value) ?? ""
            partFilename = Self.parameter("filename", in: value)
        }
        parser.onBody = { buffer in bytes.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? []) }
        parser.onPartComplete = {
            fields.append((partName, partFilename, bytes))
            partName = ""; partFilename = nil; bytes = []
        }
        do { try parser.execute(body) } catch {
            throw ServiceError(400, "bad_request", "the multipart body cannot be parsed")
        }
        // The closing delimiter "--BOUNDARY--" ends a whole form.
        let closing = Array("--\(boundary)--".utf8)
        let complete =
            body.count >= closing.count
            && (0...(body.count - closing.count)).contains { i in
                body[i] == closing[0] && body[i..<(i + closing.count)].elementsEqual(closing)
            }
        if !complete {
            throw ServiceError(
                400, "bad_request",
                fields.isEmpty && partName.isEmpty
                    ? "the body has no part delimited by the boundary of its Content-Type (\(boundary.prefix(70)))"
                    : "the multipart body is truncated: it does not end with the closing --\(boundary.prefix(70))--")
        }
        guard let filePart = fields.first(where: { $0.name == "file" }) else {
            throw ServiceError(400, "bad_request", "the form has no 'file' field (the audio to transcribe)")
        }
        file = filePart.body
        filename = filePart.filename.flatMap { $0.isEmpty ? nil : $0 } ?? "file"
        guard !file.isEmpty else { throw ServiceError(400, "bad_request", "\(filename): the 'file' field is empty") }
        for f in fields {
            let value = String(decoding: f.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            switch f.name {
            case "response_format":
                guard let v = ResponseFormat(rawValue: value) else {
                    throw ServiceError(
                        400, "bad_request", "response_format '\(value.prefix(40))' is not one of json, text, srt, vtt, verbose_json")
                }
                format = v
            case "timestamp_granularities[]", "timestamp_granularities":
                guard value == "word" || value == "segment" else {
                    throw ServiceError(400, "bad_request", "timestamp_granularities[] '\(value.prefix(40))' is not word or segment")
                }
                granularities.insert(value)
            case "stream":
                guard value == "true" || value == "false" else {
                    throw ServiceError(400, "bad_request", "stream '\(value.prefix(40))' is not true or false")
                }
                stream = value == "true"
            default: break
            }
        }
    }

    /// A `key="value"` (or `key=value`) parameter of a header value.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let p = piece.trimmingCharacters(in: .whitespaces)
            guard p.lowercased().hasPrefix(key + "=") else { continue }
            var v = String(p.dropFirst(key.count + 1))
            if v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// The answer's content type and text.
    func render(_ t: Transcript) -> (String, String) {
        switch format {
        case .json: return ("application/json", HarkRoutes.jsonText(["text": t.text]))
        case .text: return ("text/plain; charset=utf-8", t.text + "\n")
        case .srt: return ("application/x-subrip", TranscriptFormat.srt.render(t, source: filename))
        case .vtt: return ("text/vtt", TranscriptFormat.vtt.render(t, source: filename))
        case .verbose_json:
            func ms(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
            var object: [String: Any] = ["task": "transcribe", "language": "english", "duration": ms(t.duration), "text": t.text]
            if granularities.isEmpty || granularities.contains("segment") {
                object["segments"] = TranscriptFormat.cues(t).enumerated().map { i, c -> [String: Any] in
                    ["id": i, "seek": 0, "start": ms(c.start), "end": ms(c.end), "text": c.text]
                }
            }
            if granularities.contains("word") {
                object["words"] = t.words.map { w -> [String: Any] in
                    [
                        "word": w.word, "start": ms(w.start ?? 0), "end": ms(w.end ?? 0),
                        "confidence": ((w.confidence ?? 0) * 1e4).rounded() / 1e4
                    ]
                }
            }
            return ("application/json", HarkRoutes.jsonText(object))
        }
    }
}

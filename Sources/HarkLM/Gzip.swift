import CZlib
import Foundation

/// gzip decompression through zlib, recognised by the magic bytes 1f 8b
/// rather than by the file's extension.
enum Gzip {
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Inflates every member of a gzip file (as `zcat` does, several
    /// concatenated members are one stream). Throws on corrupt or truncated
    /// input, and as soon as the output grows past `maxRatio` times the
    /// input. `checkHead` sees the output once it passes `headBytes` (or at the
    /// end, if shorter) and may throw, so that a file that is not what it
    /// should be is refused before it is inflated whole.
    static func decompress(
        _ input: [UInt8], name: String, maxRatio: Int = .max,
        headBytes: Int = ARPALimits.headerWithin, checkHead: ([UInt8]) throws -> Void = { _ in }
    ) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(input.count * 4, 1 << 30))
        let limit = input.count.multipliedReportingOverflow(by: maxRatio).overflow ? Int.max : input.count * maxRatio
        var headChecked = false
        var stream = z_stream()
        // 15 + 16: a 32 KiB window, gzip header and trailer.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ARPAError(file: name, line: nil, problem: "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBufferPointer { inp in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = uInt(inp.count)
            while true {
                let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                if !headChecked && output.count >= headBytes {
                    headChecked = true
                    try checkHead(Array(output.prefix(headBytes)))
                }
                guard output.count <= limit else {
                    throw ARPAError(
                        file: name, line: nil,
                        problem:
                            "inflates to more than \(maxRatio) times its \(input.count) bytes (a gzip bomb?); the most Hark inflates is \(maxRatio)×"
                    )
                }
                if status == Z_STREAM_END {
                    // Another member may follow; trailing zero padding is ignored.
                    let rest = Int(stream.avail_in)
                    if rest == 0 || inp[inp.count - rest..<inp.count].allSatisfy({ $0 == 0 }) {
                        if !headChecked { try checkHead(output) }
                        return
                    }
                    guard inflateReset(&stream) == Z_OK else { break }
                    continue
                }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw ARPAError(file: name, line: nil, problem: "the gzip data is truncated")
                }
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw ARPAError(file: name, line: nil, problem: "corrupt gzip data (\(reason))")
            }
            throw ARPAError(file: name, line: nil, problem: "corrupt gzip data")
        }
        return output
    }
}

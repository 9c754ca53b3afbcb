import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client on a bare TCP socket, for tests that need what a well-behaved
/// client library would not do: stop reading, never answer a close, send
/// unmasked or oversized WebSocket frames, or a malformed request head.
public enum RawSocket {
    /// Opens a raw connection, optionally with a small receive buffer, and sends `bytes`.
    public static func connect(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sends until it closes the connection (or 5 s pass).
    public static func readToEnd(_ fd: Int32) -> [UInt8] {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            all += buffer[0..<n]
        }
        return all
    }

    /// A WebSocket handshake on a raw connection; returns the connection after the 101.
    public static func webSocket(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = try connect(port: port, receiveBuffer: receiveBuffer)
        sendAll(
            fd,
            Array(
                ("GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) && recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
        guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { close(fd); throw POSIXError(.EPROTO) }
        return fd
    }

    /// A client frame: FIN, `opcode`, masked with `mask` unless nil.
    public static func clientFrame(_ opcode: UInt8, _ payload: [UInt8], mask: [UInt8]? = [1, 2, 3, 4], declaredLength: Int? = nil)
        -> [UInt8]
    {
        let length = declaredLength ?? payload.count
        var f: [UInt8] = [0x80 | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if length < 126 {
            f.append(maskBit | UInt8(length))
        } else if length < 65536 {
            f += [maskBit | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            f.append(maskBit | 127)
            f += (0..<8).reversed().map { UInt8((UInt64(length) >> (8 * UInt64($0))) & 0xFF) }
        }
        guard let mask else { return f + payload }
        return f + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// Server frames (unmasked) in `bytes`: (opcode, payload).
    public static func serverFrames(_ bytes: [UInt8]) -> [(UInt8, [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        var i = 0
        while i + 2 <= bytes.count {
            var length = Int(bytes[i + 1] & 0x7F), start = i + 2
            if length == 126 { length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]); start = i + 4 }
            if length == 127 { length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[i + 2 + $1]) }; start = i + 10 }
            guard start + length <= bytes.count else { break }
            frames.append((bytes[i] & 0x0F, Array(bytes[start..<(start + length)])))
            i = start + length
        }
        return frames
    }

}

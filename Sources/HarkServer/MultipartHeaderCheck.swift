/// Where MultipartKit 4.7.1 would trap on a form: the first byte above 127 in
/// a part's header name, or nil.
///
/// MultipartKit's parser looks a header name's bytes up in a 128-entry table
/// (`isAllowedHeaderFieldNameCharacter`), so a byte ≥ 128 there is an index
/// out of range, a trap that would end `hark serve` (found by the `multipart`
/// fuzz target: `Content-\xF4ent-Disposition`). This walks the body through
/// the same states as `MultipartParser.execute` — preamble, headers, body,
/// boundary, epilogue — reading nothing else, and stops where the parser
/// would throw; the form is refused before the parser sees it.
///
/// - Parameters:
///   - body: the whole request body.
///   - boundary: the form's boundary, without the leading "--".
func multipartHeaderNameTrap(in body: [UInt8], boundary: String) -> Int? {
    // The parser's delimiter: CR LF "--" boundary.
    let delimiter = Array("\r\n--\(boundary)".utf8)
    let length = delimiter.count
    let cr: UInt8 = 13, lf: UInt8 = 10, colon: UInt8 = 58, hyphen: UInt8 = 45

    enum State {
        case preamble
        case preHeaders(expectingLF: Bool)
        case headerName(empty: Bool)
        case headerValue,
            postHeaderValue, postHeaders, body
        case boundary(matched: Int)
    }
    var state = State.preamble
    var matched = 0  // the preamble's match index
    var i = 0
    while i < body.count {
        switch state {
        case .preamble:
            // The first delimiter; its leading CR LF may be missing.
            while matched < length && i < body.count {
                let byte = body[i]; i += 1
                if matched == 0 && byte == delimiter[2] {
                    matched = 3
                } else if byte == delimiter[matched] {
                    matched += 1
                } else if matched > 0 && byte == delimiter[0] {
                    matched = 1
                } else {
                    matched = 0
                }
            }
            if matched >= length { state = .preHeaders(expectingLF: false) }
        case .preHeaders(let expectingLF):
            let byte = body[i]; i += 1
            if !expectingLF && byte == cr {
                state = .preHeaders(expectingLF: true)
            } else if expectingLF && byte == lf {
                state = .headerName(empty: true)
            } else {
                return nil
            }  // the parser throws: a syntax error, not a trap
        case .headerName(let empty):
            let byte = body[i]
            if byte == colon && !empty {
                i += 1; state = .headerValue
            } else if byte == cr && empty {
                i += 1; state = .postHeaders
            } else if byte >= 128 {
                return i
            } else {
                i += 1; state = .headerName(empty: false)
            }
        // (a disallowed ASCII byte makes the parser throw; it is harmless here)
        case .headerValue:
            let byte = body[i]; i += 1
            if byte == cr { state = .postHeaderValue }
        case .postHeaderValue:
            guard body[i] == lf else { return nil }
            i += 1
            state = .headerName(empty: true)
        case .postHeaders:
            guard body[i] == lf else { return nil }
            i += 1
            state = .body
        case .body:
            while i < body.count && body[i] != delimiter[0] { i += 1 }
            if i < body.count { state = .boundary(matched: 0) }
        case .boundary(let m):
            let byte = body[i]; i += 1
            if m >= length {
                if byte == cr {
                    state = .preHeaders(expectingLF: true)
                } else if byte == hyphen {
                    return nil
                }  // the epilogue: the parser reads no further
                else {
                    return nil
                }
            } else if byte == delimiter[m] {
                state = .boundary(matched: m + 1)
            } else {
                state = byte == delimiter[0] ? .boundary(matched: 1) : .body
            }
        }
    }
    return nil
}

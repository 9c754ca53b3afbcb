import Foundation
import HarkCore
import XCTest

/// The result of comparing two arrays element by element.
public struct Comparison: CustomStringConvertible {
    public var maxAbsolute: Float = 0
    public var maxRelative: Float = 0
    /// The first index that broke the tolerance, or nil.
    public var firstBad: Int?
    public var firstBadValues: (Float, Float)?
    public var count = 0

    public var description: String {
        var s = String(format: "max abs %.3g, max rel %.3g over %d values", maxAbsolute, maxRelative, count)
        if let i = firstBad, let (a, e) = firstBadValues { s += "; first bad index \(i): got \(a), expected \(e)" }
        return s
    }
}

/// Compares `actual` with `expected`: an element passes when
/// |a − e| ≤ absolute + relative · |e|. NaN never passes.
public func compare(_ actual: [Float], _ expected: [Float], absolute: Float = 0, relative: Float = 0) -> Comparison {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) values")
    var c = Comparison()
    c.count = actual.count
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let diff = abs(a - e)
        let rel = diff / max(abs(e), Float.leastNormalMagnitude)
        if diff.isNaN { c.maxAbsolute = .nan } else if diff > c.maxAbsolute { c.maxAbsolute = diff }
        if e != 0 { c.maxRelative = max(c.maxRelative, rel) }
        if c.firstBad == nil && !(diff <= absolute + relative * abs(e)) {
            c.firstBad = i
            c.firstBadValues = (a, e)
        }
    }
    return c
}

/// Asserts that two matrices have the same shape and agree within the tolerance.
@discardableResult
public func assertClose(
    _ actual: Matrix, _ expected: Matrix, absolute: Float = 0, relative: Float = 0,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) -> Comparison {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
    guard actual.shape == expected.shape else { return Comparison() }
    let c = compare(actual.data, expected.data, absolute: absolute, relative: relative)
    XCTAssertNil(c.firstBad, "\(message): \(c)", file: file, line: line)
    return c
}

/// The repository's root folder (found from this file's location).
public let repositoryRoot: URL = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}()

/// A fresh temporary folder, removed when the process ends is not guaranteed:
/// tests remove it themselves.
public func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hark-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

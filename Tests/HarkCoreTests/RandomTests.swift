import Foundation
import HarkCore
import XCTest

/// The bulk Gaussian draws are standard normal, seeded, and of the length asked for.
final class RandomTests: XCTestCase {
    func testGaussiansAreStandardNormalAndSeeded() {
        var rng = SeededGenerator(seed: 11)
        let z = rng.gaussians(count: 200_001)
        XCTAssertEqual(z.count, 200_001)
        let n = Double(z.count)
        let mean = z.reduce(0) { $0 + Double($1) } / n
        let variance = z.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.015)
        // The tails of a normal: P(|z| > 2) ≈ 4.55%, P(|z| > 3) ≈ 0.27%.
        XCTAssertEqual(Double(z.filter { abs($0) > 2 }.count) / n, 0.0455, accuracy: 0.002)
        XCTAssertEqual(Double(z.filter { abs($0) > 3 }.count) / n, 0.0027, accuracy: 0.0005)
        XCTAssertTrue(z.allSatisfy(\.isFinite))
        // Consecutive draws (the two of a pair among them) are uncorrelated.
        let lag1 = zip(z, z.dropFirst()).reduce(0) { $0 + Double($1.0 * $1.1) } / n
        XCTAssertEqual(lag1, 0, accuracy: 0.01)

        var again = SeededGenerator(seed: 11)
        XCTAssertEqual(again.gaussians(count: 200_001).map(\.bitPattern), z.map(\.bitPattern))
        XCTAssertEqual(again.gaussians(count: 0), [])
        XCTAssertEqual(again.gaussians(count: 3).count, 3)
    }
}

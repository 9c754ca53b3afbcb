import Foundation
import HarkCore
import HarkTestSupport
import XCTest

/// The kernels Hark and OpenBLAS choose at run time, seen from the command
/// line: `hark info` names them, and forcing the other choices — the portable
/// reference instead of the AVX2 kernels (`HARK_KERNELS=reference`, what a
/// processor without AVX2 runs) and OpenBLAS's kernels for another core
/// (`OPENBLAS_CORETYPE`) — transcribes the bundled samples to the same words
/// and times. (The whole suite also runs under those settings in `.ci/run`.)
final class KernelChoiceTests: CLITestCase {
    func info(_ environment: [String: String] = [:]) throws -> [String: String] {
        let run = try hark(["info"], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        var fields: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertEqual(parts.count, 2, "not a 'name: value' line: \(line)")
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    func testInfoNamesTheProcessorAndTheKernels() throws {
        let fields = try info()
        for name in [
            "hark", "processor", "cores", "vector extensions", "recurrent kernels", "OpenBLAS core",
            "OpenBLAS build", "OpenBLAS threads", "audio decoder"
        ] {
            XCTAssertFalse(fields[name, default: ""].isEmpty, "hark info has no '\(name)': \(fields)")
        }
        let forced = ProcessInfo.processInfo.environment["HARK_KERNELS"] == "reference"
        XCTAssertEqual(fields["recurrent kernels"]?.hasPrefix("AVX2+FMA"), KernelChoice.processorHasAVX2FMA && !forced)
        XCTAssertEqual(fields["OpenBLAS core"], BLASInfo.coreName)

        let reference = try info(["HARK_KERNELS": "reference", "OPENBLAS_CORETYPE": "Sandybridge"])
        XCTAssertEqual(reference["recurrent kernels"], "reference (Swift and OpenBLAS; HARK_KERNELS=reference)")
        // A DYNAMIC_ARCH OpenBLAS (Debian's) takes the core it is told; a build for one core ignores it.
        if BLASInfo.configuration.contains("DYNAMIC_ARCH") {
            XCTAssertEqual(reference["OpenBLAS core"], "Sandybridge")
        }
    }

    /// The bundled samples, JSON with word times and confidences, under every
    /// kernel choice: the same words and times; confidences (means of
    /// posteriors) within 0.002, as float rounding may move the third decimal.
    func testForcedKernelChoicesTranscribeAlike() throws {
        let samples = ["audio/an52-mmaf-b.wav", "audio/7_jackson_0.wav"]
        func words(_ environment: [String: String]) throws -> [[[String: Any]]] {
            let run = try hark(["transcribe", "--format", "json"] + samples, environment: environment)
            XCTAssertEqual(run.status, 0, "\(environment): \(run.stderr)")
            return try run.stdout.split(separator: "\n").map { line in
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return try XCTUnwrap(object["words"] as? [[String: Any]])
            }
        }
        let native = try words([:])
        XCTAssertEqual(native.map { $0.map { $0["word"] as! String } }, [["ENTER", "SEVEN"], ["SEVEN"]])
        for environment in [
            ["HARK_KERNELS": "reference"], ["HARK_KERNELS": "reference", "OPENBLAS_CORETYPE": "Sandybridge"],
            ["OPENBLAS_CORETYPE": "Haswell"]
        ] {
            let other = try words(environment)
            XCTAssertEqual(other.count, native.count)
            for (a, b) in zip(native, other) {
                XCTAssertEqual(a.map { $0["word"] as! String }, b.map { $0["word"] as! String }, "\(environment)")
                XCTAssertEqual(a.map { $0["start"] as! Double }, b.map { $0["start"] as! Double }, "\(environment)")
                XCTAssertEqual(a.map { $0["end"] as! Double }, b.map { $0["end"] as! Double }, "\(environment)")
                for (x, y) in zip(a, b) {
                    XCTAssertEqual(x["confidence"] as! Double, y["confidence"] as! Double, accuracy: 0.002, "\(environment)")
                }
            }
        }
    }
}

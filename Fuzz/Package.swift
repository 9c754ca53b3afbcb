// swift-tools-version:6.0
//
// libFuzzer targets for Hark's parsers, one executable each, kept out of the
// main package so that its build never sees the fuzzer flags. Build and run
// one with `Fuzz/run.sh TARGET SECONDS` (README, "Fuzzing"); run.sh passes
// `-sanitize=fuzzer,address` to every module, so the libraries are
// instrumented too.
//
// Every target has one function, `LLVMFuzzerTestOneInput`, and a `main`
// that hands it to libFuzzer's driver (SwiftPM insists on linking an
// executable's own entry point).

import PackageDescription

let hark = "Hark"
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: "fuzz-\(name)", dependencies: ["CLibFuzzer"] + products.map { .product(name: $0, package: hark) },
                      path: "Sources/\(name)", swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "HarkFuzz",
    dependencies: [.package(name: hark, path: "..")],
    targets: [
        // libFuzzer's driver entry point, declared for Swift.
        .target(name: "CLibFuzzer"),
        // MARK: - File formats (HarkIO)
        fuzzTarget("safetensors", ["HarkIO"]),
        fuzzTarget("npy", ["HarkIO"]),
        fuzzTarget("kaldi", ["HarkIO"]),
        fuzzTarget("manifest", ["HarkIO"]),
        // MARK: - The model's config.json (HarkASR)
        fuzzTarget("config", ["HarkASR"]),
        // MARK: - Audio files from memory (HarkAudio)
        fuzzTarget("audio", ["HarkAudio"]),
    ],
    swiftLanguageModes: [.v5]
)

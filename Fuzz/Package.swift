// swift-tools-version:6.0
//
// libFuzzer targets for Hark's parsers, in one executable (`hark-fuzz
// TARGET`), kept out of the main package so that its build never sees the
// fuzzer flags. Build and run one with `Fuzz/run.sh TARGET SECONDS`
// (docs/correctness.md, "Fuzzing"); run.sh passes `-sanitize=fuzzer,address` to every module, so
// the libraries are instrumented too.
//
// Every target is one function of the input's bytes (Sources/HarkFuzz/Fuzz*.swift);
// main.swift picks it by name and hands it to libFuzzer's driver.

import PackageDescription

let hark = "Hark"

let package = Package(
    name: "HarkFuzz",
    dependencies: [.package(name: hark, path: "..")],
    targets: [
        // libFuzzer's driver entry point, declared for Swift.
        .target(name: "CLibFuzzer"),
        // Every target in one executable: `hark-fuzz TARGET [libFuzzer arguments]`.
        .executableTarget(
            name: "hark-fuzz",
            dependencies: ["CLibFuzzer"]
                + ["HarkIO", "HarkASR", "HarkAudio", "HarkFeatures", "HarkLM", "HarkServer", "HarkPlot"]
                .map { .product(name: $0, package: hark) },
            path: "Sources/HarkFuzz")
    ],
    swiftLanguageModes: [.v5]
)

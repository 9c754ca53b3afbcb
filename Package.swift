// swift-tools-version:6.0
//
// Hark: a small-footprint speech-recognition toolkit.
//
// The targets follow the pipeline: audio → features → (neural network → CTC →
// ASR) → the `hark` command-line tool. C libraries each sit behind a
// system-library target with a one-line shim header; only a handful of Swift
// files import them.

import PackageDescription

let package = Package(
    name: "Hark",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hark", targets: ["hark"]),
        .library(name: "HarkAudio", targets: ["HarkAudio"]),
        .library(name: "HarkFeatures", targets: ["HarkFeatures"]),
        .library(name: "HarkIO", targets: ["HarkIO"]),
        .library(name: "HarkNN", targets: ["HarkNN"]),
        .library(name: "HarkCTC", targets: ["HarkCTC"]),
        .library(name: "HarkASR", targets: ["HarkASR"]),
        .library(name: "HarkLM", targets: ["HarkLM"]),
        .library(name: "HarkServer", targets: ["HarkServer"]),
        .library(name: "HarkPlot", targets: ["HarkPlot"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // hark serve: HTTP and WebSocket (Hummingbird 2 on SwiftNIO), the OpenAI form's
        // multipart parser, and Prometheus metrics.
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.0.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // The server's run and graceful shutdown (Hummingbird's own service lifecycle).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0")
    ],
    targets: [
        // MARK: - C libraries (Debian packages in brackets)

        // libsndfile: decoding WAV/FLAC/OGG/AIFF/SPHERE/… [libsndfile1-dev]
        .systemLibrary(
            name: "CSndfile", pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]),
        // FFTW, single precision: the real FFT of every frame [libfftw3-dev]
        .systemLibrary(
            name: "CFFTW", pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]),
        // OpenBLAS through its CBLAS interface: sgemm [libopenblas-dev]
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // libsamplerate: band-limited sinc resampling [libsamplerate0-dev]
        .systemLibrary(
            name: "CSamplerate", pkgConfig: "samplerate",
            providers: [.apt(["libsamplerate0-dev"])]),
        // libsoxr, SoX's resampler: training's speed-perturbed copies and telephone band [libsoxr-dev]
        .systemLibrary(
            name: "CSoxr", pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]),
        // Open MPI: data-parallel training and sharded jobs under mpirun/srun [libopenmpi-dev]
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // zlib: reading gzip-compressed ARPA language models [zlib1g-dev]
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // cairo: PNG and SVG pictures (spectrograms, posteriorgrams) [libcairo2-dev]
        .systemLibrary(
            name: "CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]),

        // AVX2 kernels, chosen at run time: the per-step recurrent product and the LSTM step.
        .target(name: "CHarkKernels"),

        // MARK: - Pipeline

        // Decoding, mixing to mono, resampling.
        .target(name: "HarkAudio", dependencies: ["CSndfile", "CSamplerate", "CSoxr"]),
        // Shared numeric basics: the row-major Matrix, seeded random numbers, parallel loops, GEMM.
        .target(name: "HarkCore", dependencies: ["COpenBLAS", "CHarkKernels"]),
        // Kaldi-compatible framing, windows, mel banks, MFCC, fbank, deltas, CMVN.
        .target(name: "HarkFeatures", dependencies: ["HarkCore", "CFFTW"]),
        // Layers with hand-written forward and backward passes, optimizers, losses.
        .target(name: "HarkNN", dependencies: ["HarkCore", "HarkIO", "CHarkKernels"]),
        // CTC loss and gradient, greedy and prefix-beam decoding.
        .target(name: "HarkCTC", dependencies: ["HarkCore"]),
        // Speech recognition: model directory, text, data, training, transcription, scoring.
        .target(name: "HarkASR", dependencies: ["HarkCore", "HarkAudio", "HarkFeatures", "HarkNN", "HarkCTC", "HarkIO", "HarkLM"]),
        // File formats and inputs: .npy, Kaldi archives, manifests, input discovery.
        .target(name: "HarkIO", dependencies: ["HarkCore"]),
        // N-gram language models: ARPA reading and scoring as KenLM, modified Kneser-Ney estimation as lmplz.
        .target(name: "HarkLM", dependencies: ["HarkCore", "CZlib"]),

        // MPI as a Collective: the ranks of a job launched by mpirun or srun.
        .target(name: "HarkMPI", dependencies: ["CMPI", "HarkCore"]),
        // The recognition server: routes, the bounded recognition pool, metrics, the browser page.
        .target(
            name: "HarkServer",
            dependencies: [
                "HarkASR", "HarkAudio", "HarkCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio")
            ], resources: [.embedInCode("Page/index.html")]),

        // Pictures and reports: the audio/spectrogram/posteriorgram figure (cairo), training
        // curves and evaluation reports as self-contained HTML (inline SVG charts).
        .target(name: "HarkPlot", dependencies: ["CCairo", "HarkCore", "HarkASR", "HarkAudio", "HarkFeatures"]),

        // MARK: - Command-line tool (a thin client of the libraries)

        .executableTarget(
            name: "hark",
            dependencies: [
                "HarkAudio", "HarkCore", "HarkFeatures", "HarkIO", "HarkNN", "HarkCTC", "HarkASR", "HarkLM", "HarkServer", "HarkMPI",
                "HarkPlot",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),

        // MARK: - Benchmarks (run by hand: `swift run -c release hark-bench …`)

        .executableTarget(
            name: "hark-bench", dependencies: ["HarkAudio", "HarkFeatures", "HarkNN", "HarkCTC", "HarkCore", "HarkIO", "HarkASR", "HarkLM"],
            path: "Benchmarks/hark-bench"),

        // Real-time WebSocket load on hark serve (run by hand: `swift run -c release hark-load …`).
        .executableTarget(
            name: "hark-load",
            dependencies: [
                "HarkAudio", .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio")
            ], path: "Benchmarks/hark-load"),

        // MARK: - Tests

        .target(name: "HarkTestSupport", dependencies: ["HarkIO", "HarkFeatures"], path: "Tests/HarkTestSupport"),
        .testTarget(
            name: "HarkAudioTests", dependencies: ["HarkAudio", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "HarkFeaturesTests",
            dependencies: ["HarkFeatures", "HarkAudio", "HarkIO", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "HarkCTCTests", dependencies: ["HarkCTC", "HarkCore", "HarkIO", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "HarkASRTests", dependencies: ["HarkASR", "HarkCore", "HarkIO", "HarkNN", "HarkCTC", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "HarkCoreTests", dependencies: ["HarkCore", "HarkTestSupport"]),
        .testTarget(name: "HarkIOTests", dependencies: ["HarkIO", "HarkNN", "HarkTestSupport"]),
        .testTarget(
            name: "HarkNNTests", dependencies: ["HarkNN", "HarkIO", "HarkCore", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "HarkLMTests", dependencies: ["HarkLM", "HarkTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "HarkServerTests",
            dependencies: [
                "HarkServer", "HarkASR", "HarkTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket")
            ]),
        .testTarget(name: "HarkPlotTests", dependencies: ["HarkPlot", "HarkASR", "HarkAudio", "HarkCore", "HarkTestSupport"]),
        .testTarget(
            name: "HarkCLITests",
            dependencies: ["hark", "HarkIO", "HarkASR", "HarkLM", "HarkAudio", "HarkCTC", "HarkCore", "HarkFeatures", "HarkTestSupport"],
            exclude: ["Fixtures"])
    ],
    swiftLanguageModes: [.v5]
)

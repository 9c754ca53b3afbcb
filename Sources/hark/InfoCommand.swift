import ArgumentParser
import HarkAudio
import HarkCore

/// `hark info`: what this build of Hark runs on, for a bug report or to
/// place a result: the processor and its vector extensions, which recurrent
/// kernels run, and the kernels OpenBLAS chose.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the processor, its vector extensions and the kernels Hark and OpenBLAS chose for it.",
        discussion: """
            One "name: value" line each, on standard output. Hark's recurrent kernels are AVX2 with FMA, \
            chosen at run time: a processor with AVX-512 runs those same kernels, one without AVX2 or FMA \
            the portable reference (Swift and OpenBLAS). HARK_KERNELS=reference forces the reference on any \
            processor; OPENBLAS_CORETYPE (e.g. Haswell) makes OpenBLAS use another core type's kernels.
            """)

    func run() throws {
        let cpu = ProcessorInfo.current()
        let lines = [
            ("hark", Hark.configuration.version),
            ("processor", cpu.model.isEmpty ? "unknown" : cpu.model),
            ("cores", "\(cpu.cores)"),
            ("vector extensions", cpu.vectorExtensions.isEmpty ? "unknown" : cpu.vectorExtensions.joined(separator: " ")),
            ("recurrent kernels", KernelChoice.summary),
            ("OpenBLAS core", BLASInfo.coreName),
            ("OpenBLAS build", BLASInfo.configuration.trimmingCharacters(in: .whitespaces)),
            ("OpenBLAS threads", "\(BLASThreads.count)"),
            ("audio decoder", AudioLoader.decoderVersion)
        ]
        for (name, value) in lines { print("\(name): \(value)") }
    }
}

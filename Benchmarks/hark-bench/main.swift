// hark-bench: speed measurements, run by hand (never in CI).
//
//   swift run -c release hark-bench mfcc FILE [--runs N] [--threads N]
//
// Prints one JSON object per benchmark with every run's wall time, the
// median, and the real-time factor (processing time / audio duration).

import Foundation
import HarkAudio
import HarkFeatures

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func time(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}

func benchMfcc(_ path: String) throws {
    let runs = option("--runs", 5)
    let threads = option("--threads", ProcessInfo.processInfo.activeProcessorCount)
    var loaded: LoadedAudio?
    let decode = time { loaded = try? AudioLoader.load(path) }
    guard let audio = loaded?.waveform else { throw AudioError(.unreadable, path) }
    let extractor = try FeatureExtractor(.mfcc)   // Kaldi defaults: 13 cepstra, 23 bins, 25/10 ms
    var frames = 0
    _ = extractor.compute(audio.samples, threads: threads)   // warm-up
    let times = (0..<runs).map { _ in time { frames = extractor.compute(audio.samples, threads: threads).rows } }
    let m = median(times)
    let result: [String: Any] = [
        "benchmark": "mfcc13", "file": path, "audio_seconds": audio.duration, "frames": frames,
        "threads": threads, "runs": times, "median_seconds": m, "decode_seconds": decode,
        "real_time_factor": m / audio.duration, "times_real_time": audio.duration / m,
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

let args = CommandLine.arguments
guard args.count >= 3, args[1] == "mfcc" else {
    FileHandle.standardError.write(Data("usage: hark-bench mfcc FILE [--runs N] [--threads N]\n".utf8))
    exit(2)
}
do {
    try benchMfcc(args[2])
} catch {
    FileHandle.standardError.write(Data("hark-bench: \(error)\n".utf8))
    exit(1)
}

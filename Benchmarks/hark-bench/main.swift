// hark-bench: speed measurements, run by hand (never in CI).
//
//   swift run -c release hark-bench mfcc FILE [--runs N] [--threads N]
//   swift run -c release hark-bench rnn [--cell lstm] [--layers 3] [--hidden 256]
//       [--input 39] [--batch 16] [--frames 400] [--runs N] [--sequential]
//   swift run -c release hark-bench step-gemm [--batch 16] [--hidden 256]
//   swift run -c release hark-bench ctc [--frames 400] [--batch 16] [--classes 29] [--labels 60]
//   swift run -c release hark-bench lm ARPA [--scores N] [--runs N]
//   swift run -c release hark-bench export-model DIR   (for scripts/check_pytorch_roundtrip.py)
//   swift run -c release hark-bench augment FILE [--runs N]   (each augmentation of hark train, alone)
//   swift run -c release hark-bench decode --model DIR --lm FILE --alpha A --beta B --beam N --out DIR
//       [--threads N] [--runs N] MANIFEST
//       (the network's log-probabilities of every utterance, written as DIR/NNNN.npy, then the beam
//        search with the LM over them on all cores, N runs of it (median reported); times both;
//        for Benchmarks/compare_decoders.py)
//
// Prints one JSON object per benchmark with every run's wall time, the
// median, and the real-time factor (processing time / audio duration).

import Foundation
import HarkASR
import HarkAudio
import HarkCTC
import HarkCore
import HarkFeatures
import HarkIO
import HarkLM
import HarkNN

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
    let extractor = try FeatureExtractor(.mfcc)  // Kaldi defaults: 13 cepstra, 23 bins, 25/10 ms
    var frames = 0
    _ = extractor.compute(audio.samples, threads: threads)  // warm-up
    let times = (0..<runs).map { _ in time { frames = extractor.compute(audio.samples, threads: threads).rows } }
    let m = median(times)
    let result: [String: Any] = [
        "benchmark": "mfcc13", "file": path, "audio_seconds": audio.duration, "frames": frames,
        "threads": threads, "runs": times, "median_seconds": m, "decode_seconds": decode,
        "real_time_factor": m / audio.duration, "times_real_time": audio.duration / m
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

func stringOption(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

/// Forward and forward+backward of a bidirectional recurrent stack on random data.
/// FLOPs count the GEMMs only (2·M·N·K each): forward = Σ over layers and
/// directions of 2·T·B·G·H·(I_l + H); backward does twice that.
func benchRecurrent() {
    let cell = RecurrentCell(rawValue: stringOption("--cell", "lstm"))!
    let L = option("--layers", 3), H = option("--hidden", 256), I = option("--input", 39)
    let B = option("--batch", 16), T = option("--frames", 400), runs = option("--runs", 5)
    var rng = SeededGenerator(seed: 1)
    let rnn = Recurrent(.init(cell: cell, inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true), rng: &rng)
    rnn.parallelDirections = !CommandLine.arguments.contains("--sequential")
    let x = SequenceBatch(
        data: Matrix(rows: T * B, cols: I, data: (0..<(T * B * I)).map { _ in rng.nextGaussian() }),
        steps: T, lengths: [Int](repeating: T, count: B))
    let dOut = Matrix(rows: T * B, cols: 2 * H, data: (0..<(T * B * 2 * H)).map { _ in rng.nextGaussian() })
    var forwardFlops = 0.0
    for l in 0..<L {
        let inputSize = l == 0 ? I : 2 * H
        forwardFlops += 2 * 2 * Double(T * B * cell.gateCount * H * (inputSize + H))
    }
    _ = rnn.forward(x, keepCache: false)
    let fwd = (0..<runs).map { _ in time { _ = rnn.forward(x, keepCache: false) } }
    let both = (0..<runs).map { _ in
        time {
            let out = rnn.forward(x)
            _ = rnn.backward(dOut, cache: out.cache)
        }
    }
    let result: [String: Any] = [
        "benchmark": "recurrent", "cell": cell.rawValue, "layers": L, "hidden": H, "input": I, "batch": B, "frames": T,
        "bidirectional": true, "parallel_directions": rnn.parallelDirections,
        "forward_runs": fwd, "forward_median": median(fwd), "train_runs": both, "train_median": median(both),
        "forward_gflops": forwardFlops / median(fwd) / 1e9, "train_gflops": 3 * forwardFlops / median(both) / 1e9
    ]
    let json = try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// The per-step recurrent product c[B, 4H] += h[B, H] · W[H, 4H]: Hark's kernel against OpenBLAS.
func benchStepGemm() {
    let B = option("--batch", 16), H = option("--hidden", 256), N = 4 * H, reps = option("--reps", 2000)
    var rng = SeededGenerator(seed: 1)
    let a = (0..<(B * H)).map { _ in rng.nextGaussian() }, b = (0..<(H * N)).map { _ in rng.nextGaussian() }
    var c = [Float](repeating: 0, count: B * N)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let packed = PackedRightMatrix(k: H, n: N, source: pb.baseAddress!, transposed: false)
                let tk = time {
                    for _ in 0..<reps { packed.multiplyAccumulate(m: B, a: pa.baseAddress!, lda: H, c: pc.baseAddress!, ldc: N) }
                }
                let tb = time {
                    for _ in 0..<reps { sgemm(m: B, n: N, k: H, a: pa.baseAddress!, b: pb.baseAddress!, beta: 1, c: pc.baseAddress!) }
                }
                let flops = 2.0 * Double(B * N * H * reps)
                print(
                    "step GEMM [\(B),\(H)]·[\(H),\(N)]: kernel \(flops / tk / 1e9) GFLOP/s, OpenBLAS \(flops / tb / 1e9) GFLOP/s (1 thread)"
                )
            }
        }
    }
}

/// Writes a Hark model (bidirectional LSTM + Linear, PyTorch names under "rnn."
/// and "output."), an input and Hark's output, for scripts/check_pytorch_roundtrip.py.
func exportModel(_ dir: String) throws {
    var rng = SeededGenerator(seed: 5)
    let rnn = Recurrent(
        .init(
            cell: .lstm, inputSize: 13, hiddenSize: 16, numLayers: 2,
            bidirectional: true), rng: &rng)
    let output = Linear(inputSize: 32, outputSize: 7, rng: &rng)
    // A few SGD steps so the weights are Hark-trained, not just Hark-initialised.
    // x [3·20, 13] batch-first (PyTorch's [3, 20, 13]); the network runs time-major.
    let x = Matrix(rows: 3 * 20, cols: 13, data: (0..<(3 * 20 * 13)).map { _ in rng.nextGaussian() })
    let batch = SequenceBatch(batchFirst: x, steps: 20)
    let sgd = SGD(learningRate: 0.1)
    for _ in 0..<3 {
        rnn.zeroGrad(); output.zeroGrad()
        let r = rnn.forward(batch)
        let y = output.forward(r.output.data)
        let dy = Matrix(rows: y.rows, cols: y.cols, data: y.data.map { $0 / Float(y.data.count) })
        _ = rnn.backward(output.backward(dy, input: r.output.data), cache: r.cache)
        sgd.step(rnn.parameters + output.parameters)
    }
    let y = batch.with(data: output.forward(rnn.forward(batch).output.data)).batchFirstData()
    let url = URL(fileURLWithPath: dir)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    let named = rnn.parameters.map { ("rnn." + $0.name, $0) } + output.parameters.map { ("output." + $0.name, $0) }
    try StateDict.file(named.map { (name: $0.0, parameter: $0.1) }).write(to: url.appendingPathComponent("model.safetensors"))
    try SafeTensorsFile(tensors: [
        ("input", SafeTensor(shape: [3, 20, 13], floats: x.data)),
        ("output", SafeTensor(shape: [3, 20, 7], floats: y.data))
    ])
    .write(to: url.appendingPathComponent("io.safetensors"))
    print("wrote \(dir)/model.safetensors and io.safetensors")
}

/// CTC loss + gradient on random log-probabilities (and the fused path from activations).
func benchCTC() {
    let T = option("--frames", 400), B = option("--batch", 16), K = option("--classes", 29)
    let L = option("--labels", 60), runs = option("--runs", 5)
    var rng = SeededGenerator(seed: 1)
    let x = Matrix(rows: T * B, cols: K, data: (0..<(T * B * K)).map { _ in rng.nextGaussian() })
    let lp = logSoftmax(x)
    let targets = (0..<B).map { _ in (0..<L).map { _ in 1 + Int(rng.next() % UInt64(K - 1)) } }
    let lengths = [Int](repeating: T, count: B)
    let lpBatch = SequenceBatch(data: lp, steps: T, lengths: lengths), xBatch = SequenceBatch(data: x, steps: T, lengths: lengths)
    let ctc = CTCLoss(reduction: .mean)
    _ = ctc(logProbs: lpBatch, targets: targets)
    let plain = (0..<runs).map { _ in time { _ = ctc(logProbs: lpBatch, targets: targets) } }
    let fused = (0..<runs).map { _ in time { _ = ctc.fromActivations(xBatch, targets: targets) } }
    let result: [String: Any] = [
        "benchmark": "ctc", "T": T, "B": B, "K": K, "L": L, "threads": ctc.threads,
        "runs": plain, "median": median(plain), "fused_runs": fused, "fused_median": median(fused)
    ]
    let json = try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// The time of each augmentation part on one recording (one thread), and of the features after it.
func benchAugment(_ path: String) throws {
    let runs = option("--runs", 20)
    let samples = try AudioLoader.load(path, options: AudioLoadOptions(targetSampleRate: 16_000)).waveform.samples
    let extractor = try FeatureExtractor(.fbank)
    var parts: [(String, Augmentation)] = []
    var a = Augmentation(); a.speedFactors = [1.1]; parts.append(("speed", a))
    a = Augmentation(); a.volumeDecibels = [-6, 6]; parts.append(("volume", a))
    for kind in Augmentation.NoiseKind.allCases {
        a = Augmentation(); a.noiseProbability = 1; a.noiseKinds = [kind]; parts.append(("noise-\(kind)", a))
    }
    a = Augmentation(); a.telephoneProbability = 1; parts.append(("telephone", a))
    a = Augmentation(); a.reverbProbability = 1; parts.append(("reverb", a))
    a = Augmentation(); a.silenceProbability = 1; parts.append(("silence", a))
    a = Augmentation(); a.silenceProbability = 1; a.maxSilenceSeconds = 1.5; a.silenceFloorDecibels = [-70, -25]
    parts.append(("silence-floors", a))
    parts.append(("recommended", .recommended))
    parts.append(("recordings", .recordings))
    let sources = Augmentation.NoiseSources { _ in samples }
    var result: [String: Any] = ["benchmark": "augment", "seconds_of_audio": Double(samples.count) / 16_000]
    result["features_ms"] = median((0..<runs).map { _ in time { _ = extractor.compute(samples) } }) * 1000
    var warped = extractor.options
    warped.mel.vtlnWarp = 1.07
    let vtln = try FeatureExtractor(warped)
    result["features_vtln_ms"] = median((0..<runs).map { _ in time { _ = vtln.compute(samples) } }) * 1000
    var joining = Augmentation.recordings
    var joinRng = SeededGenerator(seed: 2)
    result["join3_ms"] =
        median((0..<runs).map { _ in time { _ = joining.join([samples, samples, samples], sampleRate: 16_000, rng: &joinRng) } }) * 1000
    joining.joinProbability = 0
    for (name, aug) in parts {
        var rng = SeededGenerator(seed: 1)
        result[name + "_ms"] =
            median((0..<runs).map { _ in time { _ = try? aug.apply(samples, sampleRate: 16_000, noise: sources, rng: &rng) } }) * 1000
    }
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// Reading an ARPA file, then `score` as a decoder calls it: N words drawn
/// from the model's vocabulary (a few out of it), each scored from the state
/// the previous word left (restarting at <s> every 20 words).
func benchLM(_ path: String) throws {
    let n = option("--scores", 2_000_000), runs = option("--runs", 5)
    var model: NGramModel?
    let load = try throwingTime { model = try NGramModel.read(URL(fileURLWithPath: path)) }
    let lm = model!
    var rng = SeededGenerator(seed: 1)
    let vocabulary = lm.words + ["UNSEEN1", "UNSEEN2"]
    let words = (0..<n).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
    var checksum: Float = 0
    let times = (0..<runs).map { _ in
        time {
            var state = lm.beginSentence
            for (i, w) in words.enumerated() {
                if i % 20 == 0 { state = lm.beginSentence }
                let s = lm.score(state, w)
                checksum += s.log10
                state = s.next
            }
        }
    }
    // The same by WordID, looked up once per word.
    let ids = words.map(lm.id)
    let idTimes = (0..<runs).map { _ in
        time {
            var state = lm.beginSentence
            for (i, w) in ids.enumerated() {
                if i % 20 == 0 { state = lm.beginSentence }
                let s = lm.score(state, w)
                checksum -= s.log10
                state = s.next
            }
        }
    }
    let result: [String: Any] = [
        "benchmark": "lm-score", "arpa": path, "order": lm.order, "ngrams": lm.counts,
        "load_seconds": load, "scores": n, "runs": times, "id_runs": idTimes,
        "ns_per_score": median(times) / Double(n) * 1e9,
        "ns_per_score_by_id": median(idTimes) / Double(n) * 1e9, "checksum": Double(checksum)
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// Network once, then LM beam search over the saved log-probabilities, each timed.
func benchDecode() throws {
    func value(_ name: String) -> String? {
        let a = CommandLine.arguments
        return a.firstIndex(of: name).flatMap { $0 + 1 < a.count ? a[$0 + 1] : nil }
    }
    guard let modelDir = value("--model"), let lmPath = value("--lm"), let out = value("--out"),
        let manifest = CommandLine.arguments.last
    else {
        throw IOError("hark-bench decode", "usage: --model DIR --lm FILE --out DIR [--alpha A] [--beta B] [--beam N] MANIFEST")
    }
    let alpha = Float(value("--alpha") ?? "0.5")!, beta = Float(value("--beta") ?? "1")!, beam = Int(value("--beam") ?? "32")!
    let threads = option("--threads", ProcessInfo.processInfo.activeProcessorCount)
    let model = try AcousticModel.load(directory: URL(fileURLWithPath: modelDir))
    let lm = try NGramModel.read(URL(fileURLWithPath: lmPath))
    let entries = try Manifest.read(manifest)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let transcriber = Transcriber(model: model)
    var logProbs = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: entries.count)
    var audioSeconds = 0.0
    let networkTime = time {
        processInOrder(
            Array(entries.enumerated()), threads: threads,
            work: { (i, e) -> (Matrix, Double) in
                let (t, lp, _) = try transcriber.transcribe(path: e.audioPath)
                return (lp, t.duration)
            },
            emit: { _, item, r in
                logProbs[item.0] = r.0; audioSeconds += r.1
            },
            failed: { _, item, error in
                FileHandle.standardError.write(Data("\(item.1.audioPath): \(error)\n".utf8))
            })
    }
    for (i, lp) in logProbs.enumerated() {
        try NPY.write(lp, to: URL(fileURLWithPath: out).appendingPathComponent(String(format: "%04d.npy", i)))
    }
    var words = WordDecodingOptions()
    words.alpha = alpha
    words.beta = beta
    let space = model.vocabulary.tokens.firstIndex(of: " ")!
    var options = BeamSearchOptions(width: beam)
    options.tokenThreshold = Float(value("--token-min-logprob") ?? "-8")!
    options.scorePruning = Float(value("--beam-prune-logprob") ?? "-10")!
    options.scorer = WordScorer(lm: lm, options: words, tokens: model.vocabulary.tokens, space: space)
    let evaluator = Evaluator(model: model, decoding: .beam(options))
    var totals = Evaluator.Totals()
    var hypotheses = [String](repeating: "", count: entries.count)
    // --runs N repeats the search (a machine shared with other work gives noisy single runs).
    // Timed: the search and its text, as pyctcdecode's `decode` gives; the scoring comes after.
    // One untimed pass first, as the comparison gives pyctcdecode (it also
    // lets OpenBLAS's threads, spinning after the network, go to sleep).
    func decodeAll() {
        processInOrder(
            Array(entries.indices), threads: threads,
            work: { i in
                model.vocabulary.decode(evaluator.decoder.decode(logProbs[i]).first?.labels ?? [])
            }, emit: { _, i, text in hypotheses[i] = text }, failed: { _, _, _ in })
    }
    decodeAll()
    let decodeTimes = (0..<max(1, option("--runs", 1))).map { _ in time { decodeAll() } }
    for (i, e) in entries.enumerated() {
        let score = evaluator.score(reference: e.text ?? "", hypothesis: hypotheses[i])
        totals.add(score)
        hypotheses[i] = score.hypothesis
    }
    let decodeTime = median(decodeTimes)
    let result: [String: Any] = [
        "benchmark": "decode", "utterances": entries.count, "audio_seconds": audioSeconds, "threads": threads,
        "alpha": alpha, "beta": beta, "beam": beam,
        "network_seconds": networkTime, "decode_seconds": decodeTime, "decode_runs": decodeTimes,
        "decode_times_real_time": audioSeconds / decodeTime, "network_times_real_time": audioSeconds / networkTime,
        "wer": totals.words.rate, "cer": totals.characters.rate, "hypotheses": hypotheses,
        "tokens": model.vocabulary.tokens
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

func throwingTime(_ body: () throws -> Void) throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let args = CommandLine.arguments
if args.count >= 3 && args[1] == "lm" {
    do { try benchLM(args[2]) } catch { print("hark-bench: \(error)"); exit(1) }
    exit(0)
}
if args.count >= 2 && args[1] == "decode" {
    do { try benchDecode() } catch { print("hark-bench: \(error)"); exit(1) }
    exit(0)
}
if args.count >= 3 && args[1] == "augment" {
    do { try benchAugment(args[2]) } catch { print("hark-bench: \(error)"); exit(1) }
    exit(0)
}
if args.count >= 2 && args[1] == "step-gemm" { benchStepGemm(); exit(0) }
if args.count >= 2 && args[1] == "ctc" { benchCTC(); exit(0) }
if args.count >= 3 && args[1] == "export-model" {
    do { try exportModel(args[2]) } catch { print("hark-bench: \(error)"); exit(1) }
    exit(0)
}
guard args.count >= 2, (args[1] == "mfcc" && args.count >= 3) || args[1] == "rnn" else {
    FileHandle.standardError.write(Data("usage: hark-bench mfcc FILE [--runs N] [--threads N] | hark-bench rnn [options]\n".utf8))
    exit(2)
}
do {
    if args[1] == "rnn" { benchRecurrent() } else { try benchMfcc(args[2]) }
} catch {
    FileHandle.standardError.write(Data("hark-bench: \(error)\n".utf8))
    exit(1)
}

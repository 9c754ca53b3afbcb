import Foundation
import HarkASR
import HarkAudio
import HarkCTC
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

/// `hark train`, `hark transcribe` and `hark eval` end to end on four short
/// AN4 utterances (Fixtures/tiny).
final class TrainCommandTests: CLITestCase {
    var dir: URL!
    let tiny = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny")
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var manifest: String { tiny.appendingPathComponent("train.jsonl").path }
    let small = ["--hidden-size", "32", "--num-layers", "1", "--batch-size", "4", "--checkpoint-every", "5"]

    func testTrainUntilItTranscribesThenTranscribeAndEval() throws {
        let out = dir.appendingPathComponent("model").path
        let run = try hark(
            [
                "train", "--train", manifest, "--valid", manifest, "--out", out, "--epochs", "200",
                "--patience", "200", "--lr", "5e-3", "--warmup-steps", "0", "--final-lr-fraction", "1",
                "--spec-augment", "off", "--dropout", "0", "--no-shuffle"
            ] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("the best by validation CER (0.00%)"), run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("stopped: "), run.stdout)
        for f in ["config.json", "model.safetensors", "checkpoint.safetensors", "train.log.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
        }
        let log = try String(contentsOfFile: out + "/train.log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(log.first!.contains("\"type\":\"step\""))
        XCTAssertTrue(log.contains { $0.contains("\"type\":\"epoch\"") && $0.contains("valid_cer") })

        let t = try hark(["transcribe", "--model", out, tiny.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        for (file, text) in [
            ("an264-mcfl-b.wav", "GO"), ("an256-mewl-b.wav", "NO"), ("an250-mjbh-b.wav", "YES"), ("an288-mema-b.wav", "STOP")
        ] {
            XCTAssertTrue(t.stdout.contains("\(tiny.appendingPathComponent(file).path)\t\(text)\n"), t.stdout)
        }
        let json = try hark(["transcribe", "--model", out, "--format", "json", tiny.appendingPathComponent("an288-mema-b.wav").path])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let words = object["words"] as! [[String: Any]]
        XCTAssertEqual(words.first?["word"] as? String, "STOP")
        XCTAssertLessThan(words[0]["start"] as! Double, words[0]["end"] as! Double)
        XCTAssertNotNil(words[0]["confidence"] as? Double)
        let beam = try hark(["transcribe", "--model", out, "--beam", "8", tiny.appendingPathComponent("an250-mjbh-b.wav").path])
        XCTAssertEqual(beam.stdout, "YES\n", beam.stderr)
        let lp = dir.appendingPathComponent("lp")
        XCTAssertEqual(try hark(["transcribe", "--model", out, "--emit-logprobs", lp.path, manifest]).status, 0)
        XCTAssertEqual(try NPY.read(lp.appendingPathComponent("an250-mjbh-b.npy")).cols, 10)  // <blank> space E G N O P S T Y

        let eval = try hark(["eval", "--model", out, manifest, "--per-utterance", "-"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(
            eval.stdout.contains("CER 0.00% (0 errors: 0 substitutions, 0 deletions, 0 insertions; 11 reference characters)"), eval.stdout)
        XCTAssertTrue(eval.stdout.contains("WER 0.00%"), eval.stdout)
        XCTAssertTrue(eval.stdout.contains("SER 0.00% (0 of "), eval.stdout)
        XCTAssertTrue(eval.stdout.contains("\"hypothesis\":\"STOP\""), eval.stdout)
    }

    /// With SGD, batch 1, no shuffling, dropout, SpecAugment or clipping, one
    /// step is exactly w ← w − lr·∇ of the CTC loss ('mean' reduction: the
    /// first utterance's loss divided by its transcript length).
    func testOneSGDStepIsExactlyTheGradientStep() throws {
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let common = [
            "--train", manifest, "--optimizer", "sgd", "--batch-size", "1", "--no-shuffle", "--dropout", "0",
            "--spec-augment", "off", "--clip", "0", "--hidden-size", "16", "--num-layers", "2"
        ]
        XCTAssertEqual(try hark(["train", "--out", a, "--max-steps", "0"] + common).status, 0)
        let step = try hark(["train", "--out", b, "--init", a, "--max-steps", "1", "--lr", "0.5"] + common)
        XCTAssertEqual(step.status, 0, step.stderr)

        let before = try AcousticModel.load(directory: URL(fileURLWithPath: a))
        let after = try AcousticModel.load(directory: URL(fileURLWithPath: b))
        // ∇ of the first utterance, computed here through the library.
        let entry = try Manifest.read(manifest)[0]
        let audio = try HarkAudio.AudioLoader.load(entry.audioPath)
        let x = before.inputFeatures(audio.waveform.samples)
        let pass = before.forward(SequenceBatch(single: x))
        let labels = before.vocabulary.encode(before.config.text.normalize(entry.text!))!
        let ctc = CTCLoss(blank: 0, reduction: .mean).fromActivations(pass.logits, targets: [labels])
        before.backward(ctc.gradient, pass: pass)
        for (p, q) in zip(before.parameters, after.parameters) {
            let expected = zip(p.value, p.grad).map { $0 - 0.5 * $1 }
            let r = compare(q.value, expected, absolute: 1e-6, relative: 1e-5)
            XCTAssertNil(r.firstBad, "\(p.name): \(r)")
        }
    }

    /// A run killed with SIGKILL and resumed ends with exactly the weights of
    /// an uninterrupted run.
    func testResumeAfterSIGKILLGivesTheSameWeights() throws {
        try checkResumeAfterSIGKILL(["--epochs", "40"] + small, steps: 40)
    }

    /// The same with every augmentation on (joined utterances, silence,
    /// VTLN included) and two batches an epoch, so that the next batch's
    /// audio is being prepared when the run is killed.
    func testAugmentedResumeAfterSIGKILLGivesTheSameWeights() throws {
        try checkResumeAfterSIGKILL(
            [
                "--epochs", "12", "--hidden-size", "32", "--num-layers", "1", "--batch-size", "2",
                "--checkpoint-every", "5", "--augment-recordings", "--noise-prob", "1", "--reverb-prob", "0.5",
                "--join-prob", "0.5"
            ],
            steps: 24)
    }

    /// The same command gives the same weights, byte for byte: run after run,
    /// on one thread or two, with validation running on threads between
    /// epochs, with and without augmentation.
    func testIdenticalRunsGiveIdenticalWeightsOnAnyThreadCount() throws {
        let base = [
            "train", "--train", manifest, "--valid", manifest, "--seed", "3", "--max-steps", "30", "--batch-size", "2",
            "--hidden-size", "32", "--num-layers", "1", "--checkpoint-every", "7", "--lr", "3e-3"
        ]
        for augmentation in [[], ["--augment-recordings", "--join-prob", "0.5"]] {
            // The checkpoint's tensors: the last weights and the optimizer's moments (its metadata holds times).
            var runs: [[String: SafeTensor]] = []
            for (i, threads) in ["2", "2", "1"].enumerated() {
                let out = dir.appendingPathComponent("run\(augmentation.count)-\(i)").path
                let run = try hark(base + augmentation + ["--threads", threads, "--out", out])
                XCTAssertEqual(run.status, 0, run.stderr)
                runs.append(try SafeTensorsFile.read(URL(fileURLWithPath: out + "/checkpoint.safetensors")).tensors)
                let best = try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors"))
                if i > 0 {
                    XCTAssertEqual(
                        best,
                        try Data(
                            contentsOf: URL(
                                fileURLWithPath: dir.appendingPathComponent("run\(augmentation.count)-0").path + "/model.safetensors")))
                }
            }
            XCTAssertFalse(runs[0].isEmpty)
            XCTAssertEqual(runs[0], runs[1], "two runs on two threads, augmentation \(augmentation)")
            XCTAssertEqual(runs[0], runs[2], "one thread and two, augmentation \(augmentation)")
        }
    }

    func checkResumeAfterSIGKILL(_ options: [String], steps expectedSteps: Int, line: UInt = #line) throws {
        let full = dir.appendingPathComponent("full").path, killed = dir.appendingPathComponent("killed").path
        let args = ["train", "--train", manifest, "--lr", "3e-3"] + options
        XCTAssertEqual(try hark(args + ["--out", full]).status, 0)

        let process = Process()
        process.executableURL = Self.binary
        process.arguments = args + ["--out", killed]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let checkpoint = killed + "/checkpoint.safetensors"
        let deadline = Date().addingTimeInterval(120)
        // Wait for the checkpoint of step 10 or 15, then kill without warning.
        while Date() < deadline {
            if let f = try? SafeTensorsFile.read(URL(fileURLWithPath: checkpoint)), let s = f.metadata["state"],
                let state = try? JSONDecoder().decode(TrainingState.self, from: Data(s.utf8)), state.step >= 10
            {
                break
            }
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let resumed = try hark(["train", "--resume", "--train", manifest, "--out", killed])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try SafeTensorsFile.read(URL(fileURLWithPath: full + "/model.safetensors"))
        let b = try SafeTensorsFile.read(URL(fileURLWithPath: killed + "/model.safetensors"))
        XCTAssertEqual(a.order, b.order)
        for name in a.order { XCTAssertEqual(a.tensors[name], b.tensors[name], name) }
        let steps = try String(contentsOfFile: killed + "/train.log.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }.count
        XCTAssertEqual(steps, expectedSteps, "every step logged once", line: line)
    }

    /// Ctrl-C: the step finishes, a checkpoint is written, exit status 130.
    func testInterruptSavesACheckpoint() throws {
        let out = dir.appendingPathComponent("int").path
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["train", "--train", manifest, "--epochs", "500", "--out", out] + small
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !FileManager.default.fileExists(atPath: out + "/train.log.jsonl") { usleep(10_000) }
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("checkpoint saved"), stderr)
        let state = try SafeTensorsFile.read(URL(fileURLWithPath: out + "/checkpoint.safetensors")).metadata["state"]!
        XCTAssertGreaterThan(try JSONDecoder().decode(TrainingState.self, from: Data(state.utf8)).step, 0)
    }

    /// --config gives features, tokens and text normalisation; flags override the network.
    func testConfigFileGivesTheTokens() throws {
        let out = dir.appendingPathComponent("cfg").path
        let run = try hark([
            "train", "--train", manifest, "--out", out, "--config", "models/an4-blstm/config.json",
            "--hidden-size", "8", "--num-layers", "1", "--max-steps", "1"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let trained = try AcousticModel.load(directory: URL(fileURLWithPath: out))
        let shipped = try AcousticModel.load(directory: repositoryRoot.appendingPathComponent("models/an4-blstm"))
        XCTAssertEqual(trained.config.tokens, shipped.config.tokens)
        XCTAssertEqual(trained.config.features, shipped.config.features)
        XCTAssertEqual(trained.config.network.hiddenSize, 8)
    }

    /// Unreadable audio, a transcript too long for its frames and one with no
    /// usable character are reported and skipped; training goes on.
    func testBadUtterancesAreSkippedAndCounted() throws {
        let m = dir.appendingPathComponent("mixed.jsonl")
        let go = tiny.appendingPathComponent("an264-mcfl-b.wav").path
        try """
        {"audio_filepath": "\(go)", "text": "GO"}
        {"audio_filepath": "\(dir.appendingPathComponent("missing.wav").path)", "text": "NO"}
        {"audio_filepath": "\(go)", "text": "\(String(repeating: "A B ", count: 200))"}
        {"audio_filepath": "\(go)", "text": "!!!"}
        """.write(to: m, atomically: true, encoding: .utf8)
        let run = try hark(["train", "--train", m.path, "--out", dir.appendingPathComponent("o").path, "--max-steps", "2"] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        // One line per reason, with the count and examples.
        XCTAssertTrue(run.stderr.contains("skipped 1 unreadable file(s): ") && run.stderr.contains("missing.wav: no such file"), run.stderr)
        XCTAssertTrue(run.stderr.contains("skipped 1 utterance(s) whose transcript is longer than their frames allow"), run.stderr)
        XCTAssertTrue(run.stderr.contains("skipped 1 utterance(s) whose transcript is empty after normalisation"), run.stderr)
        XCTAssertTrue(run.stderr.contains("text: 1 transcript(s) are empty once normalised"), run.stderr)
        XCTAssertTrue(run.stderr.contains("removed '!' ×3"), run.stderr)
        XCTAssertTrue(run.stdout.contains("1 utterances too long for their frames, 1 unreadable"), run.stdout)
    }

    /// A batch's first progress line has no ETA (one input says nothing of the
    /// rest); the summary agrees with the counts.
    func testProgressGivesAnETAOnlyOnceItMeansSomething() throws {
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map { line -> String in
            line.replacingOccurrences(of: #""audio_filepath": ""#, with: #""audio_filepath": "\#(tiny.path)/"#)
        }
        let many = dir.appendingPathComponent("many.jsonl")
        try (Array(repeating: lines, count: 6).flatMap { $0 }.joined(separator: "\n") + "\n").write(
            to: many, atomically: true, encoding: .utf8)
        let run = try hark(["eval", "--model", "models/an4-blstm", many.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let progress = run.stderr.split(separator: "\n").filter { $0.hasPrefix("eval: ") }
        XCTAssertTrue(progress.first?.hasPrefix("eval: 1/24 (4%)") ?? false, run.stderr)
        XCTAssertFalse(progress.first?.contains("ETA") ?? true, run.stderr)
        XCTAssertTrue(run.stderr.contains("eval: 24 done, 0 failed;"), run.stderr)
    }

    func testBadManifestAndModelErrors() throws {
        let r = try hark(["train", "--train", dir.appendingPathComponent("none.jsonl").path, "--out", dir.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no such manifest"), r.stderr)
        let m = try hark(["transcribe", "--model", dir.path, "audio/an52-mmaf-b.wav"])
        XCTAssertNotEqual(m.status, 0)
        XCTAssertTrue(m.stderr.contains("no config.json"), m.stderr)
        // A model named by its config.json, and one that does not exist: each said as it is.
        let file = try hark(["transcribe", "--model", "models/an4-blstm/config.json", "audio/an52-mmaf-b.wav"])
        XCTAssertTrue(file.stderr.contains("a file, not a model directory") && file.stderr.contains("(models/an4-blstm)"), file.stderr)
        let missing = try hark(["transcribe", "--model", dir.appendingPathComponent("nowhere").path, "audio/an52-mmaf-b.wav"])
        XCTAssertTrue(missing.stderr.contains("nowhere: no such directory"), missing.stderr)
        for command in ["transcribe", "features"] {
            let empty = try hark(
                [command, "--model", "", "audio/an52-mmaf-b.wav"] + (command == "features" ? ["--output-dir", dir.path] : []))
            XCTAssertNotEqual(empty.status, 0)
            XCTAssertTrue(empty.stderr.contains("--model is empty"), "\(command): \(empty.stderr)")
        }
    }

    /// Before the first step, training says what normalisation removed, what
    /// is resampled and why it stops; labels that normalise to nothing are an
    /// error naming the cause; a model of single words still has a space.
    func testTrainingSaysWhatItFoundAndWhyItStopped() throws {
        let clips = try FileManager.default.contentsOfDirectory(atPath: tiny.path).filter { $0.hasSuffix(".wav") }.sorted()
        let digits = dir.appendingPathComponent("digits.tsv")
        try clips.enumerated().map { "\(tiny.appendingPathComponent($1).path)\t\($0)" }.joined(separator: "\n")
            .write(to: digits, atomically: true, encoding: .utf8)
        let refused = try hark(["train", "--train", digits.path, "--out", dir.appendingPathComponent("d").path, "--max-steps", "1"] + small)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.stderr.contains("every transcript is empty once normalised") && refused.stderr.contains("--keep-characters"),
            refused.stderr)
        XCTAssertFalse(refused.stderr.contains("config.json"), "not a complaint about a file nobody gave")

        // Single words (no space in any transcript): the token set has the space all the same.
        let out = dir.appendingPathComponent("words").path
        let run = try hark(
            [
                "train", "--train", manifest, "--valid", manifest, "--out", out, "--epochs", "30", "--patience", "2",
                "--select-by", "wer"
            ] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(try AcousticModel.load(directory: URL(fileURLWithPath: out)).config.tokens.contains(" "))
        XCTAssertTrue(
            run.stdout.contains("stopped: patience: 2 epoch(s) without a better validation WER")
                || run.stdout.contains("stopped: all 30 epoch(s) done"), run.stdout)
        XCTAssertTrue(run.stdout.contains("the best by validation WER ("), run.stdout)
        let vocabulary = dir.appendingPathComponent("words.txt")
        try "GO\nNO\nYES\nSTOP\n".write(to: vocabulary, atomically: true, encoding: .utf8)
        let words = try hark([
            "transcribe", "--model", out, "--vocabulary", vocabulary.path, tiny.appendingPathComponent("an250-mjbh-b.wav").path
        ])
        XCTAssertEqual(words.status, 0, "word decoding needs the space token: \(words.stderr)")
    }

    /// The walk from a folder of labeled clips to a model, an evaluation and
    /// a transcript (README.md's tour, docs/training.md), on the bundled
    /// examples/digits: its commands as written, with two epochs of a small
    /// network (docs/training.md's run trains the default network until
    /// patience stops it).
    func testReadmeWalkthroughFromAFolderOfLabeledClips() throws {
        let train = dir.appendingPathComponent("train.jsonl").path, valid = dir.appendingPathComponent("valid.jsonl").path
        let model = dir.appendingPathComponent("digits-model").path
        let manifest = try hark([
            "manifest", "examples/digits", "--label-pattern", "(?<text>[^_]+)_(?<speaker>[^_]+)_[0-9]+",
            "--valid-speakers", "theo", "--valid-output", valid, "-o", train
        ])
        XCTAssertEqual(manifest.status, 0, manifest.stderr)
        XCTAssertTrue(
            manifest.stdout.contains("20 utterances, 2 speakers") && manifest.stdout.contains("10 utterances, 1 speaker"), manifest.stdout)
        let run = try hark([
            "train", "--train", train, "--valid", valid, "--out", model,
            "--keep-characters", "0123456789 ", "--sample-frequency", "8000", "--select-by", "wer",
            "--epochs", "2", "--hidden-size", "32", "--num-layers", "1"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertFalse(run.stderr.contains("upsampled"), "8 kHz clips, an 8 kHz model: \(run.stderr)")
        // Without --sample-frequency the 8 kHz clips are upsampled, and training says how not to.
        let upsampled = try hark([
            "train", "--train", train, "--out", dir.appendingPathComponent("up").path, "--max-steps", "1",
            "--keep-characters", "0123456789 ", "--hidden-size", "16", "--num-layers", "1"
        ])
        XCTAssertEqual(upsampled.status, 0, upsampled.stderr)
        XCTAssertTrue(
            upsampled.stderr.contains(
                "20 file(s) at 8000 Hz upsampled to the model's 16000 Hz (nearly all the data: --sample-frequency 8000"),
            upsampled.stderr)
        XCTAssertTrue(run.stdout.contains("the best by validation WER"), run.stdout)
        let config = try AcousticModel.readConfig(directory: URL(fileURLWithPath: model))
        let symbols = config.tokens.enumerated().filter { $0.offset != config.blank }.map(\.element)
        XCTAssertEqual(Set(symbols), Set([" "] + (0...9).map(String.init)), "the digits and the space")
        let report = dir.appendingPathComponent("digits-report.html")
        let eval = try hark(["eval", "--model", model, valid, "--report", report.path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("WER"), eval.stdout)
        let html = try String(contentsOf: report, encoding: .utf8)
        XCTAssertTrue(
            html.contains("Accuracy per word") && html.contains("Commonest word errors"),
            "isolated words: accuracy per word and word confusions")
        let transcribe = try hark(["transcribe", "--model", model, "examples/digits/3_theo_0.wav"])
        XCTAssertEqual(transcribe.status, 0, transcribe.stderr)
    }
}

/// `hark train --average-best N` and `hark average`: the mean of the best epochs' weights.
final class AveragingCommandTests: CLITestCase {
    func testAverageOfTheBestEpochs() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = repositoryRoot.appendingPathComponent("Tests/HarkCLITests/Fixtures/tiny/train.jsonl").path
        let out = dir.appendingPathComponent("run").path
        let run = try hark([
            "train", "--train", manifest, "--valid", manifest, "--epochs", "6", "--batch-size", "2",
            "--hidden-size", "16", "--num-layers", "1", "--lr", "3e-3", "--average-best", "3", "--out", out
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("the model is the mean of epochs "), run.stdout)
        let kept = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("epoch-") }
        XCTAssertEqual(kept.count, 3, "\(kept)")
        // The model is the element-wise mean of the three kept files.
        let files = try kept.map { try SafeTensorsFile.read(URL(fileURLWithPath: out + "/" + $0)) }
        let model = try SafeTensorsFile.read(URL(fileURLWithPath: out + "/model.safetensors"))
        for name in model.order {
            let values = try files.map { try $0.tensors[name]!.floats(name: name) }
            let mean = (0..<values[0].count).map { i in Float(values.reduce(0.0) { $0 + Double($1[i]) } / 3) }
            XCTAssertEqual(try model.tensors[name]!.floats(name: name), mean, name)
        }
        // hark average of the run: the same model; --best 1: the best epoch's weights alone.
        let again = dir.appendingPathComponent("avg").path
        let average = try hark(["average", out, "-o", again])
        XCTAssertEqual(average.status, 0, average.stderr)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: again + "/model.safetensors")),
            try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")))
        let one = dir.appendingPathComponent("one").path
        XCTAssertEqual(try hark(["average", out, "-o", one, "--best", "1"]).status, 0)
        XCTAssertEqual(try hark(["transcribe", "--model", one, "audio/an52-mmaf-b.wav"]).status, 0)
        // A directory without kept epochs is an error that says how to get them.
        let none = try hark(["average", "models/an4-blstm", "-o", dir.appendingPathComponent("x").path])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no train.log.jsonl") || none.stderr.contains("--average-best"), none.stderr)
    }
}

import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// The recurrent layers at the sizes that take Hark's AVX2 kernels and their
/// remainder paths, against PyTorch (`scripts/make_nn_fixtures.py
/// recurrent_fast`, versions and command in `Fixtures/recurrent_fast.json`).
///
/// The cases (see `fast_case_specs` in the script): every cell at H = 16 with
/// B = 1, 7, 9, 16 (the packed GEMM both ways, row blocks 1, 4+3, 5+4,
/// 6+6+4), at H = 24 and 40 (OpenBLAS, except the LSTM's packed forward
/// product), two 2-layer cases, and the LSTM (bidirectional) and Elman cell at
/// H = 128; the LSTM's AVX2 pointwise step at every H. Unidirectional and
/// bidirectional, mixed unsorted lengths, zero and given initial states.
///
/// Weights, inputs, initial states and the loss weights R are not stored:
/// both sides make them from the integer hash in `FixtureValues`. PyTorch
/// computes in float64 from those float32 values; the stored float32 results
/// are outputs, final states and the gradients of
/// loss = Σ out ⊙ R_out + Σ h_n ⊙ R_h (+ Σ c_n ⊙ R_c) with respect to the
/// input, every parameter and the initial state (zero or given).
///
/// Tolerance 1e-5 absolute: values are of order 1 and Hark computes in
/// float32; PyTorch's own float32 error on these cases is below 3e-6
/// (`torch_float32_error` in the json, checked below).
final class FastPathFixtureTests: XCTestCase {
    static let tolerance: Float = 1e-5

    struct Case {
        let name: String
        let seed: Int
        let cell: RecurrentCell
        let H, B, T, I, layers: Int
        let bidirectional: Bool
        let lengths: [Int]
        let initialState: Bool
        /// max |PyTorch in float32 − PyTorch in float64| over the stored results.
        let torchFloat32Error: Double
        /// What `.fast` takes on a processor with AVX2 and FMA, as the script states it.
        let forwardPacked, backwardPacked: Bool
        let lstmStep: String?
        let rowBlocks: [Int]
        /// (name, shape, bound, sum) of each generated tensor, numbered in this order.
        let generated: [(name: String, shape: [Int], bound: Double, sum: Double)]

        init(_ c: [String: Any]) {
            name = c["name"] as! String
            seed = c["seed"] as! Int
            cell = RecurrentCell(rawValue: c["cell"] as! String)!
            H = c["hidden"] as! Int
            B = c["batch"] as! Int
            T = c["steps"] as! Int
            I = c["input_size"] as! Int
            layers = c["layers"] as! Int
            bidirectional = c["bidirectional"] as! Bool
            lengths = c["lengths"] as! [Int]
            initialState = c["initial_state"] as! Bool
            torchFloat32Error = (c["torch_float32_error"] as! NSNumber).doubleValue
            let paths = c["paths"] as! [String: Any]
            forwardPacked = paths["forward_gemm"] as! String == "packed"
            backwardPacked = paths["backward_gemm"] as! String == "packed"
            lstmStep = paths["lstm_step"] as? String
            rowBlocks = paths["row_blocks"] as! [Int]
            generated = (c["generated"] as! [[String: Any]]).map {
                (
                    $0["name"] as! String, $0["shape"] as! [Int], ($0["bound"] as! NSNumber).doubleValue,
                    ($0["sum"] as! NSNumber).doubleValue
                )
            }
        }

        var D: Int { bidirectional ? 2 : 1 }
    }

    /// The cases and their generated tensors, the latter checked against the sums the script recorded.
    func loadCases() throws -> (TorchFixture, [(Case, [String: [Float]])]) {
        let fx = try TorchFixture("recurrent_fast")
        var cases: [(Case, [String: [Float]])] = []
        for c in fx.cases.map(Case.init) {
            var values: [String: [Float]] = [:]
            for (n, g) in c.generated.enumerated() {
                let v = FixtureValues.values(seed: c.seed, tensor: n, count: g.shape.reduce(1, *), bound: g.bound)
                let sum = v.reduce(0.0) { $0 + Double($1) }
                // A typical value off by one float32 ulp (1.5e-8 at 0.2) moves the sum by far more than this.
                XCTAssertEqual(
                    sum, g.sum, accuracy: 1e-10 * max(1, abs(g.sum)),
                    "\(c.name) \(g.name): the Swift hash does not reproduce the script's values")
                values[g.name] = v
            }
            cases.append((c, values))
        }
        return (fx, cases)
    }

    /// Every case with both kernel choices and both ways of running the
    /// directions, against PyTorch; and which kernels executed, as the
    /// kernels count their own runs (`KernelRuns`): `.fast` takes the packed
    /// product and the AVX2 LSTM step exactly where the script says, once per
    /// time step, and `.reference` (or a processor without AVX2 and FMA, or
    /// `HARK_KERNELS=reference`) never does. Observed, not inferred from the
    /// bits of the results: OpenBLAS may sum a case in the packed kernel's
    /// order on some processors and give the same bits.
    func testEveryCaseMatchesPyTorchWithBothKernelChoices() throws {
        let (fx, cases) = try loadCases()
        XCTAssertEqual(cases.count, 28)
        /// The worst error per kernel choice, over all cases and over those where a fast kernel runs.
        var worst: [KernelChoice: (error: Float, where: String)] = [:], worstFastCases = worst
        /// The cases in which a C kernel ran, per cell.
        var ran: [RecurrentCell: [String]] = [:]
        for (c, values) in cases {
            var rng = SeededGenerator(seed: 1)  // Recurrent's own initialisation, overwritten below
            let rnn = Recurrent(
                .init(
                    cell: c.cell, inputSize: c.I, hiddenSize: c.H, numLayers: c.layers,
                    bidirectional: c.bidirectional), rng: &rng)
            for p in rnn.parameters {
                let v = try XCTUnwrap(values[p.name], "\(c.name): no generated values for \(p.name)")
                XCTAssertEqual(v.count, p.count, "\(c.name) \(p.name)")
                p.value = v
            }
            let stateRows = c.layers * c.D * c.B
            let input = SequenceBatch(
                data: Matrix(rows: c.T * c.B, cols: c.I, data: values["input"]!),
                steps: c.T, lengths: c.lengths)
            let state = values["h0"].map { h in
                RecurrentState(
                    h: Matrix(rows: stateRows, cols: c.H, data: h),
                    c: values["c0"].map { Matrix(rows: stateRows, cols: c.H, data: $0) })
            }
            let rOut = Matrix(rows: c.T * c.B, cols: c.D * c.H, data: values["r_out"]!)
            let rState = RecurrentState(
                h: Matrix(rows: stateRows, cols: c.H, data: values["r_h"]!),
                c: values["r_c"].map { Matrix(rows: stateRows, cols: c.H, data: $0) })
            // The tolerance is meaningful only well above float32's own rounding here.
            XCTAssertLessThan(c.torchFloat32Error, 3e-6, "\(c.name): PyTorch's float32 error")
            let fastKernelRuns = c.forwardPacked || c.backwardPacked || c.lstmStep == "avx2"
            // Each direction of each layer: the forward loop runs the step for
            // t < the longest length, the backward loop for every t.
            let directions = c.layers * c.D, longest = c.lengths.max()!
            let p = c.name + "/"
            for kernels in KernelChoice.allCases {
                for parallel in [true, false] {
                    rnn.kernels = kernels
                    rnn.parallelDirections = parallel
                    rnn.zeroGrad()
                    let label = "\(c.name) [\(kernels), parallel \(parallel)]"
                    let before = KernelRuns.now
                    let out = rnn.forward(input, initialState: state)
                    let afterForward = KernelRuns.now
                    let grads = rnn.backward(rOut, dFinalState: rState, cache: out.cache)
                    let forwardRuns = afterForward - before, backwardRuns = KernelRuns.now - afterForward
                    let vector = kernels.usesVectorKernels
                    XCTAssertEqual(
                        forwardRuns,
                        KernelRuns(
                            packedGEMM: vector && c.forwardPacked ? directions * longest : 0,
                            lstmStep: vector && c.lstmStep == "avx2" ? directions * longest : 0),
                        "\(label): the kernels the forward pass ran")
                    XCTAssertEqual(
                        backwardRuns, KernelRuns(packedGEMM: vector && c.backwardPacked ? directions * c.T : 0, lstmStep: 0),
                        "\(label): the kernels the backward pass ran")
                    if vector && fastKernelRuns && !parallel { ran[c.cell, default: []].append(c.name) }
                    var got: [(String, [Float])] = [
                        ("output", out.output.data.data), ("h_n", out.finalState.h.data),
                        ("grad.input", grads.input.data),
                        ("grad.h0", grads.initialState.h.data)
                    ]
                    if c.cell == .lstm {
                        got += [("c_n", out.finalState.c!.data), ("grad.c0", grads.initialState.c!.data)]
                    }
                    got += rnn.parameters.map { ("grad." + $0.name, $0.grad) }
                    XCTAssertEqual(out.output.data.shape, [c.T * c.B, c.D * c.H], label)
                    for (key, actual) in got {
                        let r = compare(actual, fx.floats(p + key), absolute: Self.tolerance)
                        XCTAssertNil(r.firstBad, "\(label) \(key): \(r)")
                        if r.maxAbsolute.isNaN || r.maxAbsolute > worst[kernels, default: (0, "")].error {
                            worst[kernels] = (r.maxAbsolute, "\(c.name) \(key)")
                        }
                        if fastKernelRuns && (r.maxAbsolute.isNaN || r.maxAbsolute > worstFastCases[kernels, default: (0, "")].error) {
                            worstFastCases[kernels] = (r.maxAbsolute, "\(c.name) \(key)")
                        }
                    }
                }
            }
        }
        // Where the C kernels can run, every cell reached them.
        XCTAssertEqual(Set(ran.keys), KernelChoice.fastAvailable ? Set(RecurrentCell.allCases) : [])
        print(
            "recurrent_fast fixtures: recurrent kernels \(KernelChoice.summary); "
                + "a C kernel ran in \(ran.values.joined().count) of \(cases.count) cases")
        for k in KernelChoice.allCases {
            let w = worst[k, default: (0, "")], f = worstFastCases[k, default: (0, "")]
            print(
                "recurrent_fast fixtures, \(cases.count) cases, kernels \(k): worst max abs error \(w.error) (\(w.where)); "
                    + "where a fast kernel runs \(f.error) (\(f.where))")
        }
    }

    /// The fixture reaches every fast path and every remainder path, and the
    /// sizes the script says take the packed kernel do take it here.
    func testFixtureCoversEveryFastPath() throws {
        let (_, cases) = try loadCases()
        let all = cases.map(\.0)
        XCTAssertEqual(Set(all.map(\.H)), [16, 24, 40, 128])
        XCTAssertEqual(Set(all.map(\.B)), [1, 7, 9, 16])
        XCTAssertEqual(Set(all.map(\.cell)), Set(RecurrentCell.allCases))
        for cell in RecurrentCell.allCases {
            let mine = all.filter { $0.cell == cell }
            XCTAssertEqual(Set(mine.filter(\.forwardPacked).map(\.B)), [1, 7, 9, 16], "\(cell): packed forward at every B")
            XCTAssertEqual(Set(mine.filter(\.backwardPacked).map(\.B)), [1, 7, 9, 16], "\(cell): packed backward at every B")
            XCTAssertEqual(Set(mine.map(\.bidirectional)), [false, true], "\(cell): both directions")
            XCTAssertEqual(Set(mine.map(\.initialState)), [false, true], "\(cell): zero and given state")
            if cell != .lstm {
                XCTAssertTrue(mine.contains { !$0.forwardPacked && !$0.backwardPacked }, "\(cell): the OpenBLAS fallback")
            }
        }
        XCTAssertTrue(all.contains { $0.cell == .lstm && $0.forwardPacked && !$0.backwardPacked })
        XCTAssertEqual(Set(all.compactMap(\.lstmStep)), ["avx2"])
        XCTAssertEqual(Set(all.flatMap(\.rowBlocks)), [1, 3, 4, 5, 6], "every row block but 2 (HarkCoreTests has m = 2)")
        XCTAssertTrue(all.contains { $0.layers == 2 })
        XCTAssertTrue(all.contains { $0.lengths.max()! < $0.T }, "steps past the longest sequence")

        // The script's statement of the paths is Hark's rule: PackedRightMatrix at
        // the sizes RecurrentDirection uses takes the packed kernel exactly there.
        for c in all {
            let G = c.cell.gateCount
            let weights = [Float](repeating: 0, count: G * c.H * c.H)
            for kernels in KernelChoice.allCases {
                weights.withUnsafeBufferPointer { w in
                    let forward = PackedRightMatrix(k: c.H, n: G * c.H, source: w.baseAddress!, transposed: true, kernels: kernels)
                    let backward = PackedRightMatrix(k: G * c.H, n: c.H, source: w.baseAddress!, transposed: false, kernels: kernels)
                    XCTAssertEqual(forward.usesPackedKernel, kernels.usesVectorKernels && c.forwardPacked, "\(c.name) \(kernels) forward")
                    XCTAssertEqual(
                        backward.usesPackedKernel, kernels.usesVectorKernels && c.backwardPacked, "\(c.name) \(kernels) backward")
                }
            }
        }
    }

    /// On a processor that has AVX2 and FMA (Linux: its /proc/cpuinfo flags),
    /// `.fast` must find them unless `HARK_KERNELS=reference` forces the
    /// reference; on one without them, `.fast` falls back.
    func testFastKernelsAreAvailableWhereTheProcessorHasThem() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else {
            throw XCTSkip("no /proc/cpuinfo: cannot tell whether this processor has AVX2 and FMA")
        }
        let set = Set(flags.split(separator: " ").map(String.init))
        let has = set.contains("avx2") && set.contains("fma")
        XCTAssertEqual(KernelChoice.processorHasAVX2FMA, has)
        let forced = ProcessInfo.processInfo.environment["HARK_KERNELS"] == "reference"
        XCTAssertEqual(KernelChoice.forcedToReference, forced)
        XCTAssertEqual(KernelChoice.fastAvailable, has && !forced)
        XCTAssertEqual(KernelChoice.fast.usesVectorKernels, has && !forced)
        XCTAssertFalse(KernelChoice.reference.usesVectorKernels)
    }
}

/// The values `scripts/make_nn_fixtures.py` generates instead of storing them
/// (`fixture_values` there): element e of tensor n of the case with seed s is
///
///     h = fmix32((s·0x9E3779B1 + n·0x85EBCA77 + e·0xC2B2AE3D) mod 2³²)
///     value = Float(bound · ((h + 0.5) / 2³¹ − 1))     in Double
///
/// with MurmurHash3's 32-bit finalizer fmix32. Every step is exact or one
/// correctly rounded operation, so Python and Swift get the same bits.
enum FixtureValues {
    static func fmix32(_ x: UInt32) -> UInt32 {
        var h = x
        h ^= h >> 16
        h = h &* 0x85EB_CA6B
        h ^= h >> 13
        h = h &* 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    /// `count` values in (−bound, bound).
    static func values(seed: Int, tensor: Int, count: Int, bound: Double) -> [Float] {
        let base = UInt32(truncatingIfNeeded: seed) &* 0x9E37_79B1 &+ UInt32(truncatingIfNeeded: tensor) &* 0x85EB_CA77
        return (0..<count).map { e in
            let h = fmix32(base &+ UInt32(truncatingIfNeeded: e) &* 0xC2B2_AE3D)
            return Float(bound * ((Double(h) + 0.5) / 2_147_483_648 - 1))
        }
    }
}

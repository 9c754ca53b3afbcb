import Foundation
import HarkCore
import HarkIO
import HarkTestSupport
import XCTest

@testable import HarkNN

/// Optimizers, clipping and the plateau rule against PyTorch, fed the same
/// gradients (`Fixtures/optim.*` from `scripts/make_nn_fixtures.py`).
final class OptimizerTests: XCTestCase {
    func parameters(_ fx: TorchFixture) -> [Parameter] {
        [
            Parameter(name: "w", shape: [4, 3], value: fx.floats("optim/w0.0")),
            Parameter(name: "b", shape: [3], value: fx.floats("optim/w0.1"))
        ]
    }

    func testOptimizersFollowPyTorch() throws {
        let fx = try TorchFixture("optim")
        for c in fx.cases where c["optimizer"] != nil {
            let name = c["name"] as! String
            let h = c["hyper"] as! [String: Any]
            func f(_ k: String, _ d: Float = 0) -> Float { (h[k] as? Double).map(Float.init) ?? d }
            let betas = (h["betas"] as? [Double])?.map(Float.init) ?? [0.9, 0.999]
            let opt: Optimizer
            switch c["optimizer"] as! String {
            case "SGD":
                opt = SGD(
                    learningRate: f("lr"), momentum: f("momentum"), dampening: f("dampening"),
                    weightDecay: f("weight_decay"), nesterov: (h["nesterov"] as? Bool) ?? false)
            case "Adam":
                opt = Adam(learningRate: f("lr"), beta1: betas[0], beta2: betas[1], epsilon: f("eps", 1e-8), weightDecay: f("weight_decay"))
            default:
                opt = Adam.adamW(
                    learningRate: f("lr"), beta1: betas[0], beta2: betas[1], epsilon: f("eps", 1e-8), weightDecay: f("weight_decay"))
            }
            let ps = parameters(fx)
            for s in 0..<5 {
                for (i, p) in ps.enumerated() { p.grad = fx.floats("optim/grad\(s).\(i)") }
                opt.step(ps)
            }
            for (i, p) in ps.enumerated() {
                let r = compare(p.value, fx.floats("optim/\(name).\(i)"), absolute: 1e-6, relative: 1e-6)
                XCTAssertNil(r.firstBad, "\(name) parameter \(i): \(r)")
            }
        }
    }

    func testGradientClippingFollowsPyTorch() throws {
        let fx = try TorchFixture("optim")
        for c in fx.cases where (c["name"] as! String).hasPrefix("clip") {
            let ps = parameters(fx)
            for (i, p) in ps.enumerated() { p.grad = fx.floats("optim/grad0.\(i)") }
            let norm = clipGradientNorm(ps, maxNorm: Float(c["max_norm"] as! Double))
            XCTAssertEqual(norm, Float(c["total_norm"] as! Double), accuracy: 1e-5)
            for (i, p) in ps.enumerated() {
                XCTAssertNil(compare(p.grad, fx.floats("optim/\(c["name"]!).\(i)"), absolute: 1e-6).firstBad)
            }
        }
    }

    func testPlateauReducerFollowsPyTorch() throws {
        let fx = try TorchFixture("optim")
        let c = fx.cases.first { ($0["name"] as! String) == "plateau" }!
        var reducer = PlateauReducer(
            factor: Float(c["factor"] as! Double), patience: c["patience"] as! Int,
            threshold: Float(c["threshold"] as! Double), cooldown: c["cooldown"] as! Int,
            minRate: Float(c["min_lr"] as! Double))
        var rate: Float = 1
        var rates: [Float] = []
        for m in c["metrics"] as! [Double] {
            reducer.update(metric: Float(m), currentRate: rate)
            rate = 1 * reducer.scale
            rates.append(rate)
        }
        XCTAssertEqual(compare(rates, (c["lrs"] as! [Double]).map(Float.init), absolute: 1e-6).firstBad, nil, "\(rates)")
    }

    func testScheduleWarmupAndDecay() {
        let warm = LearningRateSchedule(base: 1, warmupSteps: 4, decay: .step(every: 2, gamma: 0.5))
        XCTAssertEqual((0..<9).map { warm.rate(at: $0) }, [0.25, 0.5, 0.75, 1, 1, 1, 0.5, 0.5, 0.25])
        let exp = LearningRateSchedule(base: 2, decay: .exponential(gamma: 0.5))
        XCTAssertEqual((0..<3).map { exp.rate(at: $0) }, [2, 1, 0.5])
        XCTAssertEqual(LearningRateSchedule(base: 0.3).rate(at: 1000), 0.3)
    }
}

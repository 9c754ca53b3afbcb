import Foundation

/// The DCT-II matrix Kaldi uses for MFCCs (`ComputeDctMatrix`), with the
/// cepstral lifter folded into its rows.
///
/// - Shapes: returns [C, M] for C cepstra from M mel bins.
///
/// D[0, j] = √(1/M);  D[i, j] = √(2/M) · cos(π/M · (j + ½) · i) for i ≥ 1;
/// with lifter Q > 0 row i is scaled by 1 + (Q/2) · sin(π i / Q).
func liftedDctMatrix(numCeps: Int, numBins: Int, cepstralLifter: Double) -> [Float] {
    var d = [Float](repeating: 0, count: numCeps * numBins)
    let m = Double(numBins)
    for i in 0..<numCeps {
        let lifter = cepstralLifter != 0 ? 1 + 0.5 * cepstralLifter * sin(Double.pi * Double(i) / cepstralLifter) : 1
        let norm = i == 0 ? (1 / m).squareRoot() : (2 / m).squareRoot()
        for j in 0..<numBins {
            d[i * numBins + j] = Float(lifter * norm * cos(Double.pi / m * (Double(j) + 0.5) * Double(i)))
        }
    }
    return d
}

import Foundation

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
@inline(__always) func tanhFloat(_ x: Float) -> Float { tanhf(x) }

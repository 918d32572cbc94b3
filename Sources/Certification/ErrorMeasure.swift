// RadixServe: how far a device's f32 outputs are from the reference's, element by element.

import Foundation

/// The largest absolute, relative and ULP differences between a device's outputs and the
/// reference's over every case of one check, and the elements where they occur.
///
/// - Relative error is `|got − want| / max(1, |want|)`, as the conformance tests measure it: relative
///   for large values, absolute below 1, so values near zero (where cancellation leaves no
///   relative accuracy to speak of) are not held to a relative bound.
/// - The ULP distance counts the f32 values between `got` and `want` (``ulpDistance(_:_:)``).
///   ``maxJudgedULP`` counts only elements whose absolute error exceeds the budget's floor
///   (``ErrorBudget/ulpFloor``): below it, ULPs measure cancellation, not the op.
/// - A NaN on one side only, or an infinity the other side does not have, is an infinite error.
struct ErrorMeasure {
    /// One element and how far apart the two sides are there.
    struct Element {
        /// The case it belongs to (`37×257×17 bias`).
        var shape: String
        var row: Int
        var column: Int
        var got: Float
        var want: Float
        var relative: Float
        var ulp: UInt32

        var description: String {
            "\(shape), element (row \(row), column \(column)): got \(exact(got)), want \(exact(want)) "
                + "(rel \(short(relative)), \(ulpText(ulp)) ulp)"
        }
    }

    /// Elements compared.
    var count = 0
    var maxAbsolute: Float = 0
    var maxRelative: Float = 0
    /// Largest ULP distance over every element.
    var maxULP: UInt32 = 0
    /// Largest ULP distance over the elements whose absolute error exceeds the floor.
    var maxJudgedULP: UInt32 = 0
    /// The element with the largest relative error (the first such).
    var worstRelative: Element?
    /// The element with the largest judged ULP distance.
    var worstULP: Element?
    /// Elements where exactly one side is NaN.
    var nanCount = 0

    /// Adds one case: `got` and `want` are its outputs, row-major with `columns` columns.
    /// - Parameter ulpFloor: absolute errors at or below this are not counted in ``maxJudgedULP``.
    mutating func add(got: [Float], want: [Float], columns: Int, shape: String, ulpFloor: Float = 0) {
        precondition(got.count == want.count && columns > 0, "outputs of different sizes")
        for (index, (g, w)) in zip(got, want).enumerated() {
            count += 1
            let absolute: Float
            let relative: Float
            let ulp: UInt32
            if g.isNaN || w.isNaN {
                guard g.isNaN != w.isNaN else { continue }
                nanCount += 1
                (absolute, relative, ulp) = (.infinity, .infinity, .max)
            } else if g == w {
                continue
            } else {
                absolute = abs(g - w)
                relative = (g.isInfinite || w.isInfinite) ? .infinity : absolute / max(1, abs(w))
                ulp = Self.ulpDistance(g, w)
            }
            let element = Element(
                shape: shape, row: index / columns, column: index % columns, got: g, want: w, relative: relative, ulp: ulp)
            maxAbsolute = max(maxAbsolute, absolute)
            maxULP = max(maxULP, ulp)
            if relative > maxRelative {
                maxRelative = relative
                worstRelative = element
            }
            if absolute > ulpFloor && ulp > maxJudgedULP {
                maxJudgedULP = ulp
                worstULP = element
            }
        }
    }

    /// The number of f32 values from `a` to `b`, counting both zeros as one value: 0 when equal,
    /// 1 for neighbours, across zero the sum of both sides' distances to it.
    static func ulpDistance(_ a: Float, _ b: Float) -> UInt32 {
        // Map the bit patterns onto a line where consecutive floats are consecutive integers:
        // positives keep their pattern, negatives become its negation (−0 and +0 meet at 0).
        func ordinal(_ x: Float) -> Int64 {
            let magnitude = Int64(x.bitPattern & 0x7FFF_FFFF)
            return x.sign == .minus ? -magnitude : magnitude
        }
        return UInt32(clamping: abs(ordinal(a) - ordinal(b)))
    }
}

/// `value` to two significant digits (`3.1e-07`).
func short(_ value: Float) -> String {
    value == 0 ? "0" : value.isFinite ? String(format: "%.2g", Double(value)) : "∞"
}

/// A ULP distance, `∞` for a NaN on one side.
func ulpText(_ ulp: UInt32) -> String {
    ulp == .max ? "∞" : "\(ulp)"
}

/// `value` with the digits that identify the f32 (`1.00000012`).
func exact(_ value: Float) -> String {
    value.isNaN ? "NaN" : String(format: "%.9g", Double(value))
}

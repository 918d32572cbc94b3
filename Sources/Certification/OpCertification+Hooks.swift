// RadixServe: the optional hooks the device claims: on-device argmax and top-k, fused norm+matmul,
// step capture and replay (the device communicator is the engine section's).

import Backends
import ServingTypes

extension OpCertification {
    static func hookChecks(_ pair: OpPair, isFull: Bool) -> [CertificationCheck] {
        let device = pair.device
        let hooks = device.capabilities.hooks
        func unclaimed(_ name: String, _ hook: OptionalHooks) -> CertificationCheck {
            skip(name, "the device does not claim the \(hook) hook")
        }
        var checks: [CertificationCheck] = []
        checks.append(hooks.contains(.deviceArgmax) ? argmaxCheck(pair, isFull: isFull) : unclaimed("argmax", .deviceArgmax))
        checks.append(hooks.contains(.deviceTopK) ? topKCheck(pair, isFull: isFull) : unclaimed("top-k", .deviceTopK))
        if hooks.contains(.fusedNormMatmul) {
            let (claimed, skipped) = claimedDTypes(.matmul, .fusedNormMatmul, on: device)
            checks += skipped + claimed.map { fusedNormMatmulCheck(pair, dtype: $0, isFull: isFull) }
        } else {
            checks.append(unclaimed("fused-norm-matmul", .fusedNormMatmul))
        }
        checks.append(hooks.contains(.stepCapture) ? stepCaptureCheck(device) : unclaimed("step-capture", .stepCapture))
        checks.append(hooks.contains(.deviceCommunicator)
            ? skip("device-communicator", "checked by the engine section's tensor-parallel check (engine.tp2), which runs two ranks")
            : unclaimed("device-communicator", .deviceCommunicator))
        return checks
    }

    /// Logits with ties (values on a grid of 1/64, and each row's last column equal to an earlier
    /// one), `-inf` entries and a row of `-inf` only; shapes `(rows, columns)`.
    static func samplingLogits(isFull: Bool) -> [(rows: Int, columns: Int, values: [Float])] {
        var random = SeededRandom(seed: 41)
        return ([(1, 1), (3, 17), (5, 300), (4, 1000)] + (isFull ? [(8, 32_000)] : [])).map { rows, columns in
            var values = (0..<rows * columns).map { _ in Float(Int(random.next() % 2001) - 1000) / 64 }
            for r in 0..<rows where columns > 1 {
                values[r * columns + columns - 1] = values[r * columns + r % (columns - 1)]
                if r % 3 == 1 { values[r * columns + (r * 7) % columns] = -.infinity }
            }
            if rows > 2 { for c in 0..<columns { values[2 * columns + c] = -.infinity } }
            return (rows, columns, values)
        }
    }

    /// Each row's columns, largest first and equal values by lower column: the sampling hooks' contract.
    static func contractOrder(_ values: [Float], rows: Int, columns: Int, k: Int) -> [[Int]] {
        (0..<rows).map { r in
            Array((0..<columns).sorted { a, b in
                let (x, y) = (values[r * columns + a], values[r * columns + b])
                return x > y || (x == y && a < b)
            }.prefix(k))
        }
    }

    /// The logits as a strided view on `backend`: each row inside 3 wider columns holding a larger value.
    static func stridedLogits(_ backend: any ComputeBackend, _ values: [Float], rows: Int, columns: Int) throws -> Tensor {
        let padded = (0..<rows).flatMap { values[($0 * columns)..<(($0 + 1) * columns)] + [1e9, 1e9, 1e9] }
        return try backend.makeTensor(padded, rows: rows, columns: columns + 3).columns(0, count: columns)
    }

    /// The first column of each row holding its maximum, against the contract computed on the host.
    static func argmaxCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        var (rowsChecked, problems) = (0, [String]())
        do {
            for (rows, columns, values) in samplingLogits(isFull: isFull) {
                var ids = [Int32](repeating: -1, count: rows)
                let logits = try stridedLogits(pair.backend, values, rows: rows, columns: columns)
                try ids.withUnsafeMutableBufferPointer { try pair.backend.argmax(logits, into: $0) }
                for (r, want) in contractOrder(values, rows: rows, columns: columns, k: 1).enumerated() where Int(ids[r]) != want[0] {
                    let value = exact(values[r * columns + want[0]])
                    problems.append("\(rows)×\(columns) row \(r): got id \(ids[r]), want id \(want[0]) (\(value))")
                }
                rowsChecked += rows
            }
        } catch {
            return CertificationCheck(.ops, "argmax.f32.rows", .fail, figure: "the device failed", detail: "\(error)")
        }
        return CertificationCheck(.ops, "argmax.f32.rows", problems.isEmpty ? .pass : .fail,
            figure: "\(rowsChecked - problems.count)/\(rowsChecked) rows", detail: problems.prefix(5).joined(separator: "\n"),
            values: ["rows": Double(rowsChecked), "wrongRows": Double(problems.count)])
    }

    /// The k largest of each row with their values as they are, for k = 1, 5 and the largest the
    /// device claims (at most 64), against the contract computed on the host.
    static func topKCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        let limit = min(pair.device.capabilities.maxTopK, 64)
        guard limit >= 1 else {
            return CertificationCheck(.ops, "top-k.f32.rows", .fail, figure: "maxTopK \(limit)",
                detail: "the device claims on-device top-k with a largest k of \(limit)")
        }
        var (rowsChecked, problems, ks) = (0, [String](), Set<Int>())
        do {
            for (rows, columns, values) in samplingLogits(isFull: isFull) {
                let logits = try stridedLogits(pair.backend, values, rows: rows, columns: columns)
                for k in Set([1, min(5, columns), min(limit, columns)]).sorted() {
                    ks.insert(k)
                    var ids = [Int32](repeating: -1, count: rows * k)
                    var got = [Float](repeating: .nan, count: rows * k)
                    try ids.withUnsafeMutableBufferPointer { ids in
                        try got.withUnsafeMutableBufferPointer { try pair.backend.topK(logits, k: k, ids: ids, values: $0) }
                    }
                    for (r, want) in contractOrder(values, rows: rows, columns: columns, k: k).enumerated() {
                        let row = (r * k)..<((r + 1) * k)
                        let wantValues = want.map { values[r * columns + $0] }
                        if ids[row].map(Int.init) != want || got[row].map(\.bitPattern) != wantValues.map(\.bitPattern) {
                            let j = (0..<k).first {
                                Int(ids[r * k + $0]) != want[$0] || got[r * k + $0].bitPattern != wantValues[$0].bitPattern
                            }!
                            problems.append("top-\(k) of \(rows)×\(columns) row \(r), place \(j): got id \(ids[r * k + j]) "
                                + "(\(exact(got[r * k + j]))), want id \(want[j]) (\(exact(wantValues[j])))")
                        }
                    }
                    rowsChecked += rows
                }
            }
        } catch {
            return CertificationCheck(.ops, "top-k.f32.rows", .fail, figure: "the device failed", detail: "\(error)")
        }
        let kList = ks.sorted().map(String.init).joined(separator: ", ")
        return CertificationCheck(.ops, "top-k.f32.rows", problems.isEmpty ? .pass : .fail,
            figure: "\(rowsChecked - problems.count)/\(rowsChecked) rows at k = \(kList)", detail: problems.prefix(5).joined(separator: "\n"),
            values: ["rows": Double(rowsChecked), "wrongRows": Double(problems.count)])
    }

    /// rmsNormMatmul on the device against rmsNorm then matmul on the reference, with weights of
    /// `dtype` as ``ComputeBackend/prepareMatmulWeight(_:)`` lays them out.
    static func fusedNormMatmulCheck(_ pair: OpPair, dtype: DType, isFull: Bool) -> CertificationCheck {
        let shapes: [(rows: Int, k: Int, n: Int, group: Int, bias: Bool)] =
            [(1, 257, 65, 257, false), (5, 128, 33, 64, true), (37, 130, 17, 130, false)]
            + (isFull ? [(128, 1024, 257, 1024, true)] : [])
        return check("fused-norm-matmul.\(dtype).rows", .fusedNormMatmul, dtype: dtype, length: shapes.map(\.k).max()!) { measure in
            var inputs = OpInputs(seed: 42)
            for (rows, k, n, group, useBias) in shapes {
                let (x, norm, w, b) = (inputs.values(rows * k, scale: 3), inputs.values(group), inputs.values(n * k), inputs.values(n))
                func operands(_ backend: any ComputeBackend) throws -> (Tensor, Tensor, Tensor, Tensor?) {
                    (try backend.makeTensor(x, rows: rows, columns: k),
                     try backend.makeWeightTensor(norm, rows: 1, columns: group, dtype: dtype),
                     try backend.prepareMatmulWeight(try backend.makeWeightTensor(w, rows: n, columns: k, dtype: dtype)),
                     useBias ? try backend.makeTensor(b, rows: 1, columns: n) : nil)
                }
                let got = try pair.output(of: pair.backend, rows: rows, columns: n) { backend, out in
                    let (x, norm, weight, bias) = try operands(backend)
                    backend.rmsNormMatmul(x, normWeight: norm, epsilon: 1e-6, weight: weight, bias: bias, out: out)
                }
                let want = try pair.output(of: pair.reference, rows: rows, columns: n) { backend, out in
                    let (x, norm, weight, bias) = try operands(backend)
                    let normed = try backend.makeTensor(rows: rows, columns: k)
                    backend.rmsNorm(x, weight: norm, epsilon: 1e-6, out: normed)
                    backend.matmul(normed, weight: weight, bias: bias, out: out)
                }
                let shape = "\(rows)×\(k) in groups of \(group) → \(n)" + (useBias ? " with bias" : "")
                measure.add(got: got, want: want, columns: n, shape: shape)
            }
        }
    }
}

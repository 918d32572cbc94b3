/// bf16 → f32: bf16 is the high half of an f32.
@inlinable @inline(__always)
public func floatFromBF16(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) &<< 16)
}

/// f32 → bf16 with round-to-nearest-even (NaN kept quiet), as torch rounds.
@inlinable
public func bf16FromFloat(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
    let rounding = UInt32(0x7FFF) &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
}

/// f16 → f32.
@inlinable @inline(__always)
public func floatFromF16(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
}

/// Reads element `index` of a buffer of `dtype` as f32 (reference paths and one-off reads only).
@inlinable
public func loadElement(_ base: UnsafeRawPointer, _ index: Int, _ dtype: DType) -> Float {
    switch dtype {
    case .f32: base.loadUnaligned(fromByteOffset: index &* 4, as: Float.self)
    case .f16: floatFromF16(base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
    case .bf16: floatFromBF16(base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
    }
}

extension Float {
    /// This value rounded to `dtype` (to nearest even, as a device stores it) and widened back.
    public func rounded(to dtype: DType) -> Float {
        switch dtype {
        case .f32: self
        case .bf16: floatFromBF16(bf16FromFloat(self))
        case .f16: Float(Float16(self))
        }
    }
}

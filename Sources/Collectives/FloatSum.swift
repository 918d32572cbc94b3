// Element-wise float addition used by the reduce steps.

/// `destination[i] += source[i]` for `count` floats; `source` may be unaligned (libzmq frames).
///
/// Plain IEEE additions lane by lane, so the result equals the scalar loop bit for bit.
@inline(__always)
func addFloats(into destination: UnsafeMutablePointer<Float>, from source: UnsafeRawPointer, count: Int) {
    let target = UnsafeMutableRawPointer(destination)
    let stride = MemoryLayout<SIMD16<Float>>.size
    var offset = 0
    let vectorEnd = (count & ~15) &* 4
    while offset < vectorEnd {
        let sum =
            target.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            + source.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
        target.storeBytes(of: sum, toByteOffset: offset, as: SIMD16<Float>.self)
        offset &+= stride
    }
    var index = count & ~15
    while index < count {
        destination[index] += source.loadUnaligned(fromByteOffset: index &* 4, as: Float.self)
        index &+= 1
    }
}

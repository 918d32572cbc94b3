import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which kernels the CPU backend runs where it has two: the panel matmul's micro-kernel and the
/// decode attention's value sums (`radixserve_weighted_values64_avx512`: a 64-feature head pair's
/// sums in 8 registers, one pass over the values instead of two).
enum CPUKernelSet: Sendable {
    /// The Swift kernels, compiled for AVX2 (`panelKernel`: 6 rows × 16 features in 12 registers).
    case avx2
    /// The C kernels in `CKernels` (`radixserve_panel_kernel_avx512`: 8 rows × 32 features in 16
    /// registers).
    case avx512

    /// Rows per group of ``packRowGroups(_:stride:rows:columns:kernels:into:)``: one AVX2 kernel
    /// call, two AVX-512 ones.
    var panelGroupRows: Int {
        switch self {
        case .avx2: 6
        case .avx512: Int(RADIXSERVE_PANEL_AVX512_GROUP_ROWS)
        }
    }

    /// The best set this CPU runs; `RADIXSERVE_CPU_KERNELS=avx2` picks the AVX2 kernels on an
    /// AVX-512 machine (for comparisons).
    static let preferred: CPUKernelSet = !forcedAVX2 && avx512Supported ? .avx512 : .avx2

    /// The int8 matmul kernel (`radixserve_q8_matmul_run`): VNNI where the CPU has it, AVX2
    /// otherwise or under `RADIXSERVE_CPU_KERNELS=avx2`. All of them compute the same bits.
    static let int8: Int32 = forcedAVX2 ? Int32(RADIXSERVE_Q8_AVX2) : radixserve_q8_best_kernel()

    private static let forcedAVX2 = getenv("RADIXSERVE_CPU_KERNELS").map { String(cString: $0) } == "avx2"

    /// Whether this CPU and OS run ``avx512``.
    static let avx512Supported = radixserve_cpu_has_avx512() != 0
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory map of a whole file; unmapped when the last reference goes away.
/// Immutable after init, so safe to share between threads.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw ModelError(.missingFile, "\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw ModelError(.invalidCheckpoint, "\(path): cannot stat (\(String(cString: strerror(errno))))")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw ModelError(.invalidCheckpoint, "\(path): mmap failed (\(String(cString: strerror(errno))))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the pages of the mapping from this process's resident set (`MADV_DONTNEED`). The
    /// mapping stays valid: a later read faults its page back in from the page cache or the file.
    /// For after loading, once packed or copied weights hold what was read.
    public func releaseResidentPages() {
        guard let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

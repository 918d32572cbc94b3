/// The deterministic inputs and output digest of `radixserve collectives check`, shared by the
/// checker processes and the test that verifies them, so both sides compute the same values.
package enum CollectiveCheckData {
    /// Element `index` of rank `rank`'s input: small integers × 0.5, exact in f32 for any summation order.
    package static func value(rank: Int, index: Int) -> Float { Float((rank + 1) * (index % 251 + 1)) * 0.5 }

    /// 64-bit FNV-1a over the values' bit patterns (little-endian bytes), in hexadecimal.
    package static func hash(_ values: [Float]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            var bits = value.bitPattern
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xff)) &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        return String(hash, radix: 16)
    }

    /// One rank of the check: joins the group at `rendezvous`, and for each element count in
    /// `sizes` all-reduces, all-gathers and broadcasts (from rank `count % worldSize`) its input.
    /// Returns `<op> <count> <hash of the result>` lines, one per operation and count.
    package static func run(rank: Int, worldSize: Int, rendezvous: String, sizes: [Int], timeout: Duration) throws -> String {
        let communicator = try SocketCommunicator.connect(
            rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: "collectives-check", timeout: timeout)
        defer { communicator.close() }
        var lines = ""
        for count in sizes {
            let input = (0..<count).map { value(rank: rank, index: $0) }
            var values = input
            try communicator.allReduceSum(&values)
            lines += "allreduce \(count) \(hash(values))\n"
            let gathered = try communicator.allGather(input)
            lines += "allgather \(count) \(hash(gathered))\n"
            var broadcast = input
            try communicator.broadcast(&broadcast, root: count % worldSize)
            lines += "broadcast \(count) \(hash(broadcast))\n"
        }
        try communicator.barrier()
        return lines
    }
}

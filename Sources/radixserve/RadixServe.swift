import ArgumentParser
import BackendCPU
import ProcessLogging

/// Process entry: make OpenBLAS load its fast kernels, then parse the command line.
@main
enum Entry {
    static func main() async {
        OpenBLASCore.reexecIfNeeded()
        ProcessLogging.bootstrap()
        await RadixServe.main()
    }
}

/// The one executable: local cluster, router, worker, generation (local or through a router), chat,
/// worker administration, benchmarks and tensor-parallel ranks.
struct RadixServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radixserve",
        abstract: "Serve Llama-family models with prefix-aware routing, paged KV cache and tensor parallelism.",
        version: "0.1.0",
        subcommands: [
            UpCommand.self, RouterCommand.self, WorkerCommand.self, GenerateCommand.self, ChatCommand.self,
            WorkersCommand.self, BenchCommand.self, CertifyCommand.self, RankCommand.self, CollectivesCommand.self,
            ConformanceCommand.self, KeygenCommand.self,
        ]
    )
}

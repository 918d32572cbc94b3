import ArgumentParser
import ServingClient
import ServingTypes

/// `radixserve workers list|add|remove`: a router's worker registry over `/workers`.
struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List, add or remove the workers of a router.",
        subcommands: [List.self, Add.self, Remove.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every worker with its load and cache pages.")

        @OptionGroup var server: ServerOptions
        @Flag(help: "Print {\"workers\": [...]} as one JSON line instead of a table.") var json = false

        func validate() throws { try server.requireURL(for: "workers list") }

        func run() throws {
            let workers = try server.client().workers()
            StandardOutput.write(json ? try WorkerList(workers: workers).jsonLine() : WorkerTable(workers).text)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the router connect to a worker started with --listen.")

        @OptionGroup var server: ServerOptions
        @Option(help: "The worker's endpoint, e.g. tcp://10.0.0.5:7000.") var endpoint: String
        @Flag(help: "Print the registered worker as one JSON line.") var json = false

        func validate() throws {
            try server.requireURL(for: "workers add")
            guard endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://"), endpoint.count > 6 else {
                throw ValidationError("--endpoint must be tcp://HOST:PORT or ipc://PATH, got '\(endpoint)'")
            }
        }

        func run() throws {
            let worker = try server.client().addWorker(endpoint: endpoint)
            StandardOutput.write(json ? try worker.jsonLine() : WorkerTable([worker]).text)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop routing to a worker and disconnect it.")

        @OptionGroup var server: ServerOptions

        @Argument(help: "The worker's id, as `workers list` shows it.") var id: String

        func validate() throws {
            try server.requireURL(for: "workers remove")
            guard !id.isEmpty else { throw ValidationError("the worker id is empty") }
        }

        func run() throws {
            try server.client().removeWorker(id: id)
            StandardOutput.write("removed worker \(id)\n")
        }
    }
}

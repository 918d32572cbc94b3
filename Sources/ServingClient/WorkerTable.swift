import Foundation
import ServingTypes

/// Workers as an aligned text table (`radixserve workers list`): text columns left-aligned,
/// numbers right-aligned, `-` for a worker without an endpoint, the incarnation in hexadecimal.
public struct WorkerTable: Sendable, Equatable {
    private static let headers = [
        "ID", "ENDPOINT", "MODEL", "TP", "ROUTABLE", "RUNNING", "WAITING", "IN-FLIGHT", "FREE/TOTAL PAGES", "CACHED",
        "EVICTABLE", "PREFILL TOK/S", "INCARNATION", "CACHE EVENTS",
    ]
    /// Columns holding text; the others are numbers.
    private static let textColumns: Set<Int> = [0, 1, 2, 4, 13]

    /// The cells of each worker, in header order.
    public let rows: [[String]]

    public init(_ workers: [WorkerStatus]) {
        rows = workers.map { worker in
            [
                "\(worker.id)", worker.endpoint ?? "-", worker.model, "\(worker.tensorParallelSize)",
                worker.isRoutable ? "yes" : "no", "\(worker.running)", "\(worker.waiting)", "\(worker.inFlight)",
                "\(worker.freePages)/\(worker.totalPages)", "\(worker.cachedPages)", "\(worker.evictablePages)",
                String(format: "%.0f", worker.prefillTokensPerSecond), String(worker.incarnation, radix: 16),
                worker.cacheEvents,
            ]
        }
    }

    /// The header and one line per worker, or `no workers` when there are none; every line ends
    /// with a newline and carries no trailing spaces.
    public var text: String {
        guard !rows.isEmpty else { return "no workers\n" }
        let all = [Self.headers] + rows
        let widths = Self.headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - row[column].count)
                return Self.textColumns.contains(column) ? row[column] + padding : padding + row[column]
            }
            .joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        .joined(separator: "\n") + "\n"
    }
}

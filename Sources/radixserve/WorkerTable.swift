import Foundation
import ServingClient

/// Workers as an aligned text table: text columns left-aligned, numbers right-aligned, `-` for a
/// figure the router did not report.
struct WorkerTable {
    private static let headers = [
        "ID", "ENDPOINT", "MODEL", "TP", "ROUTABLE", "RUNNING", "WAITING", "IN-FLIGHT", "FREE/TOTAL PAGES", "CACHED",
        "EVICTABLE", "PREFILL TOK/S", "INCARNATION",
    ]
    /// Columns holding text; the others are numbers.
    private static let textColumns: Set<Int> = [0, 1, 2, 4]

    let rows: [[String]]

    init(_ workers: [WorkerStatus]) {
        rows = workers.map { worker in
            [
                worker.id, worker.endpoint ?? "-", worker.model ?? "-", Self.number(worker.tensorParallelSize),
                worker.isRoutable.map { $0 ? "yes" : "no" } ?? "-", Self.number(worker.running),
                Self.number(worker.waiting), Self.number(worker.inFlight),
                "\(Self.number(worker.freePages))/\(Self.number(worker.totalPages))", Self.number(worker.cachedPages),
                Self.number(worker.evictablePages),
                worker.prefillTokensPerSecond.map { String(format: "%.0f", $0) } ?? "-", worker.incarnation.map { String($0, radix: 16) } ?? "-",
            ]
        }
    }

    /// The header and one line per worker, or `no workers` when there are none.
    var text: String {
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

    private static func number(_ value: (some BinaryInteger)?) -> String { value.map { "\($0)" } ?? "-" }
}

// RadixServe: async test code that never waits for the cooperative pool.

import Foundation

/// A task executor with one thread of its own. Tasks that prefer it
/// (`withTaskExecutorPreference`, `Task(executorPreference:)`, and their child tasks) run there,
/// so they make progress while long synchronous tests hold every thread of the cooperative pool
/// (one per core: two on the CI machines).
///
/// The thread lives as long as the process; make one per suite (a `static let`).
package final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    package init() {
        Thread { [self] in runJobs() }.start()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let ready = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in ready { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads for data-parallel kernels, in ggml's `ith/nth` style.
///
/// ``run(_:)`` calls `body(ith, nth)` once on each of `threadCount` threads — the caller is thread 0 —
/// and returns when all calls have returned. Workers spin briefly after each job (ops follow each
/// other within microseconds during a forward pass) and then sleep on a condition variable, so an
/// idle engine does not burn cores. Dispatching allocates nothing.
///
/// Not reentrant: call ``run(_:)`` from one thread at a time (the backend's owning thread).
public final class ThreadPool: @unchecked Sendable {
    // @unchecked: all mutable state lives in `Shared`, whose invariants are documented there;
    // `threads` is written only in init and read in deinit.

    /// Number of threads including the caller.
    public let threadCount: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// Starts `threadCount - 1` worker threads.
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a thread pool needs at least one thread")
        self.threadCount = threadCount
        shared = Shared(threadCount: threadCount)
        for ith in 1..<threadCount {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, ith: ith)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.shared.workerLoop(ith: context.ith)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed with \(status)")
            threads.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body(ith, threadCount)` on every thread and waits for all of them.
    public func run(_ body: (_ ith: Int, _ nth: Int) -> Void) {
        if threadCount == 1 {
            body(0, 1)
            return
        }
        withoutActuallyEscaping(body) { shared.run($0) }
    }
}

/// The state workers share with the caller. Workers retain this object, never the pool, so the
/// pool's deinit can stop and join them.
private final class Shared: @unchecked Sendable {
    // @unchecked: `body` is written only by the caller of `run` before `generation` is released and
    // read by workers only after they acquire the new generation; the caller waits for every worker
    // to finish before clearing it. The mutex and condition are only touched through pthread calls.
    let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let isStopping = Atomic<Bool>(false)
    private var body: ((Int, Int) -> Void)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// Spin iterations before a worker sleeps (about 100–200 µs).
    private static let spinLimit = 100_000

    init(threadCount: Int) {
        self.threadCount = threadCount
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    func run(_ job: @escaping (Int, Int) -> Void) {
        body = job
        pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }
        job(0, threadCount)
        while pending.load(ordering: .acquiring) != 0 {}
        body = nil
    }

    func stop() {
        isStopping.store(true, ordering: .sequentiallyConsistent)
        wakeAll()
    }

    private func wakeAll() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(ith: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if isStopping.load(ordering: .relaxed) { return }
                spins &+= 1
                if spins > Self.spinLimit {
                    sleep(whileGenerationIs: seen)
                    spins = 0
                }
            }
            if isStopping.load(ordering: .relaxed) { return }
            seen = generation.load(ordering: .acquiring)
            if let job = body { job(ith, threadCount) }
            pending.subtract(1, ordering: .releasing)
        }
    }

    private func sleep(whileGenerationIs seen: Int) {
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen
            && !isStopping.load(ordering: .sequentiallyConsistent)
        {
            pthread_cond_wait(condition, mutex)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
    }
}

private final class WorkerContext {
    let shared: Shared
    let ith: Int
    init(shared: Shared, ith: Int) {
        self.shared = shared
        self.ith = ith
    }
}

extension ThreadPool {
    /// The half-open slice `[start, end)` of `0..<count` that thread `ith` of `nth` handles,
    /// with slice boundaries rounded to multiples of `alignment`.
    @inlinable
    public static func partition(_ count: Int, ith: Int, nth: Int, alignment: Int = 1) -> Range<Int> {
        let blocks = (count + alignment - 1) / alignment
        let perThread = (blocks + nth - 1) / nth
        let start = min(count, ith * perThread * alignment)
        let end = min(count, (ith + 1) * perThread * alignment)
        return start..<end
    }
}

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads for data-parallel kernels.
///
/// ``run(parts:_:)`` splits a job into `parts` pieces that the caller and the workers claim from
/// an atomic counter (ggml's `ith/nth` partitioning, with dynamic assignment). A worker joins a job
/// only while it is open; once the caller has claimed every part it closes the job and waits just
/// for the workers that joined. So a worker the OS has descheduled — common when router, workers
/// and ranks share a few cores — never stalls the caller: it simply does the parts itself.
///
/// Workers spin briefly after each job (ops follow each other within microseconds during a forward
/// pass) and then sleep on a condition variable, so an idle engine does not burn cores.
/// Dispatching allocates nothing. Not reentrant: call `run` from one thread at a time.
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
        shared = Shared()
        for thread in 1..<threadCount {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, thread: thread)).toOpaque()
            var handle = pthread_t()
            let status = pthread_create(&handle, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.shared.workerLoop(thread: context.thread)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed with \(status)")
            threads.append(handle)
        }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// What a parallel job runs: `body(context, part, parts, thread)`. Pass a closure literal that
    /// captures nothing (read everything through `context`): such a closure has no context of its own,
    /// so dispatching a job allocates nothing.
    public typealias Body = (_ context: UnsafeRawPointer, _ part: Int, _ parts: Int, _ thread: Int) -> Void

    /// Calls `body(context, part, parts, thread)` once for every `part` in `0..<parts`, spread over
    /// the pool, and returns when all calls have returned. `thread` (0 = the caller) indexes
    /// per-thread scratch memory; no two concurrent calls share a `thread`. `context` must stay
    /// valid until `run` returns.
    public func run(parts: Int, context: UnsafeRawPointer, _ body: @escaping Body) {
        if threadCount == 1 || parts <= 1 {
            for part in 0..<parts { body(context, part, parts, 0) }
            return
        }
        shared.run(parts: parts, context: context, body)
    }
}

/// The state workers share with the caller. Workers retain this object, never the pool, so the
/// pool's deinit can stop and join them.
private final class Shared: @unchecked Sendable {
    // @unchecked: `body`, `context` and `partCount` are written only by the caller of `run` before it resets
    // `jobState` and releases `generation`; a worker reads them only after joining the job (an
    // acquiring compare-exchange on `jobState`), and the caller clears `body` only after every
    // joined worker has left. The mutex and condition are only touched through pthread calls.
    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    /// Bit `closedBit` set once the caller stops admitting workers; low bits count joined workers.
    private let jobState = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let isStopping = Atomic<Bool>(false)
    /// The current job and its context. Non-optional on purpose: an optional function is stored at
    /// maximal abstraction, and converting to it allocates a reabstraction thunk on every dispatch.
    private var body: ThreadPool.Body = { _, _, _, _ in }
    private var context = UnsafeRawPointer(bitPattern: 1)!
    private var partCount = 0
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    private static let closedBit = 1 << 40
    /// Spin iterations before a worker sleeps (about 100–200 µs).
    private static let spinLimit = 100_000

    init() {
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

    func run(parts: Int, context: UnsafeRawPointer, _ job: @escaping ThreadPool.Body) {
        body = job
        self.context = context
        partCount = parts
        nextPart.store(0, ordering: .sequentiallyConsistent)
        jobState.store(0, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }
        claimParts(job, context: context, thread: 0)
        jobState.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent)
        while jobState.load(ordering: .acquiring) & (Self.closedBit - 1) != 0 {}
        body = { _, _, _, _ in }
    }

    @inline(__always)
    private func claimParts(_ job: ThreadPool.Body, context: UnsafeRawPointer, thread: Int) {
        let parts = partCount
        while true {
            let part = nextPart.add(1, ordering: .relaxed).oldValue
            if part >= parts { return }
            job(context, part, parts, thread)
        }
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

    func workerLoop(thread: Int) {
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
            if join() {
                work(thread: thread)
                jobState.subtract(1, ordering: .releasing)
            }
        }
    }

    /// Registers this worker with the open job; false when the caller already closed it.
    private func join() -> Bool {
        var state = jobState.load(ordering: .acquiring)
        while state & Self.closedBit == 0 {
            let (exchanged, current) = jobState.compareExchange(
                expected: state, desired: state + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            state = current
        }
        return false
    }

    private func work(thread: Int) {
        claimParts(body, context: context, thread: thread)
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
    let thread: Int
    init(shared: Shared, thread: Int) {
        self.shared = shared
        self.thread = thread
    }
}

extension ThreadPool {
    /// The half-open slice `[start, end)` of `0..<count` that part `ith` of `nth` covers, with
    /// boundaries at multiples of `alignment`.
    @inlinable
    public static func partition(_ count: Int, ith: Int, nth: Int, alignment: Int = 1) -> Range<Int> {
        let blocks = (count + alignment - 1) / alignment
        let perPart = (blocks + nth - 1) / nth
        let start = min(count, ith * perPart * alignment)
        let end = min(count, (ith + 1) * perPart * alignment)
        return start..<end
    }
}

// RadixServe: children that end when their parent is gone.

import Foundation

/// Makes this process exit when its parent is no longer `parent` (the leader died, even by
/// SIGKILL, and the child was re-parented). Polls every 100 ms on a background thread.
public enum ParentWatchdog {
    public static func start(parent: Int32, rank: Int) {
        start(parent: parent, name: "rank \(rank)")
    }

    /// `name` prefixes the message printed when the parent is gone (e.g. `worker 3`).
    public static func start(parent: Int32, name: String) {
        let thread = Thread {
            while getppid() == parent { usleep(100_000) }
            FileHandle.standardError.write(Data("radixserve \(name): the parent process \(parent) is gone; exiting\n".utf8))
            _exit(3)
        }
        thread.start()
    }
}

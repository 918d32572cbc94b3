// RadixServe: children that end when their parent is gone.

import CProcess
import Foundation
import Logging

/// Makes this process exit when its parent `parent` is gone (the leader died, even by SIGKILL).
///
/// A background thread sleeps in `poll(2)` on a pidfd of the parent, which becomes readable when
/// the parent exits. Where pidfds are unavailable (Linux before 5.3, or a sandbox that forbids
/// the call) it falls back to checking `getppid()` every 100 ms, which changes when the orphan is
/// re-parented (and when the parent exited before its pidfd could be opened, at once).
public enum ParentWatchdog {
    public static func start(parent: Int32, rank: Int) {
        start(parent: parent, name: "rank \(rank)")
    }

    /// `name` prefixes the message printed when the parent is gone (e.g. `worker 3`).
    public static func start(parent: Int32, name: String) {
        let descriptor = radixserve_pidfd_open(parent)
        let thread = Thread {
            if descriptor >= 0 {
                var watched = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                while poll(&watched, 1, -1) < 0 && errno == EINTR {}
            } else {
                while getppid() == parent { usleep(100_000) }
            }
            Logger(label: "radixserve.\(name)").notice("the parent process \(parent) is gone; exiting")
            _exit(3)
        }
        thread.start()
    }
}

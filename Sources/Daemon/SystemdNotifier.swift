public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The systemd notification protocol without libsystemd: datagrams to `$NOTIFY_SOCKET`
/// (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `RELOADING=1`, `STOPPING=1`). Without the variable
/// (not under systemd) every call does nothing.
public struct SystemdNotifier: Sendable {
    private let socketPath: String?
    /// Half the watchdog interval systemd asked for (`WATCHDOG_USEC`), when it asked this process.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0,
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true
        {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one notification; failures are ignored, as systemd's own sd_notify callers do.
    public func notify(_ message: String) {
        guard let socketPath else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        // A leading "@" names a socket in the abstract namespace: a NUL byte on the wire.
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
    }

    /// `RELOADING=1` with the `MONOTONIC_USEC` systemd wants beside it.
    public func notifyReloading() {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        let microseconds = Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }
}

/// The watchdog's pings. The scheduler pings after every cycle; inside a cycle each finished poll
/// counts as progress and pings too, at most once per ``SystemdNotifier/watchdogInterval``: a
/// cycle of slow sources (dozens on one host, two at a time, each up to `request_timeout`) can
/// outlast `WatchdogSec=` without being stuck, and was restarted for it, again and again, since
/// the restarted daemon polls the same sources. A scheduler that makes no progress still stops
/// the pings (every poll ends within its timeouts).
final class WatchdogPings: Sendable {
    private let notifier: SystemdNotifier
    private let lastPing = Mutex(ContinuousClock.now)

    init(notifier: SystemdNotifier) {
        self.notifier = notifier
    }

    /// Pings now (the scheduler's loop, between cycles).
    func ping() {
        lastPing.withLock { $0 = .now }
        notifier.notify("WATCHDOG=1")
    }

    /// A poll finished: pings when the last ping is a watchdog interval old.
    func progress() {
        guard let interval = notifier.watchdogInterval else { return }
        let now = ContinuousClock.now
        let due = lastPing.withLock { last in
            guard now - last >= interval else { return false }
            last = now
            return true
        }
        if due { notifier.notify("WATCHDOG=1") }
    }
}

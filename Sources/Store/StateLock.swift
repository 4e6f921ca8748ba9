public import Foundation

/// The one `exportwatch run` (the daemon, or `--once`) that polls into a state folder: an
/// advisory lock on `exportwatch.lock` in it, held for as long as this value lives.
///
/// A second run on the same state (a cron job beside the service, a cron run overlapping the
/// last) would fetch every source twice and post every event twice, to receivers such as Slack,
/// Discord and Teams that cannot tell. It stops at once, naming the holder. The kernel lets go
/// when the holding process ends, however it ends (`kill -9` included). Commands that read or
/// edit the state (`items`, `sources list`, `webhooks retry`, `digest`) do not take it: SQLite
/// keeps them consistent beside a run.
public final class StateLock: Sendable {
    /// The lock file's name inside the state folder.
    public static let fileName = "exportwatch.lock"

    private let descriptor: Int32

    /// Takes the lock, creating the state folder (0700) and the lock file (0600) when missing.
    /// - Throws: ``StoreError`` `.inUse` naming the holder's process id when another run holds
    ///   it; `.stateDirectory` when the folder or the file cannot be made.
    public init(stateDirectory: URL) throws(StoreError) {
        try SQLiteEventStore.prepareFolder(stateDirectory)
        let path = stateDirectory.appending(path: Self.fileName).path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.stateDirectory, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? nil : String(cString: strerror(errno))
            let holder = Self.recordedHolder(descriptor)
            close(descriptor)
            if let reason { throw StoreError(.stateDirectory, "cannot lock \(path): \(reason)") }
            throw StoreError(
                .inUse,
                "another exportwatch run\(holder.map { " (pid \($0))" } ?? "") is using the state folder "
                    + "\(stateDirectory.path): stop it first (systemctl stop exportwatch), or give this one its own "
                    + "state_dir")
        }
        // Who holds it, for the message of the next one that tries.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = pwrite(descriptor, pid, pid.count, 0) }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// The process id the holder wrote into the lock file, if it did.
    private static func recordedHolder(_ descriptor: Int32) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

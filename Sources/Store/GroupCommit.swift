internal import GRDB
import Synchronization

/// Writes poll records in shared transactions (group commit): a record that arrives while a
/// transaction is being written waits for the next one, and shares it with every record that
/// arrived meanwhile. A record alone is written at once; under load, one transaction (and one
/// WAL commit) serves many polls. A warm cycle of a thousand sources, all `304 Not Modified`,
/// had spent most of its time in a thousand one-row transactions.
///
/// When a record fails (a constraint, a full disk), the group's transaction is rolled back and
/// each of its records is written again in a transaction of its own, so that only the failing
/// one is lost and reported to its caller, with any later one that refers to a story the failing
/// one started (the story's foreign key fails it). Savepoints would isolate records without the
/// second pass, but SQLite copies every page a savepoint changes to a sub-journal first: a cost on
/// every record for a failure that almost never happens. A caller is answered after the
/// transaction holding its record has committed, never before: what ``PendingCommit/committed()``
/// returns is durable, as with a transaction of its own.
final class GroupCommit: Sendable {
    private struct State {
        var queued: [(record: PollRecord, pending: PendingCommit)] = []
        var writing = false
    }

    /// The most records in one transaction: bounds how long the writer is held at a time.
    static let maximumGroup = 256

    private let pool: DatabasePool
    private let write: @Sendable (PollRecord, Database) throws -> CommitSummary
    private let state = Mutex(State())

    /// - Parameter write: writes one record inside an open transaction.
    init(pool: DatabasePool, write: @escaping @Sendable (PollRecord, Database) throws -> CommitSummary) {
        self.pool = pool
        self.write = write
    }

    /// Queues `record` for the next transaction; records are written in the order they were
    /// submitted.
    func submit(_ record: PollRecord) -> PendingCommit {
        let pending = PendingCommit()
        let startsWriting = state.withLock { state in
            state.queued.append((record, pending))
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if startsWriting { writeQueued() }
        return pending
    }

    /// Writes the queued records (up to ``maximumGroup``) in one transaction, then queues the next
    /// group behind any other write waiting for the writer, or stops until the next record.
    private func writeQueued() {
        pool.asyncWriteWithoutTransaction { [self] db in
            let group = state.withLock { state in
                let group = Array(state.queued.prefix(Self.maximumGroup))
                state.queued.removeFirst(group.count)
                return group
            }
            var results: [Result<CommitSummary, any Error>]
            do {
                var summaries: [CommitSummary] = []
                try db.inTransaction(.immediate) {
                    summaries = try group.map { try write($0.record, db) }
                    return .commit
                }
                results = summaries.map { .success($0) }
            } catch {
                // Rolled back: nothing of the group is stored. Alone, each record fails or not on its own.
                results =
                    group.count == 1
                    ? [.failure(error)]
                    : group.map { queued in
                        Result {
                            var summary = CommitSummary()
                            try db.inTransaction(.immediate) {
                                summary = try write(queued.record, db)
                                return .commit
                            }
                            return summary
                        }
                    }
            }
            for ((_, pending), result) in zip(group, results) {
                pending.finish(result.mapError { StoreError(recognizing: $0, path: pool.path) ?? $0 })
            }
            let more = state.withLock { state in
                state.writing = !state.queued.isEmpty
                return state.writing
            }
            if more { writeQueued() }
        }
    }
}

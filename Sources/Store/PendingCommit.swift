import Synchronization

/// A poll record handed to the store (``EventStore/submit(_:)``) and not yet known to be
/// committed: ``committed()`` waits for the transaction that holds it.
public final class PendingCommit: Sendable {
    private typealias Waiter = CheckedContinuation<CommitSummary, any Error>
    private enum State {
        case waiting([Waiter])
        case finished(Result<CommitSummary, any Error>)
    }

    private let state = Mutex(State.waiting([]))

    init() {}

    /// What was stored, once the transaction holding the record has committed.
    /// - Throws: what kept the record from being written; then nothing of it was.
    public func committed() async throws -> CommitSummary {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let finished = state.withLock { state -> Result<CommitSummary, any Error>? in
                switch state {
                case .waiting(let waiters):
                    state = .waiting(waiters + [waiter])
                    return nil
                case .finished(let result):
                    return result
                }
            }
            if let finished { waiter.resume(with: finished) }
        }
    }

    /// Answers every waiter, now and later, with `result`.
    func finish(_ result: Result<CommitSummary, any Error>) {
        let waiters = state.withLock { state -> [Waiter] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .finished(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

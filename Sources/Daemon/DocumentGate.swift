import Foundation
import Synchronization

/// Admits new documents into reading and ingesting, first come, first served, while fewer than
/// `capacity` are in flight and their bodies add up to at most `byteBudget` (one document is
/// always admitted, however large).
///
/// A cold start fetches far faster than it can parse, classify and commit; without a bound every
/// fetched document of `max_concurrent` polls waits, parsed, for the store's story turn, and
/// memory grows with `max_concurrent` and with the size of the largest feeds (a document in
/// flight costs about four times its body: the body, its parsed text, the normalized text, the
/// rows being written). Fetches, and polls answered by 304, are not held back.
///
/// A lock rather than an actor: leaving must be synchronous, so that a `defer` can do it on every
/// way out of a poll.
final class DocumentGate: Sendable {
    private struct Waiter {
        var bytes: Int
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var admitted = 0
        var bytes = 0
        var waiting: [Waiter] = []
    }
    private let capacity: Int
    private let byteBudget: Int
    private let state = Mutex(State())

    /// Documents in flight for a machine with `processors` cores: enough to keep every core busy
    /// while one document holds the store's turn.
    static func capacity(processors: Int) -> Int { max(2, 2 * processors) }

    /// The bodies' bytes in flight by default: 2 MB, about 8 MB of memory at the peak. Typical
    /// feeds (10–200 kB) are held back by the count, not by this; a multi-megabyte one goes alone.
    static let defaultByteBudget = 2 << 20

    init(capacity: Int, byteBudget: Int = defaultByteBudget) {
        self.capacity = max(1, capacity)
        self.byteBudget = byteBudget
    }

    /// Waits for a place for a document of `bytes`; pair with ``leave(bytes:)``.
    /// - Throws: `CancellationError`, having given the place back, when the task was cancelled
    ///   while it waited.
    func enter(bytes: Int) async throws {
        await withCheckedContinuation { continuation in
            let admittedNow = state.withLock { state in
                guard state.waiting.isEmpty, fits(bytes, in: state) else {
                    state.waiting.append(Waiter(bytes: bytes, continuation: continuation))
                    return false
                }
                state.admitted += 1
                state.bytes += bytes
                return true
            }
            if admittedNow { continuation.resume() }
        }
        if Task.isCancelled {
            leave(bytes: bytes)
            throw CancellationError()
        }
    }

    /// Gives the place back and admits the waiting documents that now fit, in order.
    func leave(bytes: Int) {
        let admitted = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.admitted -= 1
            state.bytes -= bytes
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let next = state.waiting.first, fits(next.bytes, in: state) {
                state.waiting.removeFirst()
                state.admitted += 1
                state.bytes += next.bytes
                admitted.append(next.continuation)
            }
            return admitted
        }
        for continuation in admitted { continuation.resume() }
    }

    private func fits(_ bytes: Int, in state: State) -> Bool {
        state.admitted == 0 || state.admitted < capacity && state.bytes + bytes <= byteBudget
    }
}

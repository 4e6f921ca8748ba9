import Foundation
import Synchronization

/// First come, first served admission: at most `capacity` holders at a time, whose weights add
/// up to at most `budget` (one holder is always admitted, whatever its weight).
///
/// Three gates use it. The poller's document gate admits new documents into reading and
/// ingesting (two per core, 2 MB of bodies): a cold start fetches far faster than it can parse,
/// classify and commit, and without a bound every fetched document of `max_concurrent` polls
/// waits, parsed, for the story turn, so memory grows with `max_concurrent` and with the largest
/// feeds (a document in flight costs about four times its body). Its second gate bounds the
/// documents whose records wait for the store's writer. The ingestor's story turn is a gate of
/// one, held across the awaits from a poll's story lookup to its submission to the store.
///
/// A lock rather than an actor: leaving must be synchronous, so that a `defer` can do it on every
/// way out.
final class AdmissionGate: Sendable {
    private struct Waiter {
        var weight: Int
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var admitted = 0
        var weight = 0
        var waiting: [Waiter] = []
    }
    private let capacity: Int
    private let budget: Int
    private let state = Mutex(State())

    /// New documents being read for a machine with `processors` cores: enough to keep every core
    /// busy while one document holds the story turn, and 2 MB of bodies (about 8 MB of memory at
    /// the peak). Typical feeds (10–200 kB) are held back by the count; a multi-megabyte one goes
    /// alone.
    static func documents(processors: Int) -> AdmissionGate {
        AdmissionGate(capacity: max(2, 2 * processors), budget: 2 << 20)
    }

    /// New documents read and submitted to the store, not yet committed: 2 MB of bodies (a
    /// record and its poll hold about three times its body). The more there are, the more the
    /// store's writer shares its transactions among them: on a cold start of 1,000 feeds, 4 MB
    /// was ~5% faster than 2 MB but peaked at 95 MB, too close to the daemon's 100 MB bound.
    static func uncommittedDocuments() -> AdmissionGate {
        AdmissionGate(capacity: .max, budget: 2 << 20)
    }

    init(capacity: Int, budget: Int = .max) {
        self.capacity = max(1, capacity)
        self.budget = budget
    }

    /// Waits for a place for a holder of `weight`; pair with ``leave(weight:)``.
    /// - Throws: `CancellationError`, having given the place back, when the task was cancelled
    ///   while it waited.
    func enter(weight: Int = 0) async throws {
        await withCheckedContinuation { continuation in
            let admittedNow = state.withLock { state in
                guard state.waiting.isEmpty, fits(weight, in: state) else {
                    state.waiting.append(Waiter(weight: weight, continuation: continuation))
                    return false
                }
                state.admitted += 1
                state.weight += weight
                return true
            }
            if admittedNow { continuation.resume() }
        }
        if Task.isCancelled {
            leave(weight: weight)
            throw CancellationError()
        }
    }

    /// A place taken with ``place(weight:)``; ``leave()`` gives it back once, however often it is
    /// called (so that both an early hand-back and a `defer` can call it).
    final class Place: Sendable {
        private let gate: AdmissionGate
        private let weight: Int
        private let left = Atomic(false)

        fileprivate init(gate: AdmissionGate, weight: Int) {
            self.gate = gate
            self.weight = weight
        }

        func leave() {
            guard !left.exchange(true, ordering: .relaxed) else { return }
            gate.leave(weight: weight)
        }
    }

    /// ``enter(weight:)``, with a place to hand back by ``Place/leave()``.
    func place(weight: Int) async throws -> Place {
        try await enter(weight: weight)
        return Place(gate: self, weight: weight)
    }

    /// Gives the place back and admits the waiting holders that now fit, in order.
    func leave(weight: Int = 0) {
        let admitted = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.admitted -= 1
            state.weight -= weight
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let next = state.waiting.first, fits(next.weight, in: state) {
                state.waiting.removeFirst()
                state.admitted += 1
                state.weight += next.weight
                admitted.append(next.continuation)
            }
            return admitted
        }
        for continuation in admitted { continuation.resume() }
    }

    private func fits(_ weight: Int, in state: State) -> Bool {
        state.admitted == 0 || state.admitted < capacity && state.weight + weight <= budget
    }
}

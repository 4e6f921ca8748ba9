import Dispatch

/// Runs the CPU-heavy part of a poll, reading a document and classifying its items, on a
/// dispatch queue of its own rather than on Swift's cooperative thread pool.
///
/// The pool has one thread per core. While those threads parse and classify (work without a
/// suspension point, up to tens of milliseconds for a large feed), the poll holding the store's
/// story turn waits for a free thread after each of its awaits; on a cold start that waiting was
/// more than a third of the time the turn was held. Work here is bounded by the poller's document gate (``AdmissionGate``).
enum DocumentWork {
    private static let queue = DispatchQueue(label: "exportwatch.document-work", qos: .utility, attributes: .concurrent)

    /// The result of `body`, run on the document queue.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

import Foundation
import Synchronization
import Testing

@testable import Daemon

@Suite("Admission gate")
struct AdmissionGateTests {
    /// Who has got through the gate, in order.
    final class Arrivals: Sendable {
        private let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }

        /// Waits up to two seconds for `expected`.
        func wait(for expected: [String]) async throws {
            for _ in 0..<200 where all != expected { try await Task.sleep(for: .milliseconds(10)) }
            #expect(all == expected)
        }
    }

    @Test("documents pass while under the count and the byte budget, in order of arrival; a large one alone")
    func bounds() async throws {
        let gate = AdmissionGate(capacity: 2, budget: 100)
        let arrivals = Arrivals()
        try await gate.enter(weight: 60)
        try await gate.enter(weight: 30)
        let third = Task {
            try await gate.enter(weight: 10)
            arrivals.add("third")
        }
        try await Task.sleep(for: .milliseconds(50))
        let large = Task {
            try await gate.enter(weight: 500)
            arrivals.add("large")
        }
        let small = Task {
            try await gate.enter(weight: 1)
            arrivals.add("small")
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(arrivals.all.isEmpty, "two documents are in: the count is reached")

        gate.leave(weight: 60)
        try await arrivals.wait(for: ["third"])
        try await Task.sleep(for: .milliseconds(50))
        #expect(arrivals.all == ["third"], "the large document waits, and the small one behind it")

        gate.leave(weight: 30)
        gate.leave(weight: 10)
        try await arrivals.wait(for: ["third", "large"])
        gate.leave(weight: 500)
        try await arrivals.wait(for: ["third", "large", "small"])
        for task in [third, large, small] { try await task.value }
    }

    @Test("a poll cancelled while it waits gives its place back and throws")
    func cancellation() async throws {
        let gate = AdmissionGate(capacity: 1)
        try await gate.enter(weight: 10)
        let waiting = Task { try await gate.enter(weight: 10) }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        gate.leave(weight: 10)
        await #expect(throws: CancellationError.self) { try await waiting.value }
        // The place is free again.
        try await gate.enter(weight: 10)
    }
}

public import Foundation
public import Store

/// When a failed delivery is tried again, and when it is given up: the Standard Webhooks schedule
/// (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after each failure),
/// each delay varied by ±10% so that many rows failing together do not retry together, and never
/// earlier than a `Retry-After` (itself capped at 24 h).
public struct RetryPolicy: Sendable {
    /// The delay before each attempt; the first is the immediate one.
    public var schedule: [Duration]
    /// How far a delay may vary, as a fraction of it.
    public var jitter: Double

    /// The Standard Webhooks schedule.
    public static let standard = RetryPolicy(
        schedule: [
            .zero, .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3600), .seconds(5 * 3600),
            .seconds(10 * 3600), .seconds(14 * 3600), .seconds(20 * 3600), .seconds(24 * 3600),
        ], jitter: 0.1)

    /// The longest a `Retry-After` can hold a row back (24 h).
    public static let maxRetryAfter: Duration = .seconds(24 * 3600)

    /// The furthest ahead a retry can be set: the longest delay of the schedule or of a
    /// `Retry-After`, with jitter. A row set further ahead than this was set before the clock was
    /// set back.
    public var longestDelay: Duration {
        max(schedule.max() ?? .zero, Self.maxRetryAfter) * (1 + jitter)
    }

    /// Creates a policy.
    public init(schedule: [Duration], jitter: Double) {
        self.schedule = schedule
        self.jitter = jitter
    }

    /// What a response (or its absence) means for a delivery.
    public enum Outcome: Sendable, Equatable {
        /// 2xx: delivered.
        case delivered
        /// 410: the receiver is gone; the webhook is disabled.
        case gone
        /// Another 4xx (but 408 and 429), or a redirect: it will not work by trying again.
        case permanent(String)
        /// 408, 429, 5xx, or no response: try again later.
        case transient(String, retryAfter: Date?)
    }

    /// Classifies a status.
    public static func outcome(status: Int, retryAfter: Date?, location: String?) -> Outcome {
        switch status {
        case 200..<300: .delivered
        case 410: .gone
        case 408, 429: .transient("HTTP \(status)", retryAfter: retryAfter)
        case 300..<400:
            .permanent("HTTP \(status): the receiver redirects (webhooks are not followed); update the webhook's url")
        case 400..<500: .permanent("HTTP \(status)")
        default: .transient("HTTP \(status)", retryAfter: retryAfter)
        }
    }

    /// Where a row goes after its `attempt`-th attempt (1 for the first) ended in a transient failure.
    public func resolution(
        afterAttempt attempt: Int, retryAfter: Date?, now: Date, using random: inout some RandomNumberGenerator
    ) -> DeliveryResolution {
        guard attempt < schedule.count else { return .dead }
        let delay = schedule[attempt]
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let varied = seconds * (1 + Double.random(in: -jitter...jitter, using: &random))
        var next = now.addingTimeInterval(varied)
        if let retryAfter, retryAfter > next {
            next = min(retryAfter, now.addingTimeInterval(Double(Self.maxRetryAfter.components.seconds)))
        }
        return .retry(at: next)
    }
}

public import Foundation

/// Where exportwatch keeps everything it has learnt: sources and their fetch state, items and
/// stories, the webhook outbox and the digests built.
///
/// Nothing above the store knows which database it talks to: SQLite (``SQLiteEventStore``) is
/// the embedded default; a PostgreSQL implementation for several daemons sharing the work can
/// sit beside it later. The store records; it never decides (what is new, what is announced).
public protocol EventStore: Sendable {
    /// The stored state of every source the store has seen, ordered by id.
    func sourceStates() async throws -> [SourceState]
}

/// What the store knows of one source's recent fetches and health.
public struct SourceState: Sendable, Equatable {
    /// The health of a source, as DESIGN.md §1 describes it.
    public enum Health: String, Sendable, Equatable {
        /// Fetching and parsing work (or have not yet failed often enough to say otherwise).
        case ok
        /// `failure_threshold` consecutive polls failed; one `source.down` was recorded.
        case failing
        /// The server said 410 Gone: no further polls until the configuration changes.
        case retired
    }

    /// The source's stable id from the configuration.
    public var id: String
    /// The URL polled now: the configured one, or where a permanent redirect moved it.
    public var currentURL: String
    /// The source's health.
    public var health: Health
    /// Why the source is failing or retired, in words; nil when healthy.
    public var healthReason: String?
    /// How many polls in a row have failed.
    public var failureStreak: Int
    /// When the last poll started; nil before the first.
    public var lastAttemptAt: Date?
    /// When the last poll succeeded; nil before the first success.
    public var lastSuccessAt: Date?
    /// When the source is next due.
    public var nextDueAt: Date?

    /// Creates a source state.
    public init(
        id: String,
        currentURL: String,
        health: Health = .ok,
        healthReason: String? = nil,
        failureStreak: Int = 0,
        lastAttemptAt: Date? = nil,
        lastSuccessAt: Date? = nil,
        nextDueAt: Date? = nil
    ) {
        self.id = id
        self.currentURL = currentURL
        self.health = health
        self.healthReason = healthReason
        self.failureStreak = failureStreak
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.nextDueAt = nextDueAt
    }
}

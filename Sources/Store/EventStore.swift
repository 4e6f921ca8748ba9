public import Fetching
public import Foundation

/// Where exportwatch keeps everything it has learnt: sources and their fetch state, items and
/// stories, the webhook outbox and the digests built.
///
/// Nothing above the store knows which database it talks to: SQLite (``SQLiteEventStore``) is
/// the embedded default; a PostgreSQL implementation for several daemons sharing the work can
/// sit beside it later. The store records; it never decides (what is new, what is announced).
public protocol EventStore: Sendable {
    /// Every source the store has seen, ordered by id.
    func sources() async throws -> [StoredSource]

    /// The fetch state of one source, or nil for a source never polled.
    func fetchState(ofSource id: String) async throws -> SourceFetchState?

    /// Saves a source's fetch state after a poll, with the health transitions it crossed, in one transaction.
    func saveFetchState(
        _ state: SourceFetchState, ofSource id: String, kind: String, transitions: [SourceHealth.Transition], at: Date
    ) async throws

    /// The health transitions recorded for a source, oldest first.
    func healthEvents(ofSource id: String) async throws -> [SourceHealthEvent]
}

/// A source as the store knows it.
public struct StoredSource: Sendable, Equatable {
    /// The source's id from the configuration.
    public var id: String
    /// `feed` or `html`.
    public var kind: String
    /// Its fetch state.
    public var state: SourceFetchState
}

/// A recorded health transition of a source (`source.down`, `source.recovered`, `source.retired`).
public struct SourceHealthEvent: Sendable, Equatable {
    /// Which transition.
    public var transition: SourceHealth.Transition
    /// Why, in words (the failure that crossed the threshold).
    public var reason: String?
    /// When it happened.
    public var occurredAt: Date
}

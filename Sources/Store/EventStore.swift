public import Dedup
public import Fetching
public import Foundation

/// Where exportwatch keeps everything it has learnt: sources and their fetch state, items and
/// stories, the webhook outbox and the digests built.
///
/// Nothing above the store knows which database it talks to: SQLite (``SQLiteEventStore``) is
/// the embedded default; a PostgreSQL implementation for several daemons sharing the work can
/// sit beside it later. The store records; it never decides (what is new, what is announced).
public protocol EventStore: Sendable {
    /// Every source the store has seen, by id. A stored URL equal to one of `knownURLs` (the
    /// configured sources', which the caller holds already) is that value rather than a new parse
    /// of its text.
    func sources(reusing knownURLs: [URL]) async throws -> [String: StoredSource]

    /// The sources of `ids` that the store has seen, by id, as ``sources(reusing:)`` reads them.
    func sources(_ ids: [String], reusing knownURLs: [URL]) async throws -> [String: StoredSource]

    /// One source as ``sources()`` lists it, or nil for a source never polled.
    func source(_ id: String) async throws -> StoredSource?

    /// Saves a source's fetch state after a poll, with the health transitions it crossed, in one transaction.
    func saveFetchState(
        _ state: SourceFetchState, ofSource id: String, kind: String, transitions: [SourceHealth.Transition], at: Date
    ) async throws

    /// The health transitions recorded for a source, oldest first.
    func healthEvents(ofSource id: String) async throws -> [SourceHealthEvent]

    /// Brings back a source a 410 retired, at the same URL: healthy, and due at `now`. Returns
    /// false, changing nothing, when the source is not retired (or was never polled).
    func reviveRetiredSource(_ id: String, at now: Date) async throws -> Bool

    /// The identity kind a source learnt on earlier fetches, nil for a source never resolved.
    func learnedIdentity(ofSource id: String) async throws -> IdentityKind?

    /// Whether a document of the source has been read and recorded (so its items are no longer a
    /// baseline). Until then the source has no stored items and no learned identity: both are
    /// written in the transaction that records its first document.
    func isBaselined(source id: String) async throws -> Bool

    /// The stored items of a source that share any key with the fetched ones: their identity key
    /// under any kind, their guid, link key or content key. Deduplication decides among them.
    func knownItems(ofSource id: String, matching keys: [ItemKeys]) async throws -> [KnownItem]

    /// The items first seen since `since` as a ``StoryIndex`` holds them (their story, fingerprint
    /// and headline numbers), and the story keys added since then, oldest first: what a story
    /// lookup may match. The daemon reads this once at start and adds what it records itself.
    func recentStoryEntries(since: Date) async throws -> [StoryIndex.Entry]

    /// The highest story row id ever given (0 before the first story): a caller numbering new
    /// stories itself (``NewStory/id``) continues after it.
    func lastStoryID() async throws -> Int64

    /// A story's public id, its sources in order, and whether it was announced; nil when unknown
    /// (or not committed yet).
    func story(id: Int64) async throws -> StorySummary?

    /// Queues one poll (state, items, stories, events) to be written in one transaction, and
    /// returns at once; records are written in the order they were submitted. An item whose
    /// source already holds its identity key is not written again, nor are its events.
    func submit(_ record: PollRecord) -> PendingCommit

    /// The policy events raised since `since` (all when nil), oldest first.
    func policyEvents(since: Date?) async throws -> [StoredPolicyEvent]

    // MARK: The outbox

    /// Adds messages to the outbox outside a poll (`digest.created`); a message already there is kept.
    func enqueue(_ messages: [OutboxMessage], at now: Date) async throws

    /// Pending rows of these webhooks whose next attempt is due at `now`, or set after `horizon`
    /// (further ahead than any retry is set: the clock has been set back since), oldest first.
    /// Rows of other webhooks (no longer configured) wait, and take no share of `limit`.
    func dueDeliveries(forWebhooks webhookIDs: [String], at now: Date, orAfter horizon: Date, limit: Int)
        async throws -> [OutboxEntry]

    /// How many rows are pending, by webhook id (only webhooks that have some).
    func pendingDeliveryCounts() async throws -> [String: Int]

    /// Dead-letters the pending rows of a webhook (one no longer configured), with `reason` as
    /// their last error. Returns how many rows it dead-lettered.
    func discardPendingDeliveries(ofWebhook webhookID: String, reason: String) async throws -> Int

    /// Deletes sent, batched and dead rows created before `cutoff`, with their attempts; pending
    /// rows stay whatever their age. Returns how many rows went.
    func pruneOutbox(before cutoff: Date) async throws -> Int

    /// Deletes the items first seen before `cutoff` that their source's latest document no longer
    /// lists (first seen before the oldest one it lists), with their topics, identifiers and
    /// events, and the stories left without items; a source whose listing is not known yet keeps
    /// its items. Deliveries in the outbox carry their own payload and are not touched. Works in
    /// transactions of at most `batch` items, so that polls are not held up, and stops between
    /// them when its task is cancelled (throwing `CancellationError`).
    func pruneItems(firstSeenBefore cutoff: Date, batch: Int) async throws -> ItemPruning

    /// Deletes the health transitions (`source.down`, `source.recovered`, …) that occurred before
    /// `cutoff`, except each source's latest, which says how its health came to be what it is.
    /// Returns how many went.
    func pruneHealthEvents(before cutoff: Date) async throws -> Int

    /// When the next pending row of these webhooks falls due, nil when none is pending.
    func nextDeliveryTime(forWebhooks webhookIDs: [String]) async throws -> Date?

    /// Records an attempt and moves its row to sent, a later retry, or the dead letters.
    func record(
        _ attempt: DeliveryAttempt, ofEvent eventID: String, webhook webhookID: String, resolution: DeliveryResolution
    ) async throws

    /// Replaces pending rows of a webhook by one batch row (`event_type` `batch`) carrying them.
    func batch(_ eventIDs: [String], forWebhook webhookID: String, as batchID: String, payload: Data, at now: Date)
        async throws

    /// Sets the next attempt of these pending rows of a webhook to `date` (a rate limit holds them
    /// back until then); other rows are left as they are.
    func deferDeliveries(_ eventIDs: [String], ofWebhook webhookID: String, until date: Date) async throws

    /// When attempts were made to a webhook after `since` (its rate limit's window), oldest first.
    func attempts(ofWebhook webhookID: String, since: Date) async throws -> [Date]

    /// Outbox rows, newest first; only the dead letters when `failedOnly`.
    func outbox(failedOnly: Bool, limit: Int) async throws -> [OutboxEntry]

    /// Puts dead letters back to pending, due now: one event's (for every webhook), or all.
    /// - Returns: how many rows were requeued.
    func requeue(eventID: String?, at now: Date) async throws -> Int

    /// Disables a webhook whose receiver answered 410, dead-lettering its pending rows.
    func disableWebhook(_ id: String, urlSHA256: String, reason: String, at now: Date) async throws

    /// The disabled webhooks and why; one whose URL (by hash) changed since is enabled again.
    func disabledWebhooks(currentURLs: [String: String]) async throws -> [String: String]

    /// Each webhook's outbox counts and state.
    func webhookStatuses() async throws -> [WebhookStatus]

    /// The attempts made for an event, oldest first.
    func deliveryAttempts(ofEvent eventID: String) async throws -> [DeliveryAttempt]

    // MARK: Digests

    /// Relevant items first seen in [start, end), and relevant items updated materially then, oldest first.
    func digestItems(from start: Date, to end: Date) async throws -> [DigestItemRecord]

    /// Every report of these stories first seen before `end`, oldest first.
    func storyReports(of storyIDs: [Int64], before end: Date) async throws -> [StoryReportRecord]

    /// The first-seen time and topic of every relevant item first seen in [start, end) (the chart).
    func relevantTopicTimes(from start: Date, to end: Date) async throws -> [(Date, String)]

    /// The sources polled on `day` (`YYYY-MM-DD` as ``PollOutcome/day``), and those whose last
    /// poll that day failed.
    func pollSummary(day: String) async throws -> PollSummary

    /// The health transitions in [start, end), oldest first.
    func sourceProblems(from start: Date, to end: Date) async throws -> [SourceProblemRecord]

    /// Records that a day's digest was built.
    func recordDigest(day: String, timeZone: String, files: [String], counts: [String: Int], at now: Date)
        async throws

    /// The digests built so far, oldest first.
    func builtDigests() async throws -> [BuiltDigest]

    /// When the first source was recorded: the earliest day a digest can cover.
    func firstActivity() async throws -> Date?

    /// The newest relevant stories, each by its first relevant report, newest first.
    func latestAlerts(limit: Int) async throws -> [AlertRecord]
}

/// A source as the store knows it.
public struct StoredSource: Sendable, Equatable {
    /// The source's id from the configuration.
    public var id: String
    /// `feed` or `html`.
    public var kind: String
    /// Its fetch state.
    public var state: SourceFetchState
    /// The day of its last poll, and whether that poll succeeded, as the daily digest counts
    /// them; nil when no poll has been logged.
    public var lastPoll: PollOutcome?

    /// A source with its kind and fetch state, as the store holds it.
    public init(id: String, kind: String, state: SourceFetchState, lastPoll: PollOutcome? = nil) {
        self.id = id
        self.kind = kind
        self.state = state
        self.lastPoll = lastPoll
    }
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

extension EventStore {
    /// Writes one poll (``submit(_:)``) and returns what was stored once it is committed.
    public func commit(_ record: PollRecord) async throws -> CommitSummary {
        try await submit(record).committed()
    }

    /// Every source the store has seen, by id, each URL parsed from its text.
    public func sources() async throws -> [String: StoredSource] {
        try await sources(reusing: [])
    }
}

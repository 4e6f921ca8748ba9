public import Classification
public import Dedup
public import Delivery
public import Feeds
public import Fetching
public import Foundation
public import Logging
public import Store

/// Turns one poll's parsed document into what the store records, and records it: the
/// Deduplicator → Classifier → Store stages of DESIGN.md §1.
///
/// Polls of different sources are ingested one at a time, from their story lookups to their
/// commit: the story lookup of one poll sees every story the previous one started, so two
/// outlets reporting the same event in the same cycle form one story. Being an actor is not
/// enough for that (an actor takes other calls while one awaits the store), so a poll with new
/// items holds the story turn (an ``AdmissionGate`` of one) from its story lookup to its commit;
/// polls without new items (most of them, once sources are known) do not wait for it.
///
/// Story lookups read a ``StoryIndex`` of the matcher's window, filled from the store by the
/// first poll that needs it and added to after each commit, inside the turn.
public actor Ingestor {
    private let store: any EventStore
    /// The topics, and their classifier once a document has needed it: a cycle in which no source
    /// changed (the usual one) never builds it.
    private var topics: [Topic]
    private var classifier: Classifier?
    private let matcher: StoryMatcher
    private let baselineNewSources: Bool
    private var webhooks: [Webhook]
    private let logger: Logger
    /// The story turn: a first-come, first-served gate of one, held across the awaits of a poll
    /// from its story lookup to its commit.
    private let turn = AdmissionGate(capacity: 1)
    /// The recent stories, once read from the store; changed only by the holder of the turn.
    private var stories: StoryIndex?

    /// Creates an ingestor.
    /// - Parameters:
    ///   - topics: what items are classified against.
    ///   - webhooks: who receives the events; each event is written to the outbox of the
    ///     webhooks that want it, in the poll's transaction.
    public init(
        store: any EventStore, topics: [Topic], matcher: StoryMatcher = StoryMatcher(),
        baselineNewSources: Bool, webhooks: [Webhook] = [], logger: Logger
    ) {
        self.store = store
        self.webhooks = webhooks
        self.topics = topics
        self.matcher = matcher
        self.baselineNewSources = baselineNewSources
        self.logger = logger
    }

    /// What one ingest did.
    public struct Summary: Sendable, Equatable {
        /// Items never seen before.
        public var newItems = 0
        /// Of those, the relevant ones.
        public var newRelevantItems = 0
        /// Known items that changed materially.
        public var updatedItems = 0
        /// Whether this was the source's baseline (nothing announced).
        public var baseline = false
        /// What the store wrote.
        public var commit = CommitSummary()
    }

    /// Replaces the webhooks (a reloaded configuration).
    public func update(webhooks: [Webhook]) {
        self.webhooks = webhooks
    }

    /// Replaces the topics (a reloaded topics file).
    public func update(topics: [Topic]) {
        self.topics = topics
        classifier = nil
    }

    /// Records a poll of `source`: its fetch state and transitions, and, when a document was read,
    /// its new and changed items with their stories and events, in one transaction.
    ///
    /// The items' keys and classifications are computed before the poll queues for the actor, so
    /// polls of different sources do that work in parallel; only the store-dependent decisions
    /// and the commit are serialised.
    public nonisolated func ingest(
        _ feed: ParsedFeed?, of source: SourceSettings, state: SourceFetchState,
        transitions: [SourceHealth.Transition], provenance: Provenance?, pollSucceeded: Bool? = nil, at now: Date
    ) async throws -> Summary {
        var prepared: Prepared?
        if let feed {
            let classifier = await classifierInUse()
            prepared = try await DocumentWork.run { Prepared(feed, classifier: classifier) }
        }
        return try await record(
            prepared, of: source, state: state, transitions: transitions, provenance: provenance,
            pollSucceeded: pollSucceeded, at: now)
    }

    /// A document's items with their dedup keys and classifications.
    struct Prepared: Sendable {
        var feed: ParsedFeed
        var keyed: [(DedupItem, ItemKeys)]
        var classifications: [Classification]

        init(_ feed: ParsedFeed, classifier: Classifier) {
            self.feed = feed
            keyed = feed.items.map { item in
                let dedupItem = DedupItem(
                    guid: item.id, link: item.link, title: item.title ?? "", summary: item.summary,
                    content: item.content, published: item.published ?? item.updated)
                return (dedupItem, ItemKeys(dedupItem))
            }
            classifications = keyed.map {
                classifier.classify(title: $0.0.title, summary: $0.0.summary ?? $0.0.content ?? "")
            }
        }
    }

    private func classifierInUse() -> Classifier {
        if let classifier { return classifier }
        let built = Classifier(topics: topics)
        classifier = built
        return built
    }

    private func record(
        _ prepared: Prepared?, of source: SourceSettings, state: SourceFetchState,
        transitions: [SourceHealth.Transition], provenance: Provenance?, pollSucceeded: Bool?, at now: Date
    ) async throws -> Summary {
        // Taken by `resolve` before a story lookup, when the poll has new items; held to the commit.
        var holdsTurn = false
        defer { if holdsTurn { turn.leave() } }
        var record = PollRecord(
            sourceID: source.id, kind: source.kind.rawValue, state: state, transitions: transitions, at: now)
        record.pollSucceeded = pollSucceeded
        var summary = Summary()
        if let prepared {
            let documentRecorded = try await store.isBaselined(source: source.id)
            summary.baseline = baselineNewSources && !documentRecorded
            try await resolve(
                prepared, of: source, provenance: provenance, baseline: summary.baseline,
                hasHistory: documentRecorded, into: &record, holdsTurn: &holdsTurn)
            summary.newItems = record.newItems.count
            summary.newRelevantItems = record.newItems.count { $0.classification.relevant }
            summary.updatedItems = record.events.count { $0.type == "policy_item.updated" }
        }
        for transition in transitions {
            try addHealthEvent(transition, of: source, state: state, at: now, to: &record)
        }
        summary.commit = try await store.commit(record)
        if holdsTurn { stories?.add(summary.commit.storyEntries) }
        return summary
    }

    /// Decides what each of the document's items is (new, changed, known) and what it records.
    /// - Parameter hasHistory: whether a document of the source was recorded before; a source
    ///   without one has no stored items and no learned identity to look up (a cold start's
    ///   thousand sources skip five reads each).
    private func resolve(
        _ prepared: Prepared, of source: SourceSettings, provenance: Provenance?, baseline: Bool, hasHistory: Bool,
        into record: inout PollRecord, holdsTurn: inout Bool
    ) async throws {
        let (feed, keyed) = (prepared.feed, prepared.keyed)
        let known = hasHistory ? try await store.knownItems(ofSource: source.id, matching: keyed.map(\.1)) : []
        let knownByID = Dictionary(known.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let learned = hasHistory ? try await store.learnedIdentity(ofSource: source.id) : nil
        let (identity, decisions) = Deduplicator(policy: source.identity, learned: learned).resolve(keyed, known: known)
        record.identity = identity
        if identity.switched || (learned == nil && identity.reason != nil) {
            logger.notice(
                "items of this source are now told apart by \(identity.kind.rawValue)",
                metadata: ["source": "\(source.id)", "reason": "\(identity.reason ?? "configured")"])
        }

        // New items are classified first (their identifiers are story keys), then their stories
        // are looked up in one read of the store.
        var newItems: [Int: (classification: Classification, keys: ItemKeys)] = [:]
        for (index, decision) in decisions.enumerated() {
            guard case .new = decision else { continue }
            let classification = prepared.classifications[index]
            var keys = keyed[index].1
            keys.storyKeys = ItemKeys.storyKeys(for: classification.identifiers)
            newItems[index] = (classification, keys)
        }
        let order = newItems.keys.sorted()
        if !order.isEmpty {
            // From here to the commit, no other poll may look stories up or start them.
            try await turn.enter()
            holdsTurn = true
        }
        let stories = order.isEmpty ? StoryIndex(window: matcher.window) : try await storiesInWindow(at: record.at)
        let since = matcher.windowStart(at: record.at)

        var batch = StoryBatch()
        for (index, decision) in decisions.enumerated() {
            let (item, parsed) = (keyed[index], feed.items[index])
            switch decision {
            case .new(let identityKey, let identityKind):
                let (classification, keys) = newItems[index]!
                let publicID = ItemKeys.publicItemID(source: source.id, identityKey: identityKey)
                let story = placeInStory(
                    keys, title: item.0.title, publicID: publicID, stored: stories.candidates(for: keys, since: since),
                    batch: &batch, record: &record)
                record.newItems.append(
                    NewItem(
                        publicID: publicID, identityKey: identityKey, identityKind: identityKind, keys: keys,
                        guid: parsed.id, link: parsed.link, title: item.0.title, summary: parsed.summary,
                        content: parsed.content, language: feed.language, published: parsed.published,
                        updated: parsed.updated, classification: classification, story: story, provenance: provenance))
                batch.remember(keys, story: story)
                guard classification.relevant, !baseline else { continue }
                let announces = try await !isAnnounced(story, batch: batch)
                if announces { batch.announced.insert(story) }
                let body = try await eventBody(
                    type: "policy_item.created", itemID: publicID, item: item.0, classification: classification,
                    story: story, announces: announces, source: source.id, language: feed.language,
                    provenance: provenance, record: record)
                try self.record(body, story: story, announces: announces, in: &record)
            case .updated(let itemID, let changes):
                let classification = prepared.classifications[index]
                record.updates.append(
                    ItemUpdate(
                        itemID: itemID,
                        text: ItemText(title: item.0.title, summary: item.0.summary, content: item.0.content),
                        classification: classification))
                guard classification.relevant, !baseline, let stored = knownByID[itemID],
                    let publicID = stored.publicID, let storyID = stored.storyID
                else { continue }
                var body = try await eventBody(
                    type: "policy_item.updated", itemID: publicID, item: item.0, classification: classification,
                    story: .existing(storyID), announces: false, source: source.id, language: feed.language,
                    provenance: provenance, record: record)
                body.changes = changes.map { .init(field: $0.field, before: $0.before, after: $0.after) }
                try self.record(body, story: .existing(storyID), announces: false, in: &record)
            case .knownUnchanged(let itemID, true):
                record.updates.append(
                    ItemUpdate(
                        itemID: itemID,
                        text: ItemText(title: item.0.title, summary: item.0.summary, content: item.0.content),
                        classification: nil))
            case .knownUnchanged, .repeatedInFetch:
                continue
            }
        }
    }

    /// The story index, read from the store on first use; called with the turn held.
    private func storiesInWindow(at now: Date) async throws -> StoryIndex {
        if let stories { return stories }
        var index = StoryIndex(window: matcher.window)
        index.add(try await store.recentStoryEntries(since: matcher.windowStart(at: now)))
        stories = index
        return index
    }

    /// The stories this poll has started or joined so far, offered as candidates to its later
    /// items, and the ones it has announced.
    private struct StoryBatch {
        var fingerprints: [(keys: ItemKeys, story: StoryReference)] = []
        var announced: Set<StoryReference> = []

        mutating func remember(_ keys: ItemKeys, story: StoryReference) {
            fingerprints.append((keys, story))
        }

        /// Candidates among this poll's items; started stories get negative ids (-1 for the first).
        func candidates(for keys: ItemKeys) -> [StoryCandidate] {
            fingerprints.map { stored in
                let id: Int64 =
                    switch stored.story {
                    case .existing(let id): id
                    case .started(let index): -Int64(index) - 1
                    }
                return StoryCandidate(
                    storyID: id, simHash: stored.keys.simHash, headlineNumbers: stored.keys.headlineNumbers,
                    sharedKeys: Set(stored.keys.storyKeys).intersection(keys.storyKeys).sorted())
            }
        }
    }

    private func placeInStory(
        _ keys: ItemKeys, title: String, publicID: String, stored: [StoryCandidate], batch: inout StoryBatch,
        record: inout PollRecord
    ) -> StoryReference {
        switch matcher.decide(keys, candidates: stored + batch.candidates(for: keys)) {
        case .joins(let id, _) where id < 0: return .started(Int(-id - 1))
        case .joins(let id, _): return .existing(id)
        case .startsStory:
            record.newStories.append(
                NewStory(
                    publicID: ItemKeys.publicStoryID(foundedBy: publicID), title: title, simHash: keys.simHash))
            return .started(record.newStories.count - 1)
        }
    }

    private func isAnnounced(_ story: StoryReference, batch: StoryBatch) async throws -> Bool {
        if batch.announced.contains(story) { return true }
        guard case .existing(let id) = story else { return false }
        return try await store.story(id: id)?.announced ?? false
    }

    private func eventBody(
        type: String, itemID: String, item: DedupItem, classification: Classification, story: StoryReference,
        announces: Bool, source: String, language: String?, provenance: Provenance?, record: PollRecord
    ) async throws -> PolicyEventBody {
        let storyID: String
        var sources: [String]
        switch story {
        case .existing(let id):
            let summary = try await store.story(id: id)
            storyID = summary?.publicID ?? "sty_\(id)"
            sources = summary?.sources ?? []
        case .started(let index):
            storyID = record.newStories[index].publicID
            sources = []
        }
        if !sources.contains(source) { sources.append(source) }
        return PolicyEventBody(
            type: type, id: Self.newEventID(), occurredAt: record.at,
            item: .init(
                id: itemID, source: source, title: item.title, link: item.link, summary: item.summary,
                published: item.published, language: language,
                identifiers: classification.identifiers.map { "\($0.kind.rawValue):\($0.value)" },
                provenance: .init(
                    finalURL: provenance?.finalURL.absoluteString, fetchedAt: provenance?.fetchedAt,
                    sha256: provenance?.sha256)),
            topics: classification.topics.filter(\.passes).map {
                .init(id: $0.id, score: $0.score, matched: $0.matched)
            },
            story: .init(id: storyID, sources: sources, new: announces))
    }

    /// The event, and its outbox rows for the webhooks that want it.
    private func record(_ body: PolicyEventBody, story: StoryReference, announces: Bool, in record: inout PollRecord)
        throws
    {
        let payload = try body.encoded()
        record.events.append(
            PolicyEvent(
                id: body.id, type: body.type, itemPublicID: body.item.id, story: story, announcesStory: announces,
                occurredAt: body.occurredAt, payload: payload))
        let receivers = webhooks.filter { $0.wants(body) }.map(\.id)
        if !receivers.isEmpty {
            record.outbox.append(
                OutboxMessage(
                    eventID: body.id, eventType: body.type, payload: payload, webhookIDs: receivers,
                    itemPublicID: body.item.id))
        }
    }

    private func addHealthEvent(
        _ transition: SourceHealth.Transition, of source: SourceSettings, state: SourceFetchState, at now: Date,
        to record: inout PollRecord
    ) throws {
        let receivers = webhooks.filter { $0.wants(eventType: transition.rawValue) }.map(\.id)
        guard !receivers.isEmpty else { return }
        let (health, reason) = (state.health.state.name, state.health.state.reason)
        let body = SourceEventBody(
            type: transition.rawValue, id: Self.newEventID(), occurredAt: now,
            source: .init(
                id: source.id, url: state.currentURL.absoluteString, health: health, reason: reason,
                consecutiveFailures: state.health.consecutiveFailures))
        record.outbox.append(
            OutboxMessage(eventID: body.id, eventType: body.type, payload: try body.encoded(), webhookIDs: receivers))
    }

    static func newEventID() -> String {
        "evt_" + UUID().uuidString.replacing("-", with: "").lowercased()
    }
}

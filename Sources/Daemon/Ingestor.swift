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
/// Polls of different sources place their new items in stories one at a time: the story lookup
/// of one poll sees every story the previous one started, so two outlets reporting the same event
/// in the same cycle form one story. Being an actor is not enough for that (an actor takes other
/// calls while one awaits the store), so a poll with new items holds the story turn (an
/// ``AdmissionGate`` of one) from its story lookup until its record is submitted to the store;
/// polls without new items (most of them, once sources are known) do not wait for it.
///
/// The turn is not held to the commit: records wait for the store's writer together and share
/// its transactions (on a cold start, groups of dozens of polls write each index page once rather
/// than once per poll). So that later polls can join a story before it is committed, the ingestor
/// numbers new stories itself, adds each placed item to its ``StoryIndex`` at once, and keeps
/// what submitted polls did to stories (started, joined, announced) until they are committed,
/// since the store's readers cannot see it yet. A poll whose record fails takes its stories out
/// of the index; a later poll that joined one of them fails too (the story's foreign key), and
/// both sources are polled again next cycle.
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
    /// from its story lookup to its submission.
    private let turn = AdmissionGate(capacity: 1)
    /// The recent stories, once read from the store; changed only by the holder of the turn (and
    /// by a failed commit, which takes its stories out).
    private var stories: StoryIndex?
    /// The last story id given, read from the store with the index.
    private var lastStoryID: Int64 = 0
    /// What each submitted, not yet committed poll did to stories, by submission number.
    private var uncommitted: [Int: StoryChanges] = [:]
    private var submissions = 0

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
    /// The items' keys, which of them are new or changed, and their classifications are computed
    /// before the poll queues for the actor, so polls of different sources do that work in
    /// parallel; only the story decisions are serialised, and the commit is shared with other polls.
    /// - Parameters:
    ///   - poll: the poll's day and outcome, as the daily digest counts it.
    ///   - stored: the source as stored before the poll, when read (see ``PollRecord/stored``).
    ///   - whenSubmitted: called once the record is in the store's queue, before the commit is
    ///     awaited (the poller gives the document's place back then).
    public nonisolated func ingest(
        _ feed: ParsedFeed?, of source: SourceSettings, state: SourceFetchState,
        transitions: [SourceHealth.Transition], provenance: Provenance?, poll: PollOutcome? = nil,
        stored: StoredSource? = nil, at now: Date, whenSubmitted: @Sendable () -> Void = {}
    ) async throws -> Summary {
        var prepared: Prepared?
        if let feed { prepared = try await prepare(feed, of: source) }
        return try await record(
            prepared, of: source, state: state, transitions: transitions, provenance: provenance,
            poll: poll, stored: stored, at: now, whenSubmitted: whenSubmitted)
    }

    /// A document's items, what deduplication decided about each, and the story fingerprints and
    /// classifications of those that need them: computed before the poll queues for the actor.
    struct Prepared: Sendable {
        var feed: ParsedFeed
        /// Whether a document of the source was recorded before (its baseline).
        var hasHistory: Bool
        var keyed: [(DedupItem, ItemKeys)]
        /// The stored items that share a key with the document's.
        var known: [KnownItem]
        /// The identity kind the source had learnt before this document.
        var learned: IdentityKind?
        var identity: IdentityChoice
        var decisions: [ItemDecision]
        /// The classifications of the new and materially changed items (every one of them, once
        /// ``complete(with:)`` has run), by index.
        var classifications: [Int: Classification] = [:]

        /// Decides what each of `keyed` is, against the stored items that share a key with them.
        init(
            feed: ParsedFeed, keyed: [(DedupItem, ItemKeys)], hasHistory: Bool, known: [KnownItem],
            learned: IdentityKind?, policy: IdentityPolicy
        ) {
            self.feed = feed
            self.keyed = keyed
            self.hasHistory = hasHistory
            self.known = known
            self.learned = learned
            (identity, decisions) = Deduplicator(policy: policy, learned: learned).resolve(keyed, known: known)
        }

        /// Computes the story fingerprints of the new items, and classifies them and the changed ones.
        mutating func complete(with classifier: Classifier) {
            for (index, decision) in decisions.enumerated() {
                let item = keyed[index].0
                switch decision {
                case .new: keyed[index].1.addStoryFingerprint(of: item)
                case .updated: break
                case .knownUnchanged, .repeatedInFetch: continue
                }
                classifications[index] = classifier.classify(
                    title: item.title, summary: item.summary ?? item.content ?? "")
            }
        }

        var needsClassifier: Bool {
            decisions.contains {
                switch $0 {
                case .new, .updated: true
                case .knownUnchanged, .repeatedInFetch: false
                }
            }
        }

        static func identityKeys(of feed: ParsedFeed) -> [(DedupItem, ItemKeys)] {
            feed.items.map { item in
                let dedupItem = DedupItem(
                    guid: item.id, link: item.link, title: item.title ?? "", summary: item.summary,
                    content: item.content, published: item.published ?? item.updated)
                return (dedupItem, ItemKeys(identifying: dedupItem))
            }
        }
    }

    /// Decides what each of the document's items is (new, changed, known), then fingerprints and
    /// classifies only the items that need it: a known source's document lists mostly items
    /// stored before (a news feed gains one or two of its fifty between polls).
    private nonisolated func prepare(_ feed: ParsedFeed, of source: SourceSettings) async throws -> Prepared {
        // A source without a recorded document has no stored items and no learned identity to
        // look up (a cold start's thousand sources skip those reads), and every item is new: one
        // pass on the document queue does it all.
        guard try await store.isBaselined(source: source.id) else {
            let classifier = await classifierInUse()
            return try await DocumentWork.run {
                var prepared = Prepared(
                    feed: feed, keyed: Prepared.identityKeys(of: feed), hasHistory: false, known: [], learned: nil,
                    policy: source.identity)
                prepared.complete(with: classifier)
                return prepared
            }
        }
        let keyed = try await DocumentWork.run { Prepared.identityKeys(of: feed) }
        let prepared = Prepared(
            feed: feed, keyed: keyed, hasHistory: true,
            known: try await store.knownItems(ofSource: source.id, matching: keyed.map(\.1)),
            learned: try await store.learnedIdentity(ofSource: source.id), policy: source.identity)
        guard prepared.needsClassifier else { return prepared }
        let classifier = await classifierInUse()
        return try await DocumentWork.run {
            var completed = prepared
            completed.complete(with: classifier)
            return completed
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
        transitions: [SourceHealth.Transition], provenance: Provenance?, poll: PollOutcome?, stored: StoredSource?,
        at now: Date, whenSubmitted: @Sendable () -> Void
    ) async throws -> Summary {
        // Taken by `resolve` before a story lookup, when the poll has new items; held to the submission.
        var holdsTurn = false
        defer { if holdsTurn { turn.leave() } }
        var record = PollRecord(
            sourceID: source.id, kind: source.kind.rawValue, state: state, transitions: transitions, poll: poll,
            stored: stored, at: now)
        var summary = Summary()
        var changes = StoryChanges(source: source.id)
        do {
            if let prepared {
                summary.baseline = baselineNewSources && !prepared.hasHistory
                try await resolve(
                    prepared, of: source, provenance: provenance, baseline: summary.baseline, into: &record,
                    storyChanges: &changes, holdsTurn: &holdsTurn)
                summary.newItems = record.newItems.count
                summary.newRelevantItems = record.newItems.count { $0.classification.relevant }
                summary.updatedItems = record.events.count { $0.type == "policy_item.updated" }
            }
            for transition in transitions {
                try addHealthEvent(transition, of: source, state: state, at: now, to: &record)
            }
        } catch {
            // Stories placed in the index but never submitted: nobody may join them.
            stories?.forget(stories: record.newStories.compactMap(\.id))
            throw error
        }
        let started = record.newStories.compactMap(\.id)
        let pending = store.submit(consume record)
        let submission = submissions
        submissions += 1
        if !changes.stories.isEmpty { uncommitted[submission] = changes }
        if holdsTurn {
            holdsTurn = false
            turn.leave()
        }
        whenSubmitted()
        do {
            summary.commit = try await pending.committed()
        } catch {
            settle(submission, started: started, as: nil)
            throw error
        }
        settle(submission, started: started, as: summary.commit.startedStoryIDs)
        return summary
    }

    /// Forgets what a submitted poll did to stories once it is committed or has failed; the
    /// stories it started and did not store leave the index.
    /// - Parameters:
    ///   - started: the ids given to the stories it started.
    ///   - stored: the ids the store gave them; nil when nothing was stored.
    private func settle(_ submission: Int, started: [Int64], as stored: [Int64]?) {
        uncommitted[submission] = nil
        let lost = stored.map { stored in zip(started, stored).filter { $0 != $1 }.map(\.0) } ?? started
        if !lost.isEmpty { stories?.forget(stories: lost) }
    }

    /// What a poll did to stories, as later polls need to know before it is committed.
    private struct StoryChanges {
        /// The poll's source: a source of every story below.
        var source: String
        /// The stories its items started or joined.
        var stories: Set<Int64> = []
        /// The public ids of the stories it started.
        var started: [Int64: String] = [:]
        /// The stories its events announced.
        var announced: Set<Int64> = []
    }

    /// Records the document's new and changed items, with their stories and events.
    private func resolve(
        _ prepared: Prepared, of source: SourceSettings, provenance: Provenance?, baseline: Bool,
        into record: inout PollRecord, storyChanges: inout StoryChanges, holdsTurn: inout Bool
    ) async throws {
        let (feed, keyed, identity, decisions) = (prepared.feed, prepared.keyed, prepared.identity, prepared.decisions)
        let knownByID = Dictionary(prepared.known.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        record.identity = identity
        // The oldest item the document lists: item retention keeps it and every later one.
        let now = record.at
        record.listedSince = decisions.compactMap { decision -> Date? in
            switch decision {
            case .new: now
            case .knownUnchanged(let itemID, _), .updated(let itemID, _): knownByID[itemID]?.firstSeen ?? now
            case .repeatedInFetch: nil
            }
        }.min()
        if identity.switched || (prepared.learned == nil && identity.reason != nil) {
            logger.notice(
                "items of this source are now told apart by \(identity.kind.rawValue)",
                metadata: ["source": "\(source.id)", "reason": "\(identity.reason ?? "configured")"])
        }

        // New items are classified first (their identifiers are story keys), then placed in
        // stories, in order: each is in the index before the next is looked up.
        var newItems: [Int: (classification: Classification, keys: ItemKeys)] = [:]
        for (index, decision) in decisions.enumerated() {
            guard case .new = decision else { continue }
            let classification = prepared.classifications[index]!
            var keys = keyed[index].1
            keys.storyKeys = ItemKeys.storyKeys(for: classification.identifiers)
            newItems[index] = (classification, keys)
        }
        if !newItems.isEmpty {
            // From here to the submission, no other poll may look stories up or start them.
            try await turn.enter()
            holdsTurn = true
            try await loadStories(at: record.at)
        }
        let since = matcher.windowStart(at: record.at)

        for (index, decision) in decisions.enumerated() {
            let (item, parsed) = (keyed[index], feed.items[index])
            switch decision {
            case .new(let identityKey, let identityKind):
                let (classification, keys) = newItems[index]!
                let publicID = ItemKeys.publicItemID(source: source.id, identityKey: identityKey)
                let story = placeInStory(keys, title: item.0.title, publicID: publicID, since: since, record: &record)
                let storyID = id(of: story, in: record)
                stories?.add(
                    StoryIndex.Entry(
                        storyID: storyID, simHash: keys.simHash, headlineNumbers: keys.headlineNumbers,
                        storyKeys: keys.storyKeys, seenAt: record.at))
                storyChanges.stories.insert(storyID)
                if case .started(let started) = story {
                    storyChanges.started[storyID] = record.newStories[started].publicID
                }
                record.newItems.append(
                    NewItem(
                        publicID: publicID, identityKey: identityKey, identityKind: identityKind, keys: keys,
                        guid: parsed.id, link: parsed.link, title: item.0.title, summary: parsed.summary,
                        content: parsed.content, language: feed.language, published: parsed.published,
                        updated: parsed.updated, classification: classification, story: story, provenance: provenance))
                guard classification.relevant, !baseline else { continue }
                let view = try await view(of: storyID, thisPoll: storyChanges)
                let announces = !view.announced
                if announces { storyChanges.announced.insert(storyID) }
                let body = eventBody(
                    type: "policy_item.created", itemID: publicID, item: item.0, classification: classification,
                    story: view, announces: announces, source: source.id, language: feed.language,
                    provenance: provenance, at: record.at)
                try self.record(body, story: story, announces: announces, in: &record)
            case .updated(let itemID, let changes):
                let classification = prepared.classifications[index]!
                record.updates.append(
                    ItemUpdate(
                        itemID: itemID,
                        text: ItemText(title: item.0.title, summary: item.0.summary, content: item.0.content),
                        classification: classification))
                guard classification.relevant, !baseline, let stored = knownByID[itemID],
                    let publicID = stored.publicID, let storyID = stored.storyID
                else { continue }
                var body = eventBody(
                    type: "policy_item.updated", itemID: publicID, item: item.0, classification: classification,
                    story: try await view(of: storyID, thisPoll: storyChanges), announces: false, source: source.id,
                    language: feed.language, provenance: provenance, at: record.at)
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

    /// Reads the story index and the last story id from the store on first use; called with the
    /// turn held.
    private func loadStories(at now: Date) async throws {
        guard stories == nil else { return }
        var index = StoryIndex(window: matcher.window)
        index.add(try await store.recentStoryEntries(since: matcher.windowStart(at: now)))
        lastStoryID = max(lastStoryID, try await store.lastStoryID())
        stories = index
    }

    /// The story an item joins (one in the index: stored, submitted, or started earlier in this
    /// poll), or the one it starts, numbered after the last story id given.
    private func placeInStory(
        _ keys: ItemKeys, title: String, publicID: String, since: Date, record: inout PollRecord
    ) -> StoryReference {
        let candidates = stories?.candidates(for: keys, since: since) ?? []
        switch matcher.decide(keys, candidates: candidates) {
        case .joins(let id, _):
            if let started = record.newStories.firstIndex(where: { $0.id == id }) { return .started(started) }
            return .existing(id)
        case .startsStory:
            lastStoryID += 1
            record.newStories.append(
                NewStory(
                    id: lastStoryID, publicID: ItemKeys.publicStoryID(foundedBy: publicID), title: title,
                    simHash: keys.simHash))
            return .started(record.newStories.count - 1)
        }
    }

    private func id(of story: StoryReference, in record: PollRecord) -> Int64 {
        switch story {
        case .existing(let id): id
        case .started(let index): record.newStories[index].id!
        }
    }

    /// A story as a poll's event describes it.
    private struct StoryView {
        var publicID: String
        /// Its sources in order of their first report, this poll's last.
        var sources: [String]
        /// Whether an event has announced it.
        var announced: Bool
    }

    /// The story as the store holds it, with what submitted polls (in order) and this one did to
    /// it: one read of the store. Submitted polls are looked at before the store, so that a poll
    /// committed meanwhile is in the store's answer.
    private func view(of story: Int64, thisPoll: StoryChanges) async throws -> StoryView {
        let submitted = uncommitted.sorted { $0.key < $1.key }.map(\.value).filter { $0.stories.contains(story) }
        let stored = thisPoll.started[story] == nil ? try await store.story(id: story) : nil
        let publicID =
            stored?.publicID ?? thisPoll.started[story] ?? submitted.lazy.compactMap { $0.started[story] }.first
        var sources = stored?.sources ?? []
        for reporter in submitted.map(\.source) + [thisPoll.source] where !sources.contains(reporter) {
            sources.append(reporter)
        }
        let announced =
            thisPoll.announced.contains(story) || submitted.contains { $0.announced.contains(story) }
            || stored?.announced == true
        return StoryView(publicID: publicID ?? "sty_\(story)", sources: sources, announced: announced)
    }

    private func eventBody(
        type: String, itemID: String, item: DedupItem, classification: Classification, story: StoryView,
        announces: Bool, source: String, language: String?, provenance: Provenance?, at: Date
    ) -> PolicyEventBody {
        PolicyEventBody(
            type: type, id: Self.newEventID(), occurredAt: at,
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
            story: .init(id: story.publicID, sources: story.sources, new: announces))
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

import Classification
import Dedup
import Fetching
import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

@Suite("SQLite store: items, stories, events")
struct ItemStoreTests {
    struct StateFolder: ~Copyable {
        let url = FileManager.default.temporaryDirectory.appending(path: "ew-items-\(UUID().uuidString)/state")
        deinit { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    }

    static let now = Date(timeIntervalSince1970: 1_715_300_000)

    /// A poll that stores one new item starting its own story, with its created event.
    static func record(guid: String, title: String, at: Date = now) throws -> PollRecord {
        let url = URL(string: "https://www.bis.gov/rss")!
        let dedupItem = DedupItem(guid: guid, link: "https://www.bis.gov/\(guid)", title: title)
        let keys = ItemKeys(dedupItem)
        let publicID = ItemKeys.publicItemID(source: "bis", identityKey: keys.guidKey!)
        var record = PollRecord(
            sourceID: "bis", kind: "feed", state: SourceFetchState(url: url),
            identity: IdentityChoice(kind: .guid, reason: nil, switched: false), at: at)
        record.newStories = [
            NewStory(publicID: ItemKeys.publicStoryID(foundedBy: publicID), title: title, simHash: keys.simHash)
        ]
        record.newItems = [
            NewItem(
                publicID: publicID, identityKey: keys.guidKey!, identityKind: .guid, keys: keys, guid: guid,
                link: dedupItem.link, title: title, summary: nil, content: nil, language: "en", published: nil,
                updated: nil, classification: Classifier(topics: []).classify(title: title, summary: ""),
                story: .started(0), provenance: nil)
        ]
        record.events = [
            PolicyEvent(
                id: "evt_\(guid)", type: "policy_item.created", itemPublicID: publicID, story: .started(0),
                announcesStory: true, occurredAt: at, payload: Data("{}".utf8))
        ]
        return record
    }

    @Test("committing the same poll twice (a crash and restart before the state was saved) stores nothing twice")
    func secondCommitIsHarmless() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let record = try Self.record(guid: "a", title: "Commerce adds entities to the Entity List")
        let first = try await store.commit(record)
        #expect(first.insertedItems == 1 && first.eventIDs == ["evt_a"] && first.startedStoryIDs.count == 1)

        var replay = record
        replay.events[0].id = "evt_a-replayed"
        let second = try await store.commit(replay)
        #expect(second.insertedItems == 0 && second.alreadyStored == 1 && second.eventIDs.isEmpty)
        // The story keeps the id it was stored under.
        #expect(second.startedStoryIDs == first.startedStoryIDs)
        #expect(try await store.policyEvents(since: nil).map(\.id) == ["evt_a"])
        #expect(try await store.isBaselined(source: "bis"))
        #expect(try await store.learnedIdentity(ofSource: "bis") == .guid)
    }

    @Test("whether any stored item passed a topic or came from a source, configured or not")
    func itemsOfTopicOrSource() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        var record = try Self.record(guid: "a", title: "Commerce adds entities to the Entity List")
        let entityList = Topic(
            id: "entity-list-sanctions", name: "Entity List", terms: [.init("entity list", weight: 0.9)])
        record.newItems[0].classification = Classifier(topics: [entityList]).classify(
            title: record.newItems[0].title, summary: "")
        #expect(try await !store.hasItems(ofTopic: "entity-list-sanctions"))
        _ = try await store.commit(record)

        #expect(try await store.hasItems(ofTopic: "entity-list-sanctions"))
        #expect(try await !store.hasItems(ofTopic: "entity-list"))
        #expect(try await store.hasItems(ofSource: "bis"))
        #expect(try await !store.hasItems(ofSource: "bi"))
    }

    @Test("stories numbered by the caller keep their numbers; a later record may refer to one before it is committed")
    func numberedStories() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await store.lastStoryID() == 0)
        var first = try Self.record(guid: "a", title: "Commerce adds entities to the Entity List")
        first.newStories[0].id = 41
        var second = try Self.record(guid: "b", title: "Commerce adds entities to the Entity List - Reuters")
        second.newStories = []
        second.newItems[0].story = .existing(41)
        second.events[0].story = .existing(41)
        // Submitted in order, committed together (or in order).
        let (submittedFirst, submittedSecond) = (store.submit(first), store.submit(second))
        #expect(try await submittedFirst.committed().startedStoryIDs == [41])
        #expect(try await submittedSecond.committed().insertedItems == 1)
        #expect(try await store.lastStoryID() == 41)
        #expect(try await store.recentStoryEntries(since: Self.now).map(\.storyID) == [41, 41])

        // A record referring to a story that was never stored is refused whole.
        var dangling = try Self.record(guid: "c", title: "Unrelated")
        dangling.newStories = []
        dangling.newItems[0].story = .existing(99)
        dangling.events[0].story = .existing(99)
        await #expect(throws: (any Error).self) { try await store.commit(dangling) }
        #expect(try await store.policyEvents(since: nil).map(\.id) == ["evt_a", "evt_b"])
    }

    @Test("known items are found by any of their keys; recent items are offered to the story index")
    func lookups() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let title = "Commerce adds 37 Chinese entities to the Entity List"
        let committed = try await store.commit(try Self.record(guid: "a", title: title))

        let sameLink = ItemKeys(DedupItem(guid: "changed", link: "http://www.bis.gov/a?utm_source=x", title: "other"))
        let known = try await store.knownItems(ofSource: "bis", matching: [sameLink])
        #expect(known.map(\.text.title) == [title])
        #expect(known.first?.publicID?.hasPrefix("itm_") == true && known.first?.storyID != nil)
        let stored = ItemKeys(DedupItem(guid: "a", link: "https://www.bis.gov/a", title: title))
        #expect(known.first?.identityKey == "guid:a" && known.first?.guidKey == "guid:a")
        #expect(known.first?.linkKey == stored.linkKey && known.first?.contentKey == stored.contentKey)
        #expect(
            known.first?.firstSeen == Self.now
                && known.first?.text == ItemText(title: title, summary: nil, content: nil))
        #expect(try await store.knownItems(ofSource: "other", matching: [sameLink]).isEmpty)

        let keys = ItemKeys(DedupItem(guid: "b", link: "https://x/b", title: title + " - Reuters"))
        var index = StoryIndex(window: .seconds(3600))
        let recent = try await store.recentStoryEntries(since: Self.now.addingTimeInterval(-3600))
        #expect(recent.map(\.storyID) == committed.startedStoryIDs)
        index.add(recent)
        let candidates = index.candidates(for: keys, since: Self.now.addingTimeInterval(-3600))
        #expect(candidates.count == 1 && candidates.allSatisfy { $0.simHash != nil })
        #expect(try await store.recentStoryEntries(since: Self.now.addingTimeInterval(1)).isEmpty)

        let story = try #require(try await store.story(id: candidates[0].storyID))
        #expect(story.sources == ["bis"] && story.announced && story.publicID.hasPrefix("sty_"))
    }

    @Test("known items are found however many keys are asked, each once", arguments: [1, 3, 600])
    func lookupsOfAnyCount(asked: Int) async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        var record = try Self.record(guid: "item-0", title: "Entity List additions, part 0")
        record.events = []
        for number in 1..<600 {
            var item = try #require(
                try Self.record(guid: "item-\(number)", title: "Entity List additions, part \(number)").newItems.first)
            item.story = .started(0)
            record.newItems.append(item)
        }
        _ = try await store.commit(record)

        // Asked by guid, then by link alone (the guids changed): 600 items ask 1,800 identity keys.
        let byGUID = (0..<asked).map { ItemKeys(DedupItem(guid: "item-\($0)", link: nil, title: "")) }
        let byLink = (0..<asked).map {
            ItemKeys(DedupItem(guid: "changed-\($0)", link: "https://www.bis.gov/item-\($0)", title: ""))
        }
        for keys in [byGUID, byLink] {
            let known = try await store.knownItems(ofSource: "bis", matching: keys)
            let found = Set(known.map(\.text.title))
            let missing = Set((0..<asked).map { "Entity List additions, part \($0)" }).subtracting(found)
            #expect(found.count == asked && missing.isEmpty, "\(missing.count) of \(asked) not found")
            // Each once, though most are found by their identity key, guid and link alike.
            #expect(known.count == asked && known.map(\.id) == known.map(\.id).sorted())
        }
    }

    @Test("keys with quotes, backslashes, control characters and CJK are looked up as they are")
    func lookupsOfAwkwardKeys() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let guids = ["say \"no\"", #"C:\feeds\1"#, "tab\there\u{1}", "商务部公告2024年第1号", "[\"]"]
        for guid in guids { _ = try await store.commit(try Self.record(guid: guid, title: "Item \(guid)")) }

        for guid in guids {
            let known = try await store.knownItems(
                ofSource: "bis", matching: [ItemKeys(DedupItem(guid: guid, link: nil, title: ""))])
            #expect(known.map(\.text.title) == ["Item \(guid)"], "\(guid)")
        }
        #expect(SQLiteEventStore.jsonArray(["a\"b", "c\\d\u{1F}"]) == #"["a\"b","c\\d\u001f"]"#)
    }

    @Test("pruning the outbox removes old sent and dead rows with their attempts, never a pending one")
    func pruneOutbox() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let old = Self.now.addingTimeInterval(-40 * 86_400)
        try await store.enqueue(
            ["evt_sent", "evt_dead", "evt_pending"].map {
                OutboxMessage(
                    eventID: $0, eventType: "policy_item.created", payload: Data("{}".utf8), webhookIDs: ["hook"])
            }, at: old)
        let attempt = DeliveryAttempt(at: old, status: 200, duration: .milliseconds(5), error: nil)
        try await store.record(attempt, ofEvent: "evt_sent", webhook: "hook", resolution: .sent)
        try await store.record(attempt, ofEvent: "evt_dead", webhook: "hook", resolution: .dead)
        #expect(try await store.pendingDeliveryCounts() == ["hook": 1])
        #expect(try await store.pruneOutbox(before: Self.now.addingTimeInterval(-30 * 86_400)) == 2)
        #expect(try await store.outbox(failedOnly: false, limit: 10).map(\.eventID) == ["evt_pending"])
        #expect(try await store.pendingDeliveryCounts() == ["hook": 1])
        #expect(try await store.deliveryAttempts(ofEvent: "evt_sent").isEmpty)
    }

    @Test("item retention deletes old items their source lists no more, with events and emptied stories")
    func pruneItems() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let day = 86_400.0
        let start = Self.now.addingTimeInterval(-800 * day)
        func poll(_ guid: String, source: String = "bis", at: Date, listedSince: Date?) async throws {
            var record = try Self.record(guid: guid, title: "Commerce revises export rule \(guid)", at: at)
            record.sourceID = source
            record.listedSince = listedSince
            _ = try await store.commit(record)
        }
        func guids() async throws -> [String] {
            try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT guid FROM item ORDER BY id") }
        }
        // 800 days ago the feed listed "old"; 750 days ago it listed "kept" alone. A source whose
        // listing is unknown (a database from before listings were recorded) keeps its items.
        try await poll("old", at: start, listedSince: start)
        try await store.enqueue(
            [
                OutboxMessage(
                    eventID: "evt_old", eventType: "policy_item.created", payload: Data("{}".utf8), webhookIDs: ["hook"]
                )
            ],
            at: start)
        try await poll("kept", at: start + 50 * day, listedSince: start + 50 * day)
        try await poll("unknown", source: "mofcom", at: start, listedSince: nil)
        let oldStory = try #require(
            try await store.pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT story_id FROM item WHERE guid = 'old'")
            })

        let cutoff = Self.now.addingTimeInterval(-730 * day)
        #expect(try await store.pruneItems(firstSeenBefore: cutoff, batch: 1) == ItemPruning(items: 1, stories: 1))
        #expect(try await guids() == ["kept", "unknown"])
        #expect(try await store.policyEvents(since: nil).map(\.id).sorted() == ["evt_kept", "evt_unknown"])
        #expect(try await store.story(id: oldStory) == nil)
        // The event's delivery carries its own payload: pending, it is still sent.
        #expect(try await store.pendingDeliveryCounts() == ["hook": 1])

        // Once the feed lists only a newer item, "kept" goes too; asking again deletes nothing more.
        try await poll("new", at: Self.now, listedSince: Self.now)
        #expect(try await store.pruneItems(firstSeenBefore: cutoff, batch: 1) == ItemPruning(items: 1, stories: 1))
        #expect(try await guids() == ["unknown", "new"])
        #expect(try await store.pruneItems(firstSeenBefore: cutoff, batch: 1) == ItemPruning())
        // A document that listed no items leaves the listing as it was.
        try await poll("later", at: Self.now + day, listedSince: nil)
        #expect(try await store.pruneItems(firstSeenBefore: Self.now + 0.5 * day, batch: 10) == ItemPruning())

        // A prune whose task is cancelled (the daemon's SIGTERM) starts no further transaction.
        try await poll("last", at: Self.now + 2 * day, listedSince: Self.now + 2 * day)
        let stopped = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await store.pruneItems(firstSeenBefore: Self.now + 3 * day, batch: 1)
        }
        await #expect(throws: CancellationError.self) { try await stopped.value }
        #expect(try await guids() == ["unknown", "new", "later", "last"])
    }

    @Test("health transitions past the retention go, except each source's latest")
    func pruneHealthEvents() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let day = 86_400.0
        func poll(_ source: String, _ transition: SourceHealth.Transition, daysAgo: Double) async throws {
            _ = try await store.commit(
                PollRecord(
                    sourceID: source, kind: "feed",
                    state: SourceFetchState(url: URL(string: "https://\(source).gov/rss")!),
                    transitions: [transition], at: Self.now - daysAgo * day))
        }
        // BIS's feed went down and came back two years ago, and went down again last week; MOFCOM's
        // page went down two years ago and has not come back.
        try await poll("bis", .down, daysAgo: 800)
        try await poll("bis", .recovered, daysAgo: 799)
        try await poll("bis", .down, daysAgo: 7)
        try await poll("mofcom", .down, daysAgo: 800)

        #expect(try await store.pruneHealthEvents(before: Self.now - 730 * day) == 2)
        #expect(try await store.healthEvents(ofSource: "bis").map(\.transition) == [.down])
        #expect(try await store.healthEvents(ofSource: "bis").map(\.occurredAt) == [Self.now - 7 * day])
        #expect(try await store.healthEvents(ofSource: "mofcom").map(\.transition) == [.down])
        #expect(try await store.pruneHealthEvents(before: Self.now) == 0)
    }

    @Test("due rows, the next due time and the pending counts are of the webhooks asked for; others wait unread")
    func deliveriesByWebhook() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let message = { (event: String, webhook: String) in
            OutboxMessage(
                eventID: event, eventType: "policy_item.created", payload: Data("{}".utf8), webhookIDs: [webhook])
        }
        // Three rows of a removed webhook, older than the live one's: they must not use up the limit.
        try await store.enqueue(
            (1...3).map { message("evt_old\($0)", "removed") }, at: Self.now.addingTimeInterval(-60))
        try await store.enqueue([message("evt_new", "live")], at: Self.now)
        let due = try await store.dueDeliveries(
            forWebhooks: ["live"], at: Self.now, orAfter: Self.now.addingTimeInterval(86_400), limit: 1)
        #expect(due.map(\.eventID) == ["evt_new"])
        #expect(try await store.nextDeliveryTime(forWebhooks: ["live"]) == Self.now)
        #expect(try await store.nextDeliveryTime(forWebhooks: []) == nil)
        #expect(try await store.pendingDeliveryCounts() == ["removed": 3, "live": 1])

        #expect(try await store.discardPendingDeliveries(ofWebhook: "removed", reason: "discarded") == 3)
        #expect(try await store.pendingDeliveryCounts() == ["live": 1])
        let dead = try await store.outbox(failedOnly: true, limit: 10)
        #expect(dead.count == 3 && dead.allSatisfy { $0.webhookID == "removed" && $0.lastError == "discarded" })
    }

    /// Commits 40 polls from different sources while the writer is held, so that all of them queue
    /// for one group; poll `failing`, if any, cites a story that does not exist.
    static func commitWhileWriterBusy(_ store: SQLiteEventStore, failing: Int? = nil) async throws -> [Int: Result<
        CommitSummary, any Error
    >] {
        let hold = WriterHold()
        // The writer is held until all 40 are queued (on a busy machine that can take a while).
        let writerHeld = Task {
            try await store.pool.write { _ in
                hold.holding.withLock { $0 = true }
                let deadline = Date().addingTimeInterval(30)
                while hold.queued.withLock({ $0 }) < 40 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            }
        }
        while !hold.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let results = await withTaskGroup(of: (Int, Result<CommitSummary, any Error>).self) { group in
            for poll in 0..<40 {
                group.addTask {
                    var record = try! Self.record(guid: "g\(poll)", title: "Entity List additions, part \(poll)")
                    record.sourceID = "source-\(poll)"
                    record.events = []
                    if poll == failing {
                        // An item of a story that does not exist: a foreign-key violation.
                        record.newStories = []
                        record.newItems[0].story = .existing(999_999)
                    }
                    let pending = store.submit(record)
                    hold.queued.withLock { $0 += 1 }
                    do { return (poll, .success(try await pending.committed())) } catch {
                        return (poll, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        try await writerHeld.value
        return results
    }

    @Test("polls that arrive while the writer is busy share one transaction")
    func groupCommit() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let commits = CommitCounter()
        try await store.pool.write { db in db.add(transactionObserver: commits, extent: .databaseLifetime) }
        let results = try await Self.commitWhileWriterBusy(store)
        #expect(results.values.allSatisfy { (try? $0.get().insertedItems) == 1 })
        #expect(commits.count.withLock { $0 } < 5)
        #expect(try await store.sources().count == 40)
    }

    @Test("a poll that fails in a shared transaction is lost alone, and its caller told")
    func groupCommitFailure() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let results = try await Self.commitWhileWriterBusy(store, failing: 17)
        for (poll, result) in results {
            switch result {
            case .success(let summary): #expect(poll != 17 && summary.insertedItems == 1)
            case .failure: #expect(poll == 17)
            }
        }
        let stored = try await store.sources().keys
        #expect(stored.count == 39 && !stored.contains("source-17"))
        #expect(try await store.recentStoryEntries(since: Self.now.addingTimeInterval(-60)).count == 39)
    }
}

/// Counts the transactions that wrote a source row.
/// Whether a test holds the writer, and how many polls have queued behind it.
final class WriterHold: Sendable {
    let holding = Mutex(false)
    let queued = Mutex(0)
}

final class CommitCounter: TransactionObserver, Sendable {
    let count = Mutex(0)
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "source" }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { count.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: Database) {}
}

import Classification
import Dedup
import Delivery
import Feeds
import Foundation
import GRDB
import Logging
import Store
import Testing

@testable import Daemon
@testable import Fetching

/// The Deduplicator → Classifier → Store stages over a real SQLite store: what is announced, and what is not.
@Suite("Ingesting polls")
struct IngestorTests {
    struct Fixture: ~Copyable {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-ingest-\(UUID().uuidString)")
        let store: SQLiteEventStore
        let ingestor: Ingestor
        var clock = Date(timeIntervalSince1970: 1_715_300_000)

        init(baseline: Bool = false, webhooks: [Webhook] = []) throws {
            store = try SQLiteEventStore(stateDirectory: folder)
            ingestor = Ingestor(
                store: store, topics: ConfigurationLoader().builtInTopics(),
                baselineNewSources: baseline, webhooks: webhooks,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        /// Records a fetch of `items` from `source`, an hour after the previous one.
        mutating func poll(_ source: String, _ items: [ParsedItem], identity: IdentityPolicy = .auto) async throws
            -> Ingestor.Summary
        {
            clock += 3600
            var feed = ParsedFeed(format: .rss20)
            feed.items = items
            let url = URL(string: "https://\(source).example/feed")!
            return try await ingestor.ingest(
                feed, of: SourceSettings(id: source, url: url, identity: identity), state: SourceFetchState(url: url),
                transitions: [], provenance: nil, at: clock)
        }

        func events() async throws -> [PolicyEventBody] {
            try await store.policyEvents(since: nil).map { try PolicyEventBody.decode($0.payload) }
        }
    }

    static func item(
        id: String?, title: String, summary: String, link: String,
        published: Date? = Date(timeIntervalSince1970: 1_715_000_000)
    ) -> ParsedItem {
        var item = ParsedItem()
        item.id = id
        item.title = title
        item.summary = summary
        item.link = link
        item.published = published
        return item
    }

    static let entityList = item(
        id: "bis-2024-05-09", title: "Commerce Adds 37 Chinese Entities to the Entity List",
        summary: "The Bureau of Industry and Security added 37 entities to the Entity List for supporting China's "
            + "military modernization and its quantum computing efforts, imposing license requirements on exports.",
        link: "https://www.bis.gov/press-release/commerce-adds-37-entities")

    @Test("a relevant new item is announced once, with its topics, identifiers and story")
    func createdEvent() async throws {
        var fixture = try Fixture()
        let first = try await fixture.poll("bis-press", [Self.entityList])
        #expect(first.newItems == 1 && first.newRelevantItems == 1)
        let again = try await fixture.poll("bis-press", [Self.entityList])
        #expect(again.newItems == 0)
        let events = try await fixture.events()
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.type == "policy_item.created")
        #expect(event.id.hasPrefix("evt_") && event.item.id.hasPrefix("itm_") && event.story.id.hasPrefix("sty_"))
        #expect(event.item.source == "bis-press" && event.story.sources == ["bis-press"] && event.story.new)
        #expect(event.topics.contains { $0.id == "entity-list-sanctions" })
    }

    @Test("a new source's first fetch is a baseline: stored, not announced")
    func baseline() async throws {
        var fixture = try Fixture(baseline: true)
        let first = try await fixture.poll("bis-press", [Self.entityList])
        #expect(first.baseline && first.newItems == 1)
        var next = Self.entityList
        next.id = "bis-2024-06-01"
        next.title = "Commerce Tightens Export Controls on Advanced AI Chips to China"
        next.summary = "BIS issued an interim final rule adding license requirements for advanced computing items."
        next.link = "https://www.bis.gov/press-release/ai-chips"
        let second = try await fixture.poll("bis-press", [next, Self.entityList])
        #expect(!second.baseline && second.newItems == 1)
        #expect(try await fixture.events().map(\.item.title) == [next.title])
    }

    @Test("a feed whose guids change on every fetch produces no new events")
    func churningGuids() async throws {
        var fixture = try Fixture()
        func fetch(_ round: Int) -> [ParsedItem] {
            (1...3).map { number in
                Self.item(
                    id: "urn:uuid:\(round)-\(number)",
                    title: "Commerce adds entities to the Entity List, case \(number)",
                    summary: "BIS imposed export license requirements on \(number * 7) Chinese chip firms.",
                    link: "https://www.bis.gov/press/\(number)")
            }
        }
        _ = try await fixture.poll("churn", fetch(1))
        let before = try await fixture.events().count
        for round in 2...4 {
            let summary = try await fixture.poll("churn", fetch(round))
            #expect(summary.newItems == 0)
        }
        #expect(try await fixture.events().count == before)
        #expect(try await fixture.store.learnedIdentity(ofSource: "churn") == .link)
    }

    /// One wire story, as the outlets that run it start it.
    static let wireLead =
        "The U.S. Commerce Department on Thursday added 37 Chinese entities to its export blacklist, the Entity "
        + "List, citing support for China's military modernization and quantum computing efforts."
    static let wireTitle = "US adds 37 Chinese entities to export blacklist over military, quantum ties"
    static let reutersReport = item(
        id: "r1", title: wireTitle + " - Reuters", summary: wireLead, link: "https://www.reuters.com/t/1")

    @Test("the same wire story from three outlets is one story, announced once")
    func wireStory() async throws {
        var fixture = try Fixture()
        let (lead, title) = (Self.wireLead, Self.wireTitle)
        _ = try await fixture.poll("reuters", [Self.reutersReport])
        _ = try await fixture.poll(
            "yahoo",
            [
                Self.item(
                    id: "y1", title: title, summary: lead + " The move follows pressure from lawmakers in Congress.",
                    link: "https://finance.yahoo.com/n/1?utm_source=rss")
            ])
        _ = try await fixture.poll(
            "ap", [Self.item(id: "a1", title: title + " | AP News", summary: lead, link: "https://apnews.com/a/1")])
        let events = try await fixture.events()
        #expect(events.count == 3)
        #expect(events.filter(\.story.new).count == 1)
        #expect(Set(events.map(\.story.id)).count == 1)
        #expect(events.last?.story.sources == ["reuters", "yahoo", "ap"])
    }

    @Test("two outlets ingested at the same time still form one story, announced once")
    func concurrentOutlets() async throws {
        let fixture = try Fixture()
        let (lead, title) = (Self.wireLead, Self.wireTitle)
        let (ingestor, clock) = (fixture.ingestor, fixture.clock)
        for round in 0..<5 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (source, suffix) in [("reuters\(round)", " - Reuters"), ("ap\(round)", " | AP News")] {
                    group.addTask {
                        var feed = ParsedFeed(format: .rss20)
                        feed.items = [
                            Self.item(
                                id: source, title: title + suffix, summary: lead, link: "https://\(source).example/1")
                        ]
                        let url = URL(string: "https://\(source).example/feed")!
                        _ = try await ingestor.ingest(
                            feed, of: SourceSettings(id: source, url: url), state: SourceFetchState(url: url),
                            transitions: [], provenance: nil, at: clock.addingTimeInterval(Double(round) * 86_400 * 8))
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = try await fixture.events()
        #expect(events.count == 10)
        #expect(events.filter(\.story.new).count == 5)
        #expect(Set(events.map(\.story.id)).count == 5)
    }

    /// Holds the store's write lock from another connection until `release()`: records submitted
    /// meanwhile wait, uncommitted, for the writer.
    final class WriterBlock: Sendable {
        private let queue: DatabaseQueue
        private let released = AsyncStream<Void>.makeStream()
        private let holding: Task<Void, any Error>

        init(database: URL) async throws {
            let queue = try DatabaseQueue(path: database.path)
            let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
            let released = released
            holding = Task {
                try await queue.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    lockedSignal.yield()
                    // Blocks this connection's queue, not the test's tasks.
                    let semaphore = DispatchSemaphore(value: 0)
                    Task {
                        for await _ in released.stream { break }; semaphore.signal()
                    }
                    semaphore.wait()
                    try db.execute(sql: "COMMIT")
                }
            }
            self.queue = queue
            for await _ in locked { break }
        }

        func release() async throws {
            released.continuation.yield()
            try await holding.value
        }
    }

    /// A poll of `item` from `source` on its own task, and a stream that yields once its record
    /// is in the store's queue (before it commits): what a test waits on to order polls. The
    /// stream ends with the poll, so a poll that fails before it submits cannot hang the test.
    static func submitting(
        _ item: ParsedItem, from source: String, to ingestor: Ingestor, at: Date
    ) -> (Task<Ingestor.Summary, any Error>, AsyncStream<Void>) {
        let (submitted, submission) = AsyncStream<Void>.makeStream()
        let task = Task {
            defer { submission.finish() }
            var feed = ParsedFeed(format: .rss20)
            feed.items = [item]
            let url = URL(string: "https://\(source).example/feed")!
            return try await ingestor.ingest(
                feed, of: SourceSettings(id: source, url: url), state: SourceFetchState(url: url), transitions: [],
                provenance: nil, at: at, whenSubmitted: { submission.yield() })
        }
        return (task, submitted)
    }

    @Test(
        "a poll joins a story another has started and not yet committed, and does not announce it again",
        .timeLimit(.minutes(1)))
    func joinsUncommittedStory() async throws {
        var fixture = try Fixture()
        _ = try await fixture.poll("seed", [Self.item(id: "s", title: "Unrelated", summary: "", link: "https://s/1")])
        let block = try await WriterBlock(database: fixture.folder.appending(path: SQLiteEventStore.fileName))
        let (ingestor, at) = (fixture.ingestor, fixture.clock + 3600)
        // Both records are submitted while the writer is held: AP's story lookup ran before
        // Reuters's record was committed.
        let (reuters, reutersSubmitted) = Self.submitting(Self.reutersReport, from: "reuters", to: ingestor, at: at)
        for await _ in reutersSubmitted { break }
        let apItem = Self.item(
            id: "a1", title: Self.wireTitle + " | AP News", summary: Self.wireLead, link: "https://ap/1")
        let (ap, apSubmitted) = Self.submitting(apItem, from: "ap", to: ingestor, at: at)
        for await _ in apSubmitted { break }
        #expect(try await fixture.events().count == 0)
        try await block.release()
        _ = try await (reuters.value, ap.value)

        let events = try await fixture.events()
        try #require(events.map(\.item.source) == ["reuters", "ap"])
        #expect(events.map(\.story.new) == [true, false])
        #expect(Set(events.map(\.story.id)).count == 1 && events[0].story.id.hasPrefix("sty_"))
        #expect(events.last?.story.sources == ["reuters", "ap"])
    }

    @Test(
        "when a poll's record fails, a poll that joined its story fails too, and next time starts the story afresh",
        .timeLimit(.minutes(1)))
    func failedStoryIsForgotten() async throws {
        var fixture = try Fixture()
        _ = try await fixture.poll("seed", [Self.item(id: "s", title: "Unrelated", summary: "", link: "https://s/1")])
        let database = fixture.folder.appending(path: SQLiteEventStore.fileName)
        // Every item of `broken` is refused, as a full disk would refuse it.
        try await DatabaseQueue(path: database.path).write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_broken BEFORE INSERT ON item WHEN NEW.source_id = 'broken'
                    BEGIN SELECT RAISE(ABORT, 'refused for the test'); END
                    """)
        }
        let block = try await WriterBlock(database: database)
        let (ingestor, at) = (fixture.ingestor, fixture.clock + 3600)
        let apItem = Self.item(
            id: "a1", title: Self.wireTitle + " | AP News", summary: Self.wireLead, link: "https://ap/1")
        // Both records wait in the store's queue behind the held writer, AP's having joined the
        // story of the broken one (waited for, not slept on: a loaded machine is slow to get there).
        let (broken, brokenSubmitted) = Self.submitting(Self.reutersReport, from: "broken", to: ingestor, at: at)
        for await _ in brokenSubmitted { break }
        let (ap, apSubmitted) = Self.submitting(apItem, from: "ap", to: ingestor, at: at)
        for await _ in apSubmitted { break }
        try await block.release()
        await #expect(throws: (any Error).self) { try await broken.value }
        await #expect(throws: (any Error).self) { try await ap.value }
        #expect(try await fixture.events().isEmpty)

        // AP polled again: its item starts a story of its own, which is announced.
        let again = try await Self.submitting(apItem, from: "ap", to: ingestor, at: at).0.value
        #expect(again.newItems == 1 && again.commit.startedStoryIDs.count == 1)
        let events = try await fixture.events()
        #expect(events.map(\.story.new) == [true] && events.first?.story.sources == ["ap"])
    }

    @Test("a story started before a restart is joined after it, and not announced again")
    func storyAcrossRestart() async throws {
        var fixture = try Fixture()
        let (lead, title) = (Self.wireLead, Self.wireTitle)
        _ = try await fixture.poll("reuters", [Self.reutersReport])

        // A new process: its ingestor knows the story only from the store.
        let restarted = Ingestor(
            store: fixture.store, topics: ConfigurationLoader().builtInTopics(),
            baselineNewSources: false, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var feed = ParsedFeed(format: .rss20)
        feed.items = [Self.item(id: "a1", title: title + " | AP News", summary: lead, link: "https://apnews.com/a/1")]
        let url = URL(string: "https://ap.example/feed")!
        _ = try await restarted.ingest(
            feed, of: SourceSettings(id: "ap", url: url), state: SourceFetchState(url: url), transitions: [],
            provenance: nil, at: fixture.clock + 3600)

        let events = try await fixture.events()
        #expect(events.count == 2 && Set(events.map(\.story.id)).count == 1)
        #expect(events.map(\.story.new) == [true, false])
        #expect(events.last?.story.sources == ["reuters", "ap"])
    }

    @Test("an English and a Chinese report of one Federal Register document share a story")
    func identifierJoin() async throws {
        var fixture = try Fixture()
        _ = try await fixture.poll(
            "fr-bis",
            [
                Self.item(
                    id: "2024-07004",
                    title: "Implementation of Additional Export Controls: Certain Advanced Computing Items",
                    summary: "BIS issues an interim final rule (FR Doc. 2024-07004) revising export controls on "
                        + "advanced computing items and semiconductor manufacturing items.",
                    link: "https://www.federalregister.gov/d/2024-07004")
            ])
        _ = try await fixture.poll(
            "mofcom",
            [
                Self.item(
                    id: "zh-1", title: "商务部新闻发言人就美方出口管制规则答记者问",
                    summary: "美方发布暂行最终规则（FR Doc. 2024-07004），进一步收紧对华芯片出口管制，中方坚决反对。",
                    link: "https://www.mofcom.gov.cn/xwfb/2024/0405.html")
            ])
        let events = try await fixture.events()
        #expect(events.count == 2)
        #expect(Set(events.map(\.story.id)).count == 1)
        #expect(events.map(\.story.new) == [true, false])
    }

    @Test("re-dating an old item announces nothing; a real edit announces one update")
    func redatingAndEditing() async throws {
        var fixture = try Fixture()
        _ = try await fixture.poll("bis-press", [Self.entityList])
        var redated = Self.entityList
        redated.published = Date(timeIntervalSince1970: 1_716_000_000)
        redated.summary = "<p>" + (Self.entityList.summary ?? "") + "</p>\n"
        #expect(try await fixture.poll("bis-press", [redated]).updatedItems == 0)
        #expect(try await fixture.events().count == 1)

        var edited = redated
        edited.summary = (Self.entityList.summary ?? "") + " The rule takes effect on May 15, 2024."
        let summary = try await fixture.poll("bis-press", [edited])
        #expect(summary.updatedItems == 1)
        let events = try await fixture.events()
        try #require(events.map(\.type) == ["policy_item.created", "policy_item.updated"])
        #expect(events[1].item.id == events[0].item.id && events[1].story.id == events[0].story.id)
        #expect(events[1].changes.map(\.field) == ["summary"])
        #expect(try await fixture.poll("bis-press", [edited]).updatedItems == 0)
    }

    @Test("item retention removes what a feed no longer lists, and keeps what it lists however old")
    func retentionFollowsTheListing() async throws {
        var fixture = try Fixture()
        func item(_ id: String) -> ParsedItem {
            Self.item(
                id: id, title: "Commerce revises the advanced computing rule, part \(id)",
                summary: "BIS revised export controls on AI chips, part \(id).", link: "https://www.bis.gov/\(id)")
        }
        func stored() async throws -> [String] {
            let keys = ["a", "b", "c"].map { ItemKeys(DedupItem(guid: $0, link: nil, title: "")) }
            return try await fixture.store.knownItems(ofSource: "bis", matching: keys).map(\.text.title)
                .map { String($0.suffix(1)) }
        }
        _ = try await fixture.poll("bis", [item("a")])
        _ = try await fixture.poll("bis", [item("a"), item("b")])
        _ = try await fixture.poll("bis", [item("b"), item("c")])
        // Everything is older than the cutoff; "a" alone is no longer listed.
        var pruned = try await fixture.store.pruneItems(firstSeenBefore: fixture.clock + 1, batch: 100)
        #expect(pruned.items == 1)
        #expect(try await stored() == ["b", "c"])

        _ = try await fixture.poll("bis", [item("c")])
        pruned = try await fixture.store.pruneItems(firstSeenBefore: fixture.clock + 1, batch: 100)
        #expect(pruned.items == 1)
        #expect(try await stored() == ["c"])
        // A page that lists nothing (a broken page) leaves the listing, and the item, as they were.
        _ = try await fixture.poll("bis", [])
        pruned = try await fixture.store.pruneItems(firstSeenBefore: fixture.clock + 1, batch: 100)
        #expect(pruned.items == 0)
        #expect(try await stored() == ["c"])
    }

    @Test("an irrelevant item is stored and never announced")
    func irrelevant() async throws {
        var fixture = try Fixture()
        let summary = try await fixture.poll(
            "bakery",
            [
                Self.item(
                    id: "c", title: "New chocolate chips recipe", summary: "Bake at 180 degrees.", link: "https://b/1")
            ])
        #expect(summary.newItems == 1 && summary.newRelevantItems == 0)
        #expect(try await fixture.events().isEmpty)
    }

    @Test("events reach the outbox of the webhooks that want them, in the poll's transaction")
    func outboxRouting() async throws {
        func hook(_ id: String, events: Set<String>, topics: Set<String> = []) -> Webhook {
            Webhook(
                id: id, url: URL(string: "https://example.org/\(id)")!, format: .json,
                signer: WebhookSigner(scheme: .none), events: events, topics: topics)
        }
        var fixture = try Fixture(webhooks: [
            hook("chips", events: ["policy_item.created"], topics: ["chip-controls"]),
            hook("all", events: ["policy_item.created", "source.down"]),
        ])
        let chips = Self.item(
            id: "chips-1", title: "US tightens export controls on Nvidia H20 chips to China",
            summary: "The Commerce Department said Nvidia needs a license to export H20 AI chips to China.",
            link: "https://www.bis.gov/chips")
        _ = try await fixture.poll("bis-press", [Self.entityList, chips])
        let rows = try await fixture.store.outbox(failedOnly: false, limit: 10)
        #expect(rows.filter { $0.webhookID == "all" }.count == 2)
        let chipRows = rows.filter { $0.webhookID == "chips" }
        #expect(chipRows.count == 1)
        #expect(try PolicyEventBody.decode(try #require(chipRows.first).payload).item.title == chips.title)

        let url = URL(string: "https://bis-press.example/feed")!
        var state = SourceFetchState(url: url)
        var random = SystemRandomNumberGenerator()
        let policy = PollPolicy(interval: .seconds(900), failureThreshold: 1)
        let failure = FetchOutcome.failed(FetchError(code: .transport, url: url, message: "connection refused"))
        let result = state.record(failure, at: fixture.clock, policy: policy, using: &random)
        _ = try await fixture.ingestor.ingest(
            nil, of: SourceSettings(id: "bis-press", url: url), state: state,
            transitions: [result.transition].compactMap { $0 },
            provenance: nil, at: fixture.clock)
        let down = try await fixture.store.outbox(failedOnly: false, limit: 10).filter { $0.eventType == "source.down" }
        #expect(down.map(\.webhookID) == ["all"])
        #expect(
            try SourceEventBody.decode(try #require(down.first).payload).source.reason?.contains("connection refused")
                == true)
    }
}

import Dedup
import Fetching
import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

@Suite("SQLite store")
struct SQLiteEventStoreTests {
    /// A fresh folder for one test's state, removed afterwards.
    struct StateFolder: ~Copyable {
        let url = FileManager.default.temporaryDirectory.appending(path: "ew-store-\(UUID().uuidString)/state")
        var database: URL { url.appending(path: SQLiteEventStore.fileName) }
        deinit { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }

        /// The database as an earlier exportwatch left it: migrated up to `migration` only.
        func database(migratedUpTo migration: String) throws -> DatabaseQueue {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: database.path)
            try Schema.migrator.migrate(queue, upTo: migration)
            return queue
        }
    }

    func mode(_ url: URL) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("a new store creates a 0700 folder and a 0600 database in WAL mode with every migration")
    func createsFromEmpty() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try mode(folder.url) == 0o700)
        #expect(try mode(folder.database) == 0o600)
        #expect(try await store.appliedMigrations() == Schema.migrator.migrations)
        #expect(try await store.sources().isEmpty)

        let journal = try await DatabaseQueue(path: folder.database.path).read { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode")
        }
        #expect(journal == "wal")
    }

    @Test("a database from before the poll days (v7) is migrated and keeps its rows")
    func migratesPollLog() async throws {
        let folder = StateFolder()
        let previous = try folder.database(migratedUpTo: "v6-story-bands-in-memory")
        try await previous.write { db in
            try db.execute(
                sql: """
                    INSERT INTO source (id, configured_url, current_url, kind, health, failure_streak, created_at)
                    VALUES ('fr-bis', 'https://example.org/a', 'https://example.org/b', 'feed', 'failing', 4, ?)
                    """, arguments: [Date()])
            // Two polls on the UTC day of `migratedAt`: the later one failed.
            try db.execute(
                sql: "INSERT INTO poll_log (source_id, polled_at, ok) VALUES ('fr-bis', ?, 1), ('fr-bis', ?, 0)",
                arguments: [Self.migratedAt.addingTimeInterval(-60), Self.migratedAt])
            try db.execute(
                sql: """
                    INSERT INTO story (id, title, simhash, created_at, last_item_at) VALUES (7, 'Rule', 5, ?, ?);
                    INSERT INTO item (source_id, identity_key, identity_kind, title, simhash, story_id, first_seen_at,
                        last_changed_at)
                    VALUES ('fr-bis', 'guid:a', 'guid', 'Rule', 5, 7, ?, ?)
                    """, arguments: [Self.migratedAt, Self.migratedAt, Self.migratedAt, Self.migratedAt])
        }
        try previous.close()

        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await store.appliedMigrations() == Schema.migrator.migrations)
        let stored = try #require(try await store.sources()["fr-bis"])
        #expect(stored.id == "fr-bis" && stored.state.currentURL.absoluteString == "https://example.org/b")
        #expect(stored.state.health.state == .failing(reason: "") && stored.state.health.consecutiveFailures == 4)
        let recent = try await store.recentStoryEntries(since: Self.migratedAt.addingTimeInterval(-60))
        #expect(recent == [StoryIndex.Entry(storyID: 7, simHash: SimHash(bits: 5), seenAt: Self.migratedAt)])
        #expect(try await store.pollSummary(day: "2024-05-10") == PollSummary(polled: 1, failing: ["fr-bis"]))
    }

    static let migratedAt = Date(timeIntervalSince1970: 1_715_300_000)

    @Test("a database from before v8 gets CHECK constraints without IN lists that still refuse other values")
    func migratesChecksToComparisons() async throws {
        let folder = StateFolder()
        let previous = try folder.database(migratedUpTo: "v7-poll-days")
        try await previous.write { db in
            try db.execute(
                sql: """
                    INSERT INTO source (id, configured_url, current_url, kind, health, created_at)
                    VALUES ('fr-bis', 'https://example.org/a', 'https://example.org/a', 'feed', 'empty', ?);
                    INSERT INTO item (source_id, identity_key, identity_kind, title, first_seen_at, last_changed_at)
                    VALUES ('fr-bis', 'link:a', 'link', 'Rule', ?, ?)
                    """, arguments: [Self.migratedAt, Self.migratedAt, Self.migratedAt])
        }
        try previous.close()

        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await store.appliedMigrations() == Schema.migrator.migrations)
        #expect(try await store.sources().values.first?.state.health.state == .empty(reason: ""))

        let queue = try DatabaseQueue(path: folder.database.path)
        try await queue.write { db in
            let tables = try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_schema WHERE name IN ('item', 'source', 'outbox')")
            #expect(tables.count == 3)
            for sql in tables {
                #expect(!sql.contains(" IN ("), "\(sql)")
            }
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            // Every value allowed before is allowed; anything else is still refused.
            try db.execute(sql: "UPDATE source SET health = 'retired'")
            try db.execute(sql: "UPDATE item SET identity_kind = 'content'")
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE source SET health = 'gone'") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE item SET identity_kind = 'title'") }
            try db.execute(
                sql: """
                    INSERT INTO outbox (event_id, webhook_id, event_type, payload, state, next_attempt_at, created_at)
                    VALUES ('evt_1', 'slack', 'policy_item.created', x'7b7d', 'batched', ?, ?)
                    """, arguments: [Self.migratedAt, Self.migratedAt])
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE outbox SET state = 'lost'") }
        }
    }

    @Test("v8 leaves a CHECK constraint it did not write as it is, and rewrites the others")
    func migrationSkipsForeignChecks() async throws {
        let folder = StateFolder()
        let previous = try folder.database(migratedUpTo: "v7-poll-days")
        let foreign = "CHECK (identity_kind IN ('guid','link','content'))"
        try await previous.write { db in
            // Someone rewrote the item table's definition by hand.
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE name = 'item'",
                arguments: ["CHECK (\"identity_kind\" IN ('guid', 'link', 'content'))", foreign])
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        try previous.close()

        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await store.appliedMigrations() == Schema.migrator.migrations)
        let tables = try await DatabaseQueue(path: folder.database.path).read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db, sql: "SELECT name, sql FROM sqlite_schema WHERE name IN ('item', 'source', 'outbox')"
                ).map { ($0["name"] as String, $0["sql"] as String) })
        }
        #expect(tables["item"]?.contains(foreign) == true)
        #expect(tables["source"]?.contains("\"health\" = 'ok' OR") == true)
        #expect(tables["outbox"]?.contains("\"state\" = 'pending' OR") == true)
    }

    @Test("a database from before v9 keeps each source's schedule and polled day, now beside the source")
    func migratesPollScheduleApart() async throws {
        let folder = StateFolder()
        let previous = try folder.database(migratedUpTo: "v8-checks-without-in-lists")
        let dueAt = Self.migratedAt.addingTimeInterval(900)
        try await previous.write { db in
            try db.execute(
                sql: """
                    INSERT INTO source (id, configured_url, current_url, kind, etag, health, created_at, next_due_at,
                        last_attempt_at, last_success_at, last_status, polled_day, polled_day_ok)
                    VALUES ('fr-bis', 'https://example.org/a', 'https://example.org/a', 'feed', '"v1"', 'ok', ?1, ?2,
                        ?1, ?1, 304, '2024-05-10', 0)
                    """, arguments: [Self.migratedAt.storageText, dueAt.storageText])
        }
        try previous.close()

        let store = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await store.appliedMigrations() == Schema.migrator.migrations)
        let state = try #require(try await store.source("fr-bis")?.state)
        #expect(state.etag == "\"v1\"" && state.nextDueAt == dueAt && state.lastStatus == 304)
        #expect(state.lastAttemptAt == Self.migratedAt && state.lastSuccessAt == Self.migratedAt)
        #expect(try await store.pollSummary(day: "2024-05-10") == PollSummary(polled: 1, failing: ["fr-bis"]))

        // The day-end trigger moved with the day: a poll on the next day keeps the day before.
        _ = try await store.commit(
            PollRecord(
                sourceID: "fr-bis", kind: "feed", state: state, poll: PollOutcome(day: "2024-05-11", succeeded: true),
                at: Self.migratedAt.addingTimeInterval(86_400)))
        #expect(try await store.pollSummary(day: "2024-05-10") == PollSummary(polled: 1, failing: ["fr-bis"]))
        #expect(try await store.pollSummary(day: "2024-05-11") == PollSummary(polled: 1, failing: []))
        let columns = try await DatabaseQueue(path: folder.database.path).read { db in
            try db.columns(in: "source").map(\.name)
        }
        #expect(!columns.contains("next_due_at") && !columns.contains("polled_day"))
    }

    @Test("a poll that changes only the schedule leaves the source's own row unwritten")
    func unchangedSourceRowIsNotRewritten() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        var state = SourceFetchState(url: URL(string: "https://www.bis.gov/rss.xml")!)
        state.etag = "\"v1\""
        state.lastStatus = 200
        func poll(after minutes: Double) async throws {
            state.lastAttemptAt = now.addingTimeInterval(minutes * 60)
            state.nextDueAt = now.addingTimeInterval(minutes * 60 + 900)
            _ = try await store.commit(
                PollRecord(
                    sourceID: "bis", kind: "feed", state: state, poll: PollOutcome(day: "2024-05-06", succeeded: true),
                    at: now.addingTimeInterval(minutes * 60)))
        }
        try await poll(after: 0)
        let sourceWrites = try UpdateCounter(of: "source", in: folder.database.path)

        state.lastStatus = 304
        try await poll(after: 15)
        #expect(try sourceWrites.count() == 0)
        #expect(try await store.source("bis")?.state == state)

        // A new validator is the source's own: its row is written.
        state.etag = "\"v2\""
        try await poll(after: 30)
        #expect(try sourceWrites.count() == 1)
        #expect(try await store.source("bis")?.state == state)
    }

    /// Each field of a fetch state changed alone, in turn, on top of the ones before.
    static func fieldChanges(at now: Date) -> [(String, (inout SourceFetchState) -> Void)] {
        [
            ("current URL", { $0.currentURL = URL(string: "https://www.bis.gov/news.xml")! }),
            ("etag", { $0.etag = "\"v2\"" }), ("last modified", { $0.lastModified = "Fri, 10 May 2024 09:00:00 GMT" }),
            ("body hash", { $0.bodySHA256 = String(repeating: "b", count: 64) }),
            ("health", { $0.health = SourceHealth(state: .empty(reason: "no items"), consecutiveFailures: 0) }),
            ("failures", { $0.health = SourceHealth(state: .empty(reason: "no items"), consecutiveFailures: 2) }),
            ("error", { $0.lastError = "HTTP 503" }),
            ("redirect", { $0.redirectTarget = URL(string: "https://a.example/") }),
            ("redirect streak", { $0.redirectStreak = 1 }), ("item count", { $0.lastItemCount = 7 }),
            ("next due", { $0.nextDueAt = now }), ("last attempt", { $0.lastAttemptAt = now }),
            ("last success", { $0.lastSuccessAt = now }), ("status", { $0.lastStatus = 503 }),
        ]
    }

    @Test(
        "any one field of a fetch state changed alone is saved, and a new kind: written as such, or by a poll that read its source first",
        arguments: [false, true])
    func eachFieldChangeIsSaved(byPollThatRead: Bool) async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        var state = SourceFetchState(url: URL(string: "https://www.bis.gov/rss.xml")!)
        try await store.saveFetchState(state, ofSource: "bis", kind: "feed", transitions: [], at: now)
        func save(as kind: String = "feed") async throws {
            guard byPollThatRead else {
                try await store.saveFetchState(state, ofSource: "bis", kind: kind, transitions: [], at: now)
                return
            }
            let stored = try #require(try await store.source("bis"))
            _ = try await store.commit(PollRecord(sourceID: "bis", kind: kind, state: state, stored: stored, at: now))
        }
        for (field, change) in Self.fieldChanges(at: now) {
            change(&state)
            try await save()
            #expect(try await store.source("bis")?.state == state, "\(field)")
        }
        try await save(as: "html")
        #expect(try await store.source("bis") == StoredSource(id: "bis", kind: "html", state: state))
    }

    @Test("sources read with the configured URLs in hand are the same as parsed, a moved source's URL included")
    func sourcesReusingConfiguredURLs() async throws {
        let store = try SQLiteEventStore(stateDirectory: StateFolder().url)
        let feed = URL(string: "https://www.bis.gov/rss.xml")!
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        try await store.saveFetchState(
            SourceFetchState(url: feed), ofSource: "bis", kind: "feed", transitions: [], at: now)
        // Moved by redirects: once to a URL the configuration also names, once to one it does not.
        var movedToFeed = SourceFetchState(url: URL(string: "http://bis.gov/rss.xml")!)
        movedToFeed.currentURL = feed
        var movedElsewhere = SourceFetchState(url: URL(string: "https://www.commerce.gov/feed")!)
        movedElsewhere.currentURL = URL(string: "https://www.commerce.gov/news/feed")!
        try await store.saveFetchState(movedToFeed, ofSource: "bis-http", kind: "feed", transitions: [], at: now)
        try await store.saveFetchState(movedElsewhere, ofSource: "doc", kind: "feed", transitions: [], at: now)

        let configured = [feed, URL(string: "http://bis.gov/rss.xml")!, URL(string: "https://www.commerce.gov/feed")!]
        let reusing = try await store.sources(reusing: configured + [URL(string: "https://unrelated.example/")!])
        #expect(reusing == (try await store.sources()))
        #expect(reusing["bis-http"]?.state == movedToFeed)
        #expect(reusing["doc"]?.state.currentURL.absoluteString == "https://www.commerce.gov/news/feed")
    }

    @Test("sources read by id are those a full read gives; ids never stored are left out")
    func sourcesByID() async throws {
        let store = try SQLiteEventStore(stateDirectory: StateFolder().url)
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        let urls = (0..<5).map { URL(string: "https://www.bis.gov/feed-\($0).xml")! }
        for (number, url) in urls.enumerated() {
            try await store.saveFetchState(
                SourceFetchState(url: url), ofSource: "feed-\(number)", kind: "feed", transitions: [], at: now)
        }
        let all = try await store.sources()
        let some = try await store.sources(["feed-1", "feed-3", "feed-3", "never"], reusing: urls)
        #expect(some == all.filter { ["feed-1", "feed-3"].contains($0.key) })
        #expect(try await store.sources([], reusing: []).isEmpty)
    }

    @Test("a poll leaves its source's row to SQLite only when more than the poll's times and status changed")
    func sourceRowLeftAloneOnlyWhenUnchanged() {
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        var before = SourceFetchState(url: URL(string: "https://www.bis.gov/rss.xml")!)
        before.etag = "\"v1\""
        before.lastStatus = 200
        let stored = StoredSource(id: "bis", kind: "feed", state: before)
        var after = before
        after.nextDueAt = now.addingTimeInterval(900)
        after.lastAttemptAt = now
        after.lastSuccessAt = now
        after.lastStatus = 304
        #expect(SQLiteEventStore.leavesSourceRow(after, kind: "feed", as: stored))
        #expect(!SQLiteEventStore.leavesSourceRow(after, kind: "html", as: stored))
        #expect(!SQLiteEventStore.leavesSourceRow(after, kind: "feed", as: nil))
        for (field, change) in Self.fieldChanges(at: now).dropLast(4) {
            var changed = after
            change(&changed)
            #expect(!SQLiteEventStore.leavesSourceRow(changed, kind: "feed", as: stored), "\(field)")
        }
    }

    @Test("an SQLite older than 3.35 is refused (versions compared as numbers); this machine's is newer")
    func sqliteVersions() async throws {
        for old in ["3.31.1", "3.34.1", "3.8.11", "2.99.0", ""] {
            #expect(!SQLiteEventStore.isSupported(sqliteVersion: old), "\(old)")
        }
        for supported in ["3.35.0", "3.40.1", "3.100.2", "4.0.0"] {
            #expect(SQLiteEventStore.isSupported(sqliteVersion: supported), "\(supported)")
        }
        let folder = StateFolder()
        _ = try SQLiteEventStore(stateDirectory: folder.url)
    }

    @Test("a database written by a newer exportwatch is refused, untouched, with a clear message")
    func refusesNewerSchema() throws {
        let folder = StateFolder()
        _ = try SQLiteEventStore(stateDirectory: folder.url)
        let queue = try DatabaseQueue(path: folder.database.path)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        try queue.close()

        let error = #expect(throws: StoreError.self) { try SQLiteEventStore(stateDirectory: folder.url) }
        #expect(error?.code == .newerSchema)
        #expect(error?.description.contains(folder.database.path) == true)
        #expect(error?.description.contains("v99-from-the-future") == true)
    }

    @Test("opening the same database twice is a no-op the second time")
    func reopens() async throws {
        let folder = StateFolder()
        _ = try SQLiteEventStore(stateDirectory: folder.url)
        let again = try SQLiteEventStore(stateDirectory: folder.url)
        #expect(try await again.appliedMigrations().count == Schema.migrator.migrations.count)
    }

    @Test("a state folder that is a file is reported as such")
    func stateFolderIsAFile() throws {
        let folder = StateFolder()
        try FileManager.default.createDirectory(
            at: folder.url.deletingLastPathComponent(), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder.url.path, contents: Data()))
        let error = #expect(throws: StoreError.self) { try SQLiteEventStore(stateDirectory: folder.url) }
        #expect(error?.code == .stateDirectory)
    }

    @Test("a damaged database file is refused with what to do about it, and left as it is")
    func damagedFile() throws {
        let folder = StateFolder()
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        let garbage = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try garbage.write(to: folder.database)
        let error = #expect(throws: StoreError.self) { try SQLiteEventStore(stateDirectory: folder.url) }
        #expect(error?.code == .damaged)
        #expect(error?.description.contains("the state database \(folder.database.path) is damaged") == true)
        #expect(error?.description.contains("restore it from a backup, or move it") == true)
        #expect(try Data(contentsOf: folder.database) == garbage)
    }

    @Test("damage found after opening is reported as such by reads, writes and poll commits")
    func damageFoundInUse() async throws {
        let folder = StateFolder()
        let state = SourceFetchState(url: URL(string: "https://www.bis.gov/rss")!)
        let (sourcePage, pageSize): (Int, Int)
        do {
            let store = try SQLiteEventStore(stateDirectory: folder.url)
            try await store.saveFetchState(state, ofSource: "bis", kind: "feed", transitions: [], at: Date())
            (sourcePage, pageSize) = try await store.pool.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'source'")!,
                    try Int.fetchOne(db, sql: "PRAGMA page_size")!
                )
            }
        }
        // The closed store left no WAL: the table's page is overwritten in the file itself.
        let file = try FileHandle(forWritingTo: folder.database)
        try file.seek(toOffset: UInt64((sourcePage - 1) * pageSize))
        try file.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
        try file.close()

        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let record = PollRecord(sourceID: "bis", kind: "feed", state: state, at: Date())
        let failures: [(String, () async throws -> Void)] = [
            ("read", { _ = try await store.sources() }),
            (
                "write",
                { try await store.saveFetchState(state, ofSource: "bis", kind: "feed", transitions: [], at: Date()) }
            ),
            ("poll commit", { _ = try await store.submit(record).committed() }),
        ]
        for (what, failing) in failures {
            let error = await #expect(throws: StoreError.self, "\(what)") { try await failing() }
            #expect(error?.code == .damaged, "\(what)")
            #expect(error?.description.contains("\(folder.database.path) is damaged") == true, "\(what)")
        }
    }

    @Test("a full disk is reported as such, and the same writes succeed once there is room")
    func diskFull() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        // SQLite's page limit stands in for the disk: past it, a write fails as on a full disk.
        try await store.pool.write { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count")!
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        func record(_ index: Int) -> PollRecord {
            let url = URL(string: "https://www.bis.gov/\(String(repeating: "a", count: 400))/\(index)")!
            return PollRecord(sourceID: "source-\(index)", kind: "feed", state: SourceFetchState(url: url), at: Date())
        }
        let error = await #expect(throws: StoreError.self) {
            for index in 0..<100 { _ = try await store.submit(record(index)).committed() }
        }
        #expect(error?.code == .diskFull)
        #expect(
            error?.description.contains("the state database \(folder.database.path) cannot grow: its disk is full")
                == true)

        try await store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = 1000000") }
        for index in 0..<100 { _ = try await store.submit(record(index)).committed() }
        #expect(try await store.sources().count == 100)
    }

    @Test("a write lock another process holds past the busy timeout is named as such; once it lets go, writes go on")
    func lockedByAnotherProcess() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url, busyTimeout: .milliseconds(100))
        let state = SourceFetchState(url: URL(string: "https://www.bis.gov/rss")!)
        // An sqlite3 shell in the middle of a write, as far as SQLite can tell: another connection
        // holds the write lock until told to let go.
        let lock = HeldLock()
        let shell = try DatabaseQueue(path: folder.database.path)
        let shellWrite = Task.detached {
            try shell.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                lock.holding.withLock { $0 = true }
                while !lock.letGo.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
                try db.execute(sql: "COMMIT")
            }
        }
        while !lock.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let error = await #expect(throws: StoreError.self) {
            try await store.saveFetchState(state, ofSource: "bis", kind: "feed", transitions: [], at: Date())
        }
        #expect(error?.code == .locked)
        #expect(error?.description.contains("\(folder.database.path) is held by another process") == true)

        lock.letGo.withLock { $0 = true }
        try await shellWrite.value
        try await store.saveFetchState(state, ofSource: "bis", kind: "feed", transitions: [], at: Date())
        #expect(try await store.sources().keys.sorted() == ["bis"])
    }

    @Test("one run per state folder: a second lock is refused naming the first's pid; when the first ends it is free")
    func oneRunPerStateFolder() throws {
        let folder = StateFolder()
        var first: StateLock? = try StateLock(stateDirectory: folder.url)
        let error = #expect(throws: StoreError.self) { try StateLock(stateDirectory: folder.url) }
        #expect(error?.code == .inUse)
        #expect(
            error?.description.contains("another exportwatch run (pid \(getpid())) is using the state folder") == true)
        #expect(try mode(folder.url.appending(path: StateLock.fileName)) == 0o600)
        withExtendedLifetime(first) {}
        first = nil
        #expect(throws: Never.self) { _ = try StateLock(stateDirectory: folder.url) }
    }

    @Test("an item can be stored only once per source and identity key")
    func itemIdentityIsUnique() throws {
        let folder = StateFolder()
        _ = try SQLiteEventStore(stateDirectory: folder.url)
        let queue = try DatabaseQueue(path: folder.database.path)
        try queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO source (id, configured_url, current_url, kind, created_at) VALUES ('s', 'u', 'u', 'feed', ?)",
                arguments: [Date()])
            let insert = """
                INSERT INTO item (source_id, identity_key, identity_kind, title, first_seen_at, last_changed_at)
                VALUES ('s', 'guid:1', 'guid', 'Entity List additions', ?, ?)
                """
            try db.execute(sql: insert, arguments: [Date(), Date()])
            #expect(throws: DatabaseError.self) { try db.execute(sql: insert, arguments: [Date(), Date()]) }
        }
    }

    @Test("a source's fetch state and its health transitions round-trip")
    func fetchStateRoundTrip() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        var state = SourceFetchState(url: URL(string: "https://www.federalregister.gov/bis.rss")!)
        state.currentURL = URL(string: "https://www.federalregister.gov/api/bis.rss")!
        state.etag = "\"abc\""
        state.lastModified = "Thu, 09 May 2024 14:00:00 GMT"
        state.bodySHA256 = String(repeating: "a", count: 64)
        state.health = SourceHealth(state: .failing(reason: "HTTP 500"), consecutiveFailures: 3)
        state.redirectTarget = URL(string: "https://example.org/next")
        state.redirectStreak = 2
        state.nextDueAt = now.addingTimeInterval(900)
        state.lastAttemptAt = now
        // Dates are stored to the millisecond.
        state.lastSuccessAt = now.addingTimeInterval(-3_600.125)
        state.lastItemCount = 12
        state.lastStatus = 500
        state.lastError = "fetching … failed: HTTP 500"
        try await store.saveFetchState(state, ofSource: "fr-bis", kind: "feed", transitions: [.down], at: now)

        #expect(try await store.source("fr-bis")?.state == state)
        #expect(try await store.source("unknown")?.state == nil)
        let events = try await store.healthEvents(ofSource: "fr-bis")
        #expect(events == [SourceHealthEvent(transition: .down, reason: "HTTP 500", occurredAt: now)])

        _ = state.health.recordSuccess()
        try await store.saveFetchState(state, ofSource: "fr-bis", kind: "feed", transitions: [.recovered], at: now)
        #expect(try await store.source("fr-bis")?.state.health == SourceHealth())
        #expect(try await store.healthEvents(ofSource: "fr-bis").map(\.transition) == [.down, .recovered])
    }

    @Test("a day's polls come to the sources polled and those whose last poll failed, kept 60 days")
    func pollDays() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let start = Date(timeIntervalSince1970: 1_715_000_000)
        func poll(_ source: String, on day: String, ok: Bool, after hours: Double) async throws {
            _ = try await store.commit(
                PollRecord(
                    sourceID: source, kind: "feed",
                    state: SourceFetchState(url: URL(string: "https://\(source).example/")!),
                    poll: PollOutcome(day: day, succeeded: ok), at: start.addingTimeInterval(hours * 3600)))
        }
        try await poll("bis", on: "2024-05-06", ok: true, after: 0)
        try await poll("mofcom", on: "2024-05-06", ok: true, after: 1)
        try await poll("mofcom", on: "2024-05-06", ok: false, after: 2)
        #expect(try await store.pollSummary(day: "2024-05-06") == PollSummary(polled: 2, failing: ["mofcom"]))

        // A new day moves the day before off the source's row; both days still answer.
        try await poll("bis", on: "2024-05-07", ok: false, after: 24)
        #expect(try await store.pollSummary(day: "2024-05-06") == PollSummary(polled: 2, failing: ["mofcom"]))
        #expect(try await store.pollSummary(day: "2024-05-07") == PollSummary(polled: 1, failing: ["bis"]))
        #expect(try await store.pollSummary(day: "2024-05-08") == PollSummary(polled: 0, failing: []))

        // A source's days older than 60 days go when it starts a new day.
        try await poll("bis", on: "2024-07-06", ok: true, after: 61 * 24)
        #expect(try await store.pollSummary(day: "2024-05-06") == PollSummary(polled: 1, failing: ["mofcom"]))
        #expect(try await store.pollSummary(day: "2024-05-07") == PollSummary(polled: 1, failing: ["bis"]))
        try await poll("bis", on: "2024-07-07", ok: true, after: 62 * 24)
        #expect(try await store.pollSummary(day: "2024-05-07") == PollSummary(polled: 0, failing: []))

        // A fetch state saved outside a poll leaves the day alone.
        try await store.saveFetchState(
            SourceFetchState(url: URL(string: "https://bis.example/")!), ofSource: "bis", kind: "feed",
            transitions: [], at: start.addingTimeInterval(62 * 86_400))
        #expect(try await store.pollSummary(day: "2024-07-07") == PollSummary(polled: 1, failing: []))
    }

    @Test("a poll on its source's logged day and outcome moves only the poll times; any other poll logs its day")
    func pollOnTheLoggedDayMovesOnlyTimes() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let start = Date(timeIntervalSince1970: 1_715_000_000)
        var state = SourceFetchState(url: URL(string: "https://www.bis.gov/rss.xml")!)
        /// Polls `bis` as a cycle does: with the source as read before the poll.
        func poll(on day: String, ok: Bool, after minutes: Double) async throws {
            let stored = try await store.source("bis")
            state.lastAttemptAt = start.addingTimeInterval(minutes * 60)
            state.nextDueAt = start.addingTimeInterval(minutes * 60 + 900)
            state.lastStatus = ok ? 304 : 503
            if ok { state.lastSuccessAt = state.lastAttemptAt }
            _ = try await store.commit(
                PollRecord(
                    sourceID: "bis", kind: "feed", state: state, poll: PollOutcome(day: day, succeeded: ok),
                    stored: stored, at: start.addingTimeInterval(minutes * 60)))
        }
        try await poll(on: "2024-05-06", ok: true, after: 0)
        #expect(try await store.source("bis")?.lastPoll == PollOutcome(day: "2024-05-06", succeeded: true))
        let dayWrites = try UpdateCounter(
            of: "source_poll", columns: ["polled_day", "polled_day_ok"], in: folder.database.path)

        try await poll(on: "2024-05-06", ok: true, after: 15)
        #expect(try dayWrites.count() == 0)
        #expect(try await store.source("bis")?.state == state)

        // Another outcome, then another day: the day is logged, and the digest counts it.
        try await poll(on: "2024-05-06", ok: false, after: 30)
        #expect(try dayWrites.count() == 1)
        #expect(try await store.pollSummary(day: "2024-05-06") == PollSummary(polled: 1, failing: ["bis"]))
        try await poll(on: "2024-05-07", ok: true, after: 24 * 60)
        #expect(try dayWrites.count() == 2)
        #expect(try await store.pollSummary(day: "2024-05-06") == PollSummary(polled: 1, failing: ["bis"]))
        #expect(try await store.pollSummary(day: "2024-05-07") == PollSummary(polled: 1, failing: []))
        #expect(try await store.source("bis")?.state == state)

        // A source whose poll row is gone (read before it went) gets it back whole.
        let stored = try #require(try await store.source("bis"))
        try await dayWrites.queue.write { db in try db.execute(sql: "DELETE FROM source_poll") }
        state.lastAttemptAt = start.addingTimeInterval(25 * 3600)
        _ = try await store.commit(
            PollRecord(
                sourceID: "bis", kind: "feed", state: state, poll: PollOutcome(day: "2024-05-07", succeeded: true),
                stored: stored, at: start.addingTimeInterval(25 * 3600)))
        #expect(try await store.source("bis")?.state == state)
        #expect(try await store.source("bis")?.lastPoll == PollOutcome(day: "2024-05-07", succeeded: true))
    }

    @Test("a checkpoint puts committed polls into the database file itself, without its write-ahead log")
    func checkpointCopiesTheLog() async throws {
        let folder = StateFolder()
        let store = try SQLiteEventStore(stateDirectory: folder.url)
        let now = Date(timeIntervalSince1970: 1_715_000_000)
        /// The sources found in a copy of the database file alone (its -wal left behind).
        func sourcesInFileAlone() throws -> [String] {
            let copy = folder.url.appending(path: "copy-\(UUID().uuidString).sqlite")
            try FileManager.default.copyItem(at: folder.database, to: copy)
            return try DatabaseQueue(path: copy.path).read { db in
                // Before any checkpoint, even the schema is only in the log.
                try db.tableExists("source") ? String.fetchAll(db, sql: "SELECT id FROM source") : []
            }
        }
        _ = try await store.commit(
            PollRecord(
                sourceID: "bis", kind: "feed", state: SourceFetchState(url: URL(string: "https://bis.example/")!),
                at: now))
        #expect(try sourcesInFileAlone() == [])
        try await store.checkpoint()
        #expect(try sourcesInFileAlone() == ["bis"])
    }
}

/// Counts the updates of a table's rows (of some columns only, when given) from its creation on,
/// through a trigger it adds to the database.
struct UpdateCounter {
    /// Another connection to the database.
    let queue: DatabaseQueue
    private let log: String

    init(of table: String, columns: [String] = [], in path: String) throws {
        queue = try DatabaseQueue(path: path)
        log = "\(table)_updates"
        let updates = columns.isEmpty ? "UPDATE" : "UPDATE OF \(columns.joined(separator: ", "))"
        try queue.write { [log] db in
            try db.execute(
                sql: """
                    CREATE TABLE \(log) (at INTEGER);
                    CREATE TRIGGER count_\(log) AFTER \(updates) ON \(table) BEGIN INSERT INTO \(log) VALUES (1); END;
                    """)
        }
    }

    /// Updates counted so far.
    func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(log)") ?? 0 }
    }
}

/// A write lock another connection holds, and when it lets go.
final class HeldLock: Sendable {
    let holding = Mutex(false)
    let letGo = Mutex(false)
}

internal import GRDB

/// The database schema, as a list of migrations applied in order.
///
/// A migration, once released, is never edited: a later change to the schema is a new migration
/// appended here. Opening a database runs the ones it has not seen; a database that has seen a
/// migration missing from this list was written by a newer exportwatch and is refused.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sources-and-items", migrate: createSourcesAndItems)
        migrator.registerMigration("v2-outbox-and-digests", migrate: createOutboxAndDigests)
        migrator.registerMigration("v3-source-empty-health", migrate: addEmptyHealth)
        migrator.registerMigration("v4-dedup-keys-and-events", migrate: addDedupKeysAndEvents)
        migrator.registerMigration("v5-drop-canonical-link-index", migrate: dropCanonicalLinkIndex)
        migrator.registerMigration("v6-story-bands-in-memory", migrate: dropSimHashBands)
        migrator.registerMigration("v7-poll-days", migrate: summarisePollDays)
        migrator.registerMigration("v8-checks-without-in-lists", migrate: checkWithComparisons)
        migrator.registerMigration("v9-poll-schedule-apart", migrate: movePollScheduleApart)
        migrator.registerMigration("v10-source-listing", migrate: addSourceListing)
        return migrator
    }

    /// The identifier of the newest migration; a database at this point is current.
    static var latestMigration: String { migrator.migrations.last! }

    /// Sources with their fetch state, the items they gave, the stories those items form, and
    /// what the classifier said about each item.
    private static func createSourcesAndItems(_ db: Database) throws {
        try db.create(table: "source") { table in
            table.primaryKey("id", .text)
            table.column("configured_url", .text).notNull()
            // The URL polled now: the configured one, or where it moved to for good (301/308).
            table.column("current_url", .text).notNull()
            table.column("kind", .text).notNull()
            table.column("etag", .text)
            table.column("last_modified", .text)
            table.column("body_sha256", .text)
            table.column("health", .text).notNull().defaults(to: "ok")
                .check { ["ok", "failing", "retired"].contains($0) }
            table.column("health_reason", .text)
            table.column("failure_streak", .integer).notNull().defaults(to: 0)
            table.column("next_due_at", .datetime)
            table.column("last_attempt_at", .datetime)
            table.column("last_success_at", .datetime)
            table.column("last_status", .integer)
            table.column("last_error", .text)
            table.column("redirect_target", .text)
            table.column("redirect_streak", .integer).notNull().defaults(to: 0)
            table.column("baseline_done", .boolean).notNull().defaults(to: false)
            table.column("created_at", .datetime).notNull()
        }

        // Health transitions (source.down, source.recovered, …), kept with the source so that
        // none is lost before, or without, a webhook that wants them.
        try db.create(table: "source_event") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("source_id", .text).notNull().indexed().references("source", onDelete: .cascade)
            table.column("type", .text).notNull()
            table.column("reason", .text)
            table.column("occurred_at", .datetime).notNull()
        }

        try db.create(table: "story") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("title", .text).notNull()
            table.column("simhash", .integer)
            table.column("created_at", .datetime).notNull()
            table.column("last_item_at", .datetime).notNull()
            table.column("announced_at", .datetime)
        }
        try db.create(index: "story_on_created_at", on: "story", columns: ["created_at"])

        try db.create(table: "item") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("source_id", .text).notNull().references("source", onDelete: .restrict)
            // How this item is told apart from the source's other items, and which rule chose it.
            table.column("identity_key", .text).notNull()
            table.column("identity_kind", .text).notNull()
                .check { ["guid", "link", "content"].contains($0) }
            table.column("guid", .text)
            table.column("link", .text)
            table.column("canonical_link", .text)
            table.column("title", .text).notNull()
            table.column("summary", .text)
            table.column("content", .text)
            table.column("language", .text)
            table.column("published_at", .datetime)
            table.column("updated_at", .datetime)
            table.column("content_fingerprint", .text)
            table.column("simhash", .integer)
            table.column("story_id", .integer).indexed().references("story", onDelete: .setNull)
            table.column("relevant", .boolean).notNull().defaults(to: false)
            table.column("first_seen_at", .datetime).notNull()
            table.column("last_changed_at", .datetime).notNull()
            // Provenance: where and when the bytes this item came from were fetched.
            table.column("final_url", .text)
            table.column("fetched_at", .datetime)
            table.column("body_sha256", .text)
            table.column("etag", .text)
            table.column("last_modified", .text)
            table.uniqueKey(["source_id", "identity_key"])
        }
        try db.create(index: "item_on_canonical_link", on: "item", columns: ["canonical_link"])
        try db.create(index: "item_on_first_seen_at", on: "item", columns: ["first_seen_at"])

        try db.create(table: "item_topic") { table in
            table.column("item_id", .integer).notNull().references("item", onDelete: .cascade)
            table.column("topic_id", .text).notNull()
            table.column("score", .double).notNull()
            // The terms that matched, as a JSON array: the explanation shown to users.
            table.column("matched", .jsonText).notNull()
            table.primaryKey(["item_id", "topic_id"])
        }
        try db.create(index: "item_topic_on_topic_id", on: "item_topic", columns: ["topic_id"])

        // Regulatory identifiers an item cites (FR document numbers, ECCNs, MOFCOM announcements):
        // they tie reports of one event together across sources and languages.
        try db.create(table: "item_identifier") { table in
            table.column("item_id", .integer).notNull().references("item", onDelete: .cascade)
            table.column("kind", .text).notNull()
            table.column("value", .text).notNull()
            table.primaryKey(["item_id", "kind", "value"])
        }
        try db.create(index: "item_identifier_on_value", on: "item_identifier", columns: ["kind", "value"])
    }

    /// HTML sources whose rules stop finding items: a fourth health state, `empty`, and the item
    /// count of the last read. SQLite cannot change a CHECK constraint in place, so the table is
    /// rebuilt (create, copy, drop, rename), as SQLite's documentation prescribes.
    private static func addEmptyHealth(_ db: Database) throws {
        try db.create(table: "new_source") { table in
            table.primaryKey("id", .text)
            table.column("configured_url", .text).notNull()
            table.column("current_url", .text).notNull()
            table.column("kind", .text).notNull()
            table.column("etag", .text)
            table.column("last_modified", .text)
            table.column("body_sha256", .text)
            table.column("health", .text).notNull().defaults(to: "ok")
                .check { ["ok", "failing", "empty", "retired"].contains($0) }
            table.column("health_reason", .text)
            table.column("failure_streak", .integer).notNull().defaults(to: 0)
            table.column("next_due_at", .datetime)
            table.column("last_attempt_at", .datetime)
            table.column("last_success_at", .datetime)
            table.column("last_status", .integer)
            table.column("last_error", .text)
            table.column("redirect_target", .text)
            table.column("redirect_streak", .integer).notNull().defaults(to: 0)
            table.column("baseline_done", .boolean).notNull().defaults(to: false)
            table.column("created_at", .datetime).notNull()
            table.column("last_item_count", .integer)
        }
        try db.execute(
            sql: """
                INSERT INTO new_source (
                    id, configured_url, current_url, kind, etag, last_modified, body_sha256, health, health_reason,
                    failure_streak, next_due_at, last_attempt_at, last_success_at, last_status, last_error,
                    redirect_target, redirect_streak, baseline_done, created_at)
                SELECT id, configured_url, current_url, kind, etag, last_modified, body_sha256, health, health_reason,
                    failure_streak, next_due_at, last_attempt_at, last_success_at, last_status, last_error,
                    redirect_target, redirect_streak, baseline_done, created_at
                FROM source
                """)
        try db.drop(table: "source")
        try db.rename(table: "new_source", to: "source")
    }

    /// The transactional outbox of webhook events, every delivery attempt, and built digests.
    private static func createOutboxAndDigests(_ db: Database) throws {
        try db.create(table: "outbox") { table in
            table.column("event_id", .text).notNull()
            table.column("webhook_id", .text).notNull()
            table.column("event_type", .text).notNull()
            table.column("payload", .blob).notNull()
            table.column("state", .text).notNull().defaults(to: "pending")
                .check { ["pending", "sent", "dead"].contains($0) }
            table.column("attempts", .integer).notNull().defaults(to: 0)
            table.column("next_attempt_at", .datetime).notNull()
            table.column("created_at", .datetime).notNull()
            table.column("sent_at", .datetime)
            table.column("last_error", .text)
            table.primaryKey(["event_id", "webhook_id"])
        }
        try db.create(index: "outbox_on_due", on: "outbox", columns: ["state", "next_attempt_at"])

        try db.create(table: "delivery_attempt") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("event_id", .text).notNull()
            table.column("webhook_id", .text).notNull()
            table.column("attempted_at", .datetime).notNull()
            table.column("status", .integer)
            table.column("duration_ms", .integer).notNull()
            table.column("error", .text)
            table.foreignKey(["event_id", "webhook_id"], references: "outbox", onDelete: .cascade)
        }

        try db.create(table: "digest") { table in
            table.primaryKey("day", .text)
            table.column("time_zone", .text).notNull()
            table.column("built_at", .datetime).notNull()
            table.column("files", .jsonText).notNull()
            table.column("counts", .jsonText).notNull()
        }
    }

    /// Items are matched on their scheme-less link key (v4), never looked up by canonical link, yet
    /// every insert paid for that index: long strings in random order, a tenth of a cold start's
    /// page writes.
    private static func dropCanonicalLinkIndex(_ db: Database) throws {
        try db.drop(index: "item_on_canonical_link")
    }

    /// Story lookups read an in-memory index (`StoryIndex`, filled from `item.simhash` at start)
    /// since v6. The four band indexes were random-order inserts on every new item: about half of
    /// a cold start's page writes, and the band lookups most of its story turn.
    ///
    /// The `simhash_band0…3` columns stay, no longer written: dropping a column rewrites every row
    /// of the table (3 s for 46,000 items here; minutes for a year of items, before READY=1).
    private static func dropSimHashBands(_ db: Database) throws {
        for band in 0..<4 { try db.drop(index: "item_on_simhash_band\(band)") }
    }

    /// The poll log becomes one outcome per source and day, which is all a day's digest reads
    /// (the sources polled, and those whose last poll of the day failed). One row per poll had
    /// grown with the polls (a thousand sources every 15 minutes: 96,000 rows a day, kept 60
    /// days, two writes and two indexes per poll), and the digest's query of it took time
    /// quadratic in a day's polls.
    ///
    /// A source's current day (in the digest's zone, as the poller computes it) and the outcome of
    /// its last poll that day live on its row, which each poll writes anyway: nothing more is
    /// written per poll. When the day on the row changes, a trigger moves the day that ended to
    /// `source_day` and drops that source's days older than 60 days (the digest's catch-up).
    /// Days logged before this migration are counted in UTC.
    private static func summarisePollDays(_ db: Database) throws {
        try db.alter(table: "source") { table in
            table.add(column: "polled_day", .text)
            table.add(column: "polled_day_ok", .boolean)
        }
        try db.create(table: "source_day", options: .withoutRowID) { table in
            table.column("source_id", .text).notNull()
            table.column("day", .text).notNull()
            table.column("last_ok", .boolean).notNull()
            table.primaryKey(["source_id", "day"])
        }
        try db.execute(
            sql: """
                CREATE TRIGGER source_poll_day_ends AFTER UPDATE OF polled_day ON source
                WHEN OLD.polled_day IS NOT NULL AND OLD.polled_day IS NOT NEW.polled_day
                BEGIN
                    INSERT INTO source_day (source_id, day, last_ok) VALUES (OLD.id, OLD.polled_day, OLD.polled_day_ok)
                        ON CONFLICT (source_id, day) DO UPDATE SET last_ok = excluded.last_ok;
                    DELETE FROM source_day WHERE source_id = OLD.id AND day < date(NEW.polled_day, '-60 days');
                END;
                """)
        // Each logged day's last poll (SQLite takes the bare `ok` from the row of the MAX).
        try db.execute(
            sql: """
                INSERT INTO source_day (source_id, day, last_ok)
                SELECT source_id, day, ok FROM (
                    SELECT source_id, date(polled_at) AS day, ok, MAX(polled_at) FROM poll_log
                    GROUP BY source_id, date(polled_at))
                """)
        try db.drop(table: "poll_log")
    }

    /// The CHECK constraints on `item.identity_kind`, `source.health` and `outbox.state` as
    /// comparisons joined by OR rather than `IN` lists. SQLite evaluates a constant `IN` list of
    /// three or more values through a temporary b-tree that it builds and drops for every row
    /// written: ~2 µs per insert or update, paid once per item on a cold start and once per
    /// source on every cycle (a warm cycle of a thousand sources spent ~6 ms of CPU on it).
    ///
    /// The constraints accept exactly the values they accepted before, and no stored row changes,
    /// so the tables' definitions are edited in place (SQLite's documented `writable_schema`
    /// procedure for changes that leave the stored content as it is) rather than rebuilt: a
    /// rebuild would copy every item. The edit only makes the checks cheaper, so it is skipped
    /// where it cannot be made: for a definition exportwatch did not write, and on an SQLite built
    /// in defensive mode, which refuses to edit its schema.
    private static func checkWithComparisons(_ db: Database) throws {
        let edits = [
            ("item", "identity_kind", ["guid", "link", "content"]),
            ("source", "health", ["ok", "failing", "empty", "retired"]),
            ("outbox", "state", ["pending", "sent", "dead", "batched"]),
        ]
        var rewritten: [(table: String, sql: String)] = []
        for (table, column, values) in edits {
            let list = "\"\(column)\" IN (" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
            let comparisons = values.map { "\"\(column)\" = '\($0)'" }.joined(separator: " OR ")
            let sql = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [table])
            guard let sql, sql.contains(list) else { continue }
            rewritten.append((table, sql.replacing(list, with: comparisons)))
        }
        guard !rewritten.isEmpty else { return }
        do {
            try db.inSavepoint {
                let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
                try db.execute(sql: "PRAGMA writable_schema = ON")
                for (table, sql) in rewritten {
                    try db.execute(
                        sql: "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
                        arguments: [sql, table])
                }
                try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
                try db.execute(sql: "PRAGMA writable_schema = OFF")
                return .commit
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // Defensive mode ("table sqlite_master may not be modified"): the checks stay as they were.
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
    }

    /// What every poll writes (when the source is next due, when it was last tried and last
    /// succeeded, the last status, the day polled and how it went) moves from `source` to a
    /// narrow `source_poll` of its own, and a poll writes `source` only when something else about
    /// the source changed (validators, health, redirects, URLs). A warm cycle of a thousand
    /// unchanged sources rewrote every page of `source` (~90 pages: their log frames, their copy
    /// into the database file and its sync); it now rewrites the ~30 pages of `source_poll`
    /// (Benchmarks/daemon.sh: ~4 ms of a ~85 ms warm cycle). The day-end trigger moves with the
    /// day it watches.
    private static func movePollScheduleApart(_ db: Database) throws {
        try db.create(table: "source_poll", options: .withoutRowID) { table in
            table.primaryKey("source_id", .text).references("source", onDelete: .cascade)
            table.column("next_due_at", .datetime)
            table.column("last_attempt_at", .datetime)
            table.column("last_success_at", .datetime)
            table.column("last_status", .integer)
            table.column("polled_day", .text)
            table.column("polled_day_ok", .boolean)
        }
        try db.execute(
            sql: """
                INSERT INTO source_poll (
                    source_id, next_due_at, last_attempt_at, last_success_at, last_status, polled_day, polled_day_ok)
                SELECT id, next_due_at, last_attempt_at, last_success_at, last_status, polled_day, polled_day_ok
                FROM source;
                DROP TRIGGER source_poll_day_ends;
                CREATE TRIGGER source_poll_day_ends AFTER UPDATE OF polled_day ON source_poll
                WHEN OLD.polled_day IS NOT NULL AND OLD.polled_day IS NOT NEW.polled_day
                BEGIN
                    INSERT INTO source_day (source_id, day, last_ok)
                        VALUES (OLD.source_id, OLD.polled_day, OLD.polled_day_ok)
                        ON CONFLICT (source_id, day) DO UPDATE SET last_ok = excluded.last_ok;
                    DELETE FROM source_day WHERE source_id = OLD.source_id AND day < date(NEW.polled_day, '-60 days');
                END;
                """)
        try db.alter(table: "source") { table in
            for column in [
                "next_due_at", "last_attempt_at", "last_success_at", "last_status", "polled_day", "polled_day_ok",
            ] {
                table.drop(column: column)
            }
        }
    }

    /// When the oldest item that a source's latest document lists was first seen: items of the
    /// source first seen before it are no longer listed, and item retention may remove them
    /// without their coming back as new. Unknown (null) until the source's next new document.
    private static func addSourceListing(_ db: Database) throws {
        try db.alter(table: "source") { table in table.add(column: "listed_since", .datetime) }
    }

    /// What deduplication looks items and stories up by, and the log of policy events.
    ///
    /// Items get public ids (stable across databases, shown to users and sent in events), the
    /// scheme-less link key, and their SimHash cut into four 16-bit bands, each indexed with the
    /// first-seen time so that a story lookup reads only the recent fingerprints sharing a band.
    /// Stories get public ids and the identifier keys that tie reports together. A source records
    /// the identity kind it learnt. `policy_event` keeps every `policy_item.*` event as sent.
    private static func addDedupKeysAndEvents(_ db: Database) throws {
        try db.alter(table: "source") { table in
            table.add(column: "identity_kind", .text)
            table.add(column: "identity_reason", .text)
        }
        try db.alter(table: "item") { table in
            table.add(column: "public_id", .text)
            table.add(column: "link_key", .text)
            for band in 0..<4 { table.add(column: "simhash_band\(band)", .integer) }
            table.add(column: "headline_numbers", .integer)
        }
        try db.create(index: "item_on_public_id", on: "item", columns: ["public_id"], options: .unique)
        try db.create(index: "item_on_source_link_key", on: "item", columns: ["source_id", "link_key"])
        try db.create(index: "item_on_source_guid", on: "item", columns: ["source_id", "guid"])
        try db.create(index: "item_on_source_content", on: "item", columns: ["source_id", "content_fingerprint"])
        for band in 0..<4 {
            try db.create(
                index: "item_on_simhash_band\(band)", on: "item", columns: ["simhash_band\(band)", "first_seen_at"])
        }

        try db.alter(table: "story") { table in
            table.add(column: "public_id", .text)
        }
        try db.create(index: "story_on_public_id", on: "story", columns: ["public_id"], options: .unique)

        try db.create(table: "story_key") { table in
            table.column("key", .text).notNull()
            table.column("story_id", .integer).notNull().references("story", onDelete: .cascade)
            table.column("added_at", .datetime).notNull()
            table.primaryKey(["key", "story_id"])
        }

        try db.create(table: "policy_event") { table in
            table.primaryKey("id", .text)
            table.column("type", .text).notNull()
            table.column("source_id", .text).notNull()
            table.column("item_id", .integer).references("item", onDelete: .cascade)
            table.column("story_id", .integer).references("story", onDelete: .setNull)
            // Whether this event is the story's announcement (false: another source of a known story).
            table.column("announces_story", .boolean).notNull()
            table.column("occurred_at", .datetime).notNull()
            table.column("payload", .jsonText).notNull()
        }
        try db.create(index: "policy_event_on_occurred_at", on: "policy_event", columns: ["occurred_at"])
        try db.create(index: "policy_event_on_item_id", on: "policy_event", columns: ["item_id"])

        // The outbox of v2 had no batches and no per-webhook state; nothing wrote to it before this
        // version, so it is replaced rather than rebuilt.
        try db.drop(table: "delivery_attempt")
        try db.drop(table: "outbox")
        try db.create(table: "outbox") { table in
            table.column("event_id", .text).notNull()
            table.column("webhook_id", .text).notNull()
            table.column("event_type", .text).notNull()
            // The event's JSON (DESIGN.md §7), rendered into the webhook's format when sent.
            table.column("payload", .blob).notNull()
            // pending → sent | dead; an event that went out inside a batch is `batched` (the batch
            // is a row of its own, event_type `batch`).
            table.column("state", .text).notNull().defaults(to: "pending")
                .check { ["pending", "sent", "dead", "batched"].contains($0) }
            table.column("attempts", .integer).notNull().defaults(to: 0)
            table.column("next_attempt_at", .datetime).notNull()
            table.column("created_at", .datetime).notNull()
            table.column("sent_at", .datetime)
            table.column("last_status", .integer)
            table.column("last_error", .text)
            table.column("batch_id", .text)
            table.primaryKey(["event_id", "webhook_id"])
        }
        try db.create(index: "outbox_on_due", on: "outbox", columns: ["state", "next_attempt_at"])

        try db.create(table: "delivery_attempt") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("event_id", .text).notNull()
            table.column("webhook_id", .text).notNull()
            table.column("attempted_at", .datetime).notNull()
            table.column("status", .integer)
            table.column("duration_ms", .integer).notNull()
            table.column("error", .text)
            table.foreignKey(["event_id", "webhook_id"], references: "outbox", onDelete: .cascade)
        }
        try db.create(
            index: "delivery_attempt_on_webhook", on: "delivery_attempt", columns: ["webhook_id", "attempted_at"])

        // One row per poll, kept 60 days: which sources a day's digest counts as polled and failing.
        try db.create(table: "poll_log") { table in
            table.column("source_id", .text).notNull()
            table.column("polled_at", .datetime).notNull()
            table.column("ok", .boolean).notNull()
        }
        try db.create(index: "poll_log_on_polled_at", on: "poll_log", columns: ["polled_at"])

        // A webhook the receiver said is gone (410): disabled until its URL changes.
        try db.create(table: "webhook_state") { table in
            table.primaryKey("id", .text)
            table.column("url_sha256", .text).notNull()
            table.column("disabled_at", .datetime)
            table.column("disabled_reason", .text)
        }
    }
}

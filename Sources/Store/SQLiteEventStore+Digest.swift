public import Foundation
internal import GRDB

extension SQLiteEventStore {
    public func digestItems(from start: Date, to end: Date) async throws -> [DigestItemRecord] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT item.*, story.public_id AS story_public_id,
                        EXISTS (SELECT 1 FROM policy_event e WHERE e.item_id = item.id AND e.type = 'policy_item.updated'
                                AND e.occurred_at >= ?1 AND e.occurred_at < ?2) AS updated_in_window
                    FROM item JOIN story ON story.id = item.story_id
                    WHERE item.relevant AND (
                        (item.first_seen_at >= ?1 AND item.first_seen_at < ?2)
                        OR item.id IN (SELECT item_id FROM policy_event WHERE type = 'policy_item.updated'
                                       AND occurred_at >= ?1 AND occurred_at < ?2))
                    ORDER BY item.first_seen_at, item.id
                    """,
                arguments: [start.storageText, end.storageText])
            return try rows.map { try Self.digestItem($0, in: db) }
        }
    }

    public func storyReports(of storyIDs: [Int64], before end: Date) async throws -> [StoryReportRecord] {
        guard !storyIDs.isEmpty else { return [] }
        return try await read { db in
            var reports: [StoryReportRecord] = []
            for chunk in Array(Set(storyIDs)).sorted().chunked(into: 500) {
                reports += try Row.fetchAll(
                    db,
                    sql: """
                        SELECT story_id, public_id, source_id, title, link, first_seen_at FROM item
                        WHERE story_id IN (\(databaseQuestionMarks(count: chunk.count))) AND first_seen_at < ?
                        ORDER BY first_seen_at, id
                        """,
                    arguments: StatementArguments(chunk) + [end.storageText]
                ).map { row in
                    StoryReportRecord(
                        storyID: row["story_id"], itemID: row["public_id"] ?? "", source: row["source_id"],
                        title: row["title"], link: row["link"], firstSeen: row["first_seen_at"])
                }
            }
            return reports
        }
    }

    public func relevantTopicTimes(from start: Date, to end: Date) async throws -> [(Date, String)] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT item.first_seen_at, item_topic.topic_id FROM item
                    JOIN item_topic ON item_topic.item_id = item.id
                    WHERE item.relevant AND item.first_seen_at >= ? AND item.first_seen_at < ?
                    """,
                arguments: [start.storageText, end.storageText]
            ).map { ($0["first_seen_at"], $0["topic_id"]) }
        }
    }

    public func pollSummary(day: String) async throws -> PollSummary {
        try await read { db in
            // The day is on the source's source_poll row while it is its latest, in source_day after.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT source_id, polled_day_ok AS ok FROM source_poll WHERE polled_day = ?1
                    UNION ALL
                    SELECT source_id, last_ok FROM source_day
                    WHERE day = ?1 AND source_id NOT IN (SELECT source_id FROM source_poll WHERE polled_day = ?1)
                    """,
                arguments: [day])
            return PollSummary(
                polled: rows.count,
                failing: rows.filter { !($0["ok"] as Bool) }.map { $0["source_id"] as String }.sorted())
        }
    }

    public func sourceProblems(from start: Date, to end: Date) async throws -> [SourceProblemRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT source_id, type, reason, occurred_at FROM source_event
                    WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id
                    """,
                arguments: [start.storageText, end.storageText]
            ).map {
                SourceProblemRecord(
                    source: $0["source_id"], type: $0["type"], reason: $0["reason"], at: $0["occurred_at"])
            }
        }
    }

    public func recordDigest(day: String, timeZone: String, files: [String], counts: [String: Int], at now: Date)
        async throws
    {
        let filesJSON = String(decoding: try JSONSerialization.data(withJSONObject: files), as: UTF8.self)
        let countsJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: counts, options: .sortedKeys), as: UTF8.self)
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO digest (day, time_zone, built_at, files, counts) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (day) DO UPDATE SET time_zone = excluded.time_zone, built_at = excluded.built_at,
                        files = excluded.files, counts = excluded.counts
                    """,
                arguments: [day, timeZone, now.storageText, filesJSON, countsJSON])
        }
    }

    public func builtDigests() async throws -> [BuiltDigest] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM digest ORDER BY day").map { row in
                let files = (try? JSONSerialization.jsonObject(with: Data((row["files"] as String).utf8))) as? [String]
                return BuiltDigest(day: row["day"], timeZone: row["time_zone"], files: files ?? [])
            }
        }
    }

    public func firstActivity() async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT \(storageMilliseconds(of: "MIN(created_at)")) FROM source")
                .map(Date.init(storageMilliseconds:))
        }
    }

    public func latestAlerts(limit: Int) async throws -> [AlertRecord] {
        try await read { db in
            // Each story once, by its first relevant report; the newest stories first.
            // The newest stories are chosen on ids alone, then their rows read: sorting whole rows
            // (summaries, contents) of every relevant item took tens of megabytes after a cold start.
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT item.id FROM item
                    WHERE item.relevant AND item.id = (
                        SELECT MIN(first.id) FROM item first WHERE first.story_id = item.story_id AND first.relevant)
                    ORDER BY item.first_seen_at DESC, item.id DESC LIMIT ?
                    """,
                arguments: [limit])
            // Prepared once for all the items: GRDB prepares an uncached statement again on every
            // call, which for these two was ~1.2 M instructions an item (289 M in all for the
            // feed's 200 stories), more than reading them.
            let itemRow = try db.cachedStatement(
                sql: """
                    SELECT item.*, story.public_id AS story_public_id, 0 AS updated_in_window FROM item
                    JOIN story ON story.id = item.story_id WHERE item.id = ?
                    """)
            let storySources = try db.cachedStatement(
                sql: "SELECT source_id FROM item WHERE story_id = ? GROUP BY source_id ORDER BY MIN(id)")
            let rows = try ids.compactMap { id in try Row.fetchOne(itemRow, arguments: [id]) }
            return try rows.map { row in
                let item = try Self.digestItem(row, in: db)
                let sources = try String.fetchAll(storySources, arguments: [item.storyID])
                return AlertRecord(storyPublicID: item.storyPublicID, item: item, sources: sources)
            }
        }
    }

    private static func digestItem(_ row: Row, in db: Database) throws -> DigestItemRecord {
        let id: Int64 = row["id"]
        let (topics, identifiers) = try topicsAndIdentifiers(ofItem: id, in: db)
        return DigestItemRecord(
            id: row["public_id"] ?? "itm_\(id)", source: row["source_id"], title: row["title"], link: row["link"],
            summary: row["summary"], firstSeen: row["first_seen_at"], published: row["published_at"], topics: topics,
            identifiers: identifiers, storyID: row["story_id"], storyPublicID: row["story_public_id"] ?? "",
            updatedInWindow: row["updated_in_window"])
    }

    /// The topics an item passed (best first) and the identifiers it cites, as `kind:value`.
    static func topicsAndIdentifiers(ofItem id: Int64, in db: Database) throws -> ([TopicScoreRecord], [String]) {
        let topics = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT topic_id, score, matched FROM item_topic WHERE item_id = ? ORDER BY score DESC, topic_id"),
            arguments: [id]
        ).map { topic in
            let matched =
                (try? JSONSerialization.jsonObject(with: Data((topic["matched"] as String).utf8))) as? [String]
            return TopicScoreRecord(id: topic["topic_id"], score: topic["score"], matched: matched ?? [])
        }
        let identifiers = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT kind, value FROM item_identifier WHERE item_id = ? ORDER BY kind, value"),
            arguments: [id]
        ).map { "\($0["kind"] as String):\($0["value"] as String)" }
        return (topics, identifiers)
    }
}

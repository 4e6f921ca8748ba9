internal import Classification
public import Dedup
internal import Fetching
public import Foundation
internal import GRDB

extension SQLiteEventStore {
    public func learnedIdentity(ofSource id: String) async throws -> IdentityKind? {
        try await read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT identity_kind FROM source WHERE id = ?"), arguments: [id]
            )
            .flatMap(IdentityKind.init(rawValue:))
        }
    }

    public func knownItems(ofSource id: String, matching keys: [ItemKeys]) async throws -> [KnownItem] {
        // Each list of keys is one JSON array, so that one statement, prepared once, serves every
        // document whatever its number of items.
        let identityKeys = keys.flatMap { key in IdentityKind.allCases.map { key.key(for: $0).key } }
        let guids = keys.compactMap { $0.guidKey.map { $0.dropFirst("guid:".count) } }
        let arguments: StatementArguments = [
            id, Self.jsonArray(identityKeys), Self.jsonArray(guids), Self.jsonArray(keys.compactMap(\.linkKey)),
            Self.jsonArray(keys.map(\.contentKey)),
        ]
        return try await read { db in
            // The ids from the indexes alone (most items match every lookup), then each item's row
            // once: its text is most of what is read.
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT id, identity_key, guid, link_key, content_fingerprint, title, summary, content,
                            public_id, story_id, first_seen_at
                        FROM item WHERE id IN (
                            SELECT id FROM item WHERE source_id = ?1 AND identity_key IN (SELECT value FROM json_each(?2))
                            UNION SELECT id FROM item WHERE source_id = ?1 AND guid IN (SELECT value FROM json_each(?3))
                            UNION SELECT id FROM item WHERE source_id = ?1 AND link_key IN (SELECT value FROM json_each(?4))
                            UNION SELECT id FROM item
                                WHERE source_id = ?1 AND content_fingerprint IN (SELECT value FROM json_each(?5)))
                        ORDER BY id
                        """), arguments: arguments)
            var known: [KnownItem] = []
            known.reserveCapacity(keys.count)
            while let row = try rows.next() {
                let guid: String? = row[2]
                known.append(
                    KnownItem(
                        id: row[0], identityKey: row[1], guidKey: guid.flatMap { $0.isEmpty ? nil : "guid:" + $0 },
                        linkKey: row[3], contentKey: row[4],
                        text: ItemText(title: row[5], summary: row[6], content: row[7]),
                        publicID: row[8], storyID: row[9], firstSeen: row[10]))
            }
            return known
        }
    }

    /// `values` as a JSON array of strings, for `json_each`. Written here rather than by Foundation:
    /// 138 keys (a 46-item document's identity keys) took 68 µs, against 198 µs through
    /// `JSONEncoder` and 920 µs through `JSONSerialization`, and a poll encodes four lists.
    static func jsonArray(_ values: [some StringProtocol]) -> String {
        var json = "["
        for (index, value) in values.enumerated() {
            if index > 0 { json += "," }
            json += "\""
            if value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for scalar in value.unicodeScalars {
                    switch scalar {
                    case "\"": json += "\\\""
                    case "\\": json += "\\\\"
                    case "\u{0}"..."\u{1F}": json += String(format: "\\u%04x", scalar.value)
                    default: json.unicodeScalars.append(scalar)
                    }
                }
            } else {
                json += value
            }
            json += "\""
        }
        return json + "]"
    }

    public func recentStoryEntries(since: Date) async throws -> [StoryIndex.Entry] {
        let since = since.storageText
        return try await read { db in
            let items = try Row.fetchCursor(
                db,
                sql: """
                    SELECT story_id, simhash, headline_numbers, \(storageMilliseconds(of: "first_seen_at")) FROM item
                    WHERE first_seen_at >= ? AND story_id IS NOT NULL AND simhash IS NOT NULL
                    ORDER BY first_seen_at, id
                    """,
                arguments: [since])
            var entries: [StoryIndex.Entry] = []
            while let row = try items.next() {
                let bits: Int64 = row[1]
                let numbers: Int64 = row[2] ?? 0
                entries.append(
                    StoryIndex.Entry(
                        storyID: row[0], simHash: SimHash(bits: UInt64(bitPattern: bits)),
                        headlineNumbers: UInt32(truncatingIfNeeded: numbers),
                        seenAt: Date(storageMilliseconds: row[3])))
            }
            let keys = try Row.fetchCursor(
                db,
                sql: """
                    SELECT story_id, key, \(storageMilliseconds(of: "added_at")) FROM story_key
                    WHERE added_at >= ? ORDER BY added_at, rowid
                    """,
                arguments: [since])
            while let row = try keys.next() {
                entries.append(
                    StoryIndex.Entry(
                        storyID: row[0], simHash: nil, storyKeys: [row[1]], seenAt: Date(storageMilliseconds: row[2])))
            }
            return entries
        }
    }

    public func story(id: Int64) async throws -> StorySummary? {
        try await read { db in
            // Cached: a poll asks this for each relevant new item.
            guard
                let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM story WHERE id = ?"), arguments: [id])
            else { return nil }
            let sources = try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT source_id FROM item WHERE story_id = ? GROUP BY source_id ORDER BY MIN(id)"),
                arguments: [id])
            return StorySummary(
                id: id, publicID: row["public_id"] ?? "sty_\(id)", sources: sources,
                announced: (row["announced_at"] as Date?) != nil)
        }
    }

    public func lastStoryID() async throws -> Int64 {
        try await read { db in
            // AUTOINCREMENT's counter: never lower than an id once given, even if that story is gone.
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'story'), 0),
                        IFNULL((SELECT MAX(id) FROM story), 0))
                    """) ?? 0
        }
    }

    public func submit(_ record: PollRecord) -> PendingCommit {
        groupCommit.submit(record)
    }

    /// Writes one poll inside an open transaction (``GroupCommit``).
    static func write(_ record: PollRecord, in db: Database) throws -> CommitSummary {
        var summary = CommitSummary()
        let at = record.at.storageText
        try Self.write(
            record.state, ofSource: record.sourceID, kind: record.kind, transitions: record.transitions,
            at: record.at, poll: record.poll, stored: record.stored, in: db)
        if let identity = record.identity {
            // A document was read: the identity it taught, the source's baseline, if it was one, and
            // the oldest item it lists (a document without items leaves the listing as it was).
            try db.executeCached(
                sql: """
                    UPDATE source SET identity_kind = ?, identity_reason = ?, baseline_done = 1,
                        listed_since = coalesce(?, listed_since)
                    WHERE id = ?
                    """,
                arguments: [identity.kind.rawValue, identity.reason, record.listedSince?.storageText, record.sourceID])
        }
        for story in record.newStories {
            // The public id's conflict is checked before the row id's. No RETURNING on the insert
            // that every new story runs: SQLite builds a temporary b-tree for returned rows.
            try db.executeCached(
                sql: """
                    INSERT INTO story (id, public_id, title, simhash, created_at, last_item_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (public_id) DO NOTHING
                    """,
                arguments: [story.id, story.publicID, story.title, story.simHash?.storedValue, at, at])
            if db.changesCount > 0 {
                summary.startedStoryIDs.append(db.lastInsertedRowID)
            } else {
                // A replay: the story is stored already, and joined now.
                let id = try Int64.fetchOne(
                    db, sql: "UPDATE story SET last_item_at = ? WHERE public_id = ? RETURNING id",
                    arguments: [at, story.publicID])
                summary.startedStoryIDs.append(id!)
            }
        }
        func storyID(_ reference: StoryReference) -> Int64 {
            switch reference {
            case .existing(let id): id
            case .started(let index): summary.startedStoryIDs[index]
            }
        }

        var skippedItems: Set<String> = []
        for item in record.newItems {
            let story = storyID(item.story)
            let storyIsNew: Bool = if case .started = item.story { true } else { false }
            if try Self.insert(item, story: story, storyIsNew: storyIsNew, of: record, at: at, in: db) {
                summary.insertedItems += 1
            } else {
                summary.alreadyStored += 1
                skippedItems.insert(item.publicID)
            }
        }
        for update in record.updates {
            try Self.apply(update, at: record.at, in: db)
        }
        for event in record.events where !skippedItems.contains(event.itemPublicID) {
            let story = storyID(event.story)
            try db.executeCached(
                sql: """
                    INSERT INTO policy_event (id, type, source_id, item_id, story_id, announces_story, occurred_at, payload)
                    VALUES (?, ?, ?, (SELECT id FROM item WHERE public_id = ?), ?, ?, ?, ?)
                    """,
                arguments: [
                    event.id, event.type, record.sourceID, event.itemPublicID, story, event.announcesStory,
                    event.occurredAt.storageText, String(decoding: event.payload, as: UTF8.self),
                ])
            if event.announcesStory {
                try db.executeCached(
                    sql: "UPDATE story SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
                    arguments: [event.occurredAt.storageText, story])
            }
            summary.eventIDs.append(event.id)
        }
        for message in record.outbox where !skippedItems.contains(message.itemPublicID ?? "") {
            try Self.insert(message, at: record.at, in: db)
        }
        return summary
    }

    public func pruneItems(firstSeenBefore cutoff: Date, batch: Int = 2_000) async throws -> ItemPruning {
        var pruning = ItemPruning()
        let cutoffText = cutoff.storageText
        while true {
            // A stop (SIGTERM) ends the work between transactions: GRDB throws CancellationError
            // for an access whose task is cancelled. What is deleted stays deleted; the rest waits
            // for the next pass, however large the backlog.
            let deleted = try await write { db in
                // Dates are stored as fixed-width text: comparing the texts compares the times.
                try db.execute(
                    sql: """
                        DELETE FROM item WHERE id IN (
                            SELECT item.id FROM item JOIN source ON source.id = item.source_id
                            WHERE item.first_seen_at < ?1 AND item.first_seen_at < source.listed_since
                            LIMIT ?2)
                        """,
                    arguments: [cutoffText, max(1, batch)])
                return db.changesCount
            }
            pruning.items += deleted
            if deleted < max(1, batch) { break }
        }
        pruning.stories = try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM story WHERE created_at < ?
                        AND NOT EXISTS (SELECT 1 FROM item WHERE item.story_id = story.id)
                    """,
                arguments: [cutoffText])
            return db.changesCount
        }
        return pruning
    }

    /// Whether the source has had its baseline fetch recorded.
    public func isBaselined(source id: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT baseline_done FROM source WHERE id = ?"), arguments: [id])
                ?? false
        }
    }

    public func policyEvents(since: Date?) async throws -> [StoredPolicyEvent] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM policy_event WHERE occurred_at >= ? ORDER BY occurred_at, rowid",
                arguments: [since?.storageText ?? ""]
            ).map { row in
                StoredPolicyEvent(
                    id: row["id"], type: row["type"], sourceID: row["source_id"],
                    announcesStory: row["announces_story"], occurredAt: row["occurred_at"],
                    payload: Data((row["payload"] as String).utf8))
            }
        }
    }

    /// Inserts a new item with its topics, identifiers and story keys; false when its source
    /// already holds an item under the same identity key (stored by an earlier, interrupted run).
    private static func insert(
        _ item: NewItem, story: Int64, storyIsNew: Bool, of record: PollRecord, at: String, in db: Database
    ) throws
        -> Bool
    {
        try db.executeCached(
            sql: """
                INSERT INTO item (
                    public_id, source_id, identity_key, identity_kind, guid, link, canonical_link, link_key, title,
                    summary, content, language, published_at, updated_at, content_fingerprint, simhash,
                    headline_numbers, story_id, relevant, first_seen_at, last_changed_at, final_url, fetched_at,
                    body_sha256, etag, last_modified)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_id, identity_key) DO NOTHING
                """,
            arguments: [
                item.publicID, record.sourceID, item.identityKey, item.identityKind.rawValue, item.guid, item.link,
                item.keys.canonicalLink, item.keys.linkKey, item.title, item.summary, item.content, item.language,
                item.published?.storageText, item.updated?.storageText, item.keys.contentKey,
                item.keys.simHash?.storedValue, Int64(item.keys.headlineNumbers), story, item.classification.relevant,
                at, at,
                item.provenance?.finalURL.absoluteString, item.provenance?.fetchedAt.storageText,
                item.provenance?.sha256,
                item.provenance?.etag, item.provenance?.lastModified,
            ])
        guard db.changesCount > 0 else { return false }
        let id = db.lastInsertedRowID
        try writeClassification(item.classification, ofItem: id, in: db)
        for key in item.keys.storyKeys {
            try db.executeCached(
                sql: "INSERT OR IGNORE INTO story_key (key, story_id, added_at) VALUES (?, ?, ?)",
                arguments: [key, story, at])
        }
        // A story this poll started was written with this time already.
        if !storyIsNew {
            try db.executeCached(sql: "UPDATE story SET last_item_at = ? WHERE id = ?", arguments: [at, story])
        }
        return true
    }

    private static func apply(_ update: ItemUpdate, at: Date, in db: Database) throws {
        try db.executeCached(
            sql: "UPDATE item SET title = ?, summary = ?, content = ?, last_changed_at = ? WHERE id = ?",
            arguments: [update.text.title, update.text.summary, update.text.content, at.storageText, update.itemID])
        guard let classification = update.classification else { return }
        try db.executeCached(
            sql: "UPDATE item SET relevant = ? WHERE id = ?", arguments: [classification.relevant, update.itemID])
        try db.executeCached(sql: "DELETE FROM item_topic WHERE item_id = ?", arguments: [update.itemID])
        try db.executeCached(sql: "DELETE FROM item_identifier WHERE item_id = ?", arguments: [update.itemID])
        try writeClassification(classification, ofItem: update.itemID, in: db)
    }

    /// The topics that pass their thresholds, with the matched terms, and the identifiers cited.
    private static func writeClassification(
        _ classification: Classification, ofItem id: Int64, in db: Database
    ) throws {
        for topic in classification.topics where topic.passes {
            let matched = try JSONSerialization.data(withJSONObject: topic.matched)
            try db.executeCached(
                sql: "INSERT INTO item_topic (item_id, topic_id, score, matched) VALUES (?, ?, ?, ?)",
                arguments: [id, topic.id, topic.score, String(decoding: matched, as: UTF8.self)])
        }
        for identifier in classification.identifiers {
            try db.executeCached(
                sql: "INSERT OR IGNORE INTO item_identifier (item_id, kind, value) VALUES (?, ?, ?)",
                arguments: [id, identifier.kind.rawValue, identifier.value])
        }
    }
}

extension Array {
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

extension Database {
    /// `execute(sql:arguments:)` through the statement cache: for the fixed statements a poll
    /// runs per item, where compiling (and GRDB's authorizer) cost more than running them.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

public import Foundation
internal import GRDB

/// Which items `exportwatch items list` shows.
public struct ItemFilter: Sendable, Equatable {
    public var topic: String?
    public var source: String?
    /// First seen at or after.
    public var since: Date?
    /// Text in the title or summary (case-insensitive for Latin letters).
    public var query: String?
    public var limit: Int

    /// Creates a filter.
    public init(topic: String? = nil, source: String? = nil, since: Date? = nil, query: String? = nil, limit: Int = 50)
    {
        self.topic = topic
        self.source = source
        self.since = since
        self.query = query
        self.limit = limit
    }
}

/// An item as `items list` and `items show` print it.
public struct ItemOverview: Sendable, Equatable {
    public var id: String
    public var source: String
    public var title: String
    public var link: String?
    public var firstSeen: Date
    public var published: Date?
    public var relevant: Bool
    public var topics: [TopicScoreRecord]
    public var identifiers: [String]
    public var storyID: String?
    /// Whether an event announced its story (this item's, or an earlier report's).
    public var storyAnnounced: Bool
    /// Provenance: where and when its bytes were fetched.
    public var finalURL: String?
    public var fetchedAt: Date?
    public var sha256: String?
    /// The events raised for it, each with its deliveries.
    public var events: [EventOverview]
}

/// An event of an item and where its deliveries stand.
public struct EventOverview: Sendable, Equatable {
    public var id: String
    public var type: String
    public var occurredAt: Date
    public var announcesStory: Bool
    /// Per webhook: where its delivery stands.
    public var deliveries: [Delivery]

    /// One webhook's delivery of an event.
    public struct Delivery: Sendable, Equatable {
        public var webhook: String
        /// `pending`, `sent`, `dead`, or `batched in bat_…`.
        public var state: String
        public var attempts: Int
        public var lastError: String?
    }
}

extension SQLiteEventStore {
    /// Items, newest first, matching `filter`.
    public func items(matching filter: ItemFilter) async throws -> [ItemOverview] {
        try await read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let topic = filter.topic {
                conditions.append("item.id IN (SELECT item_id FROM item_topic WHERE topic_id = ?)")
                arguments.append(topic)
            }
            if let source = filter.source {
                conditions.append("item.source_id = ?")
                arguments.append(source)
            }
            if let since = filter.since {
                conditions.append("item.first_seen_at >= ?")
                arguments.append(since.storageText)
            }
            if let query = filter.query, !query.isEmpty {
                conditions.append("(item.title LIKE ? ESCAPE '\\' OR item.summary LIKE ? ESCAPE '\\')")
                let pattern =
                    "%"
                    + query.replacing("\\", with: "\\\\").replacing("%", with: "\\%").replacing("_", with: "\\_") + "%"
                arguments += [pattern, pattern]
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT item.* FROM item \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY item.first_seen_at DESC, item.id DESC LIMIT ?
                    """,
                arguments: StatementArguments(arguments + [filter.limit]))
            return try rows.map { try Self.overview($0, in: db) }
        }
    }

    /// Whether any stored item passed `topic` (a topic taken out of the configuration still
    /// names the items that passed it).
    public func hasItems(ofTopic topic: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM item_topic WHERE topic_id = ?)", arguments: [topic]) ?? false
        }
    }

    /// Whether any stored item came from `source` (a source taken out of the configuration keeps
    /// its items).
    public func hasItems(ofSource source: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM item WHERE source_id = ?)", arguments: [source])
                ?? false
        }
    }

    /// One item by its public id (`itm_…`), or by the id of one of its events (`evt_…`, as the
    /// outbox and the webhook payloads name them), with its events and their deliveries.
    public func item(publicID: String) async throws -> ItemOverview? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM item WHERE public_id = ?1
                    UNION ALL
                    SELECT item.* FROM policy_event JOIN item ON item.id = policy_event.item_id WHERE policy_event.id = ?1
                    LIMIT 1
                    """,
                arguments: [publicID]
            ).map { try Self.overview($0, in: db) }
        }
    }

    private static func overview(_ row: Row, in db: Database) throws -> ItemOverview {
        let id: Int64 = row["id"]
        let (topics, identifiers) = try topicsAndIdentifiers(ofItem: id, in: db)
        // Cached: an item's four lookups, prepared once for a listing of thousands.
        let story = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT public_id, announced_at FROM story WHERE id = ?"),
            arguments: [row["story_id"] as Int64?])
        let events = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM policy_event WHERE item_id = ? ORDER BY occurred_at, rowid"),
            arguments: [id]
        ).map { event in
            let deliveries = try Row.fetchAll(
                db.cachedStatement(
                    sql:
                        "SELECT webhook_id, state, attempts, last_error, batch_id FROM outbox WHERE event_id = ? ORDER BY webhook_id"
                ),
                arguments: [event["id"] as String]
            ).map { row in
                let batch: String? = row["batch_id"]
                return EventOverview.Delivery(
                    webhook: row["webhook_id"], state: (row["state"] as String) + (batch.map { " in \($0)" } ?? ""),
                    attempts: row["attempts"], lastError: row["last_error"])
            }
            return EventOverview(
                id: event["id"], type: event["type"], occurredAt: event["occurred_at"],
                announcesStory: event["announces_story"], deliveries: deliveries)
        }
        return ItemOverview(
            id: row["public_id"] ?? "itm_\(id)", source: row["source_id"], title: row["title"], link: row["link"],
            firstSeen: row["first_seen_at"], published: row["published_at"], relevant: row["relevant"], topics: topics,
            identifiers: identifiers, storyID: story?["public_id"],
            storyAnnounced: (story?["announced_at"] as Date?) != nil,
            finalURL: row["final_url"], fetchedAt: row["fetched_at"], sha256: row["body_sha256"], events: events)
    }
}

/// What ``EventStore/pruneItems(firstSeenBefore:batch:)`` deleted.
public struct ItemPruning: Sendable, Equatable {
    /// Items, with their topics, identifiers and events.
    public var items = 0
    /// Stories left without items.
    public var stories = 0

    /// A count of each.
    public init(items: Int = 0, stories: Int = 0) {
        self.items = items
        self.stories = stories
    }
}

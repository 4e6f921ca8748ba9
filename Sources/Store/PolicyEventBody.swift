public import Foundation

/// The JSON of a `policy_item.*` event (DESIGN.md §7), version 1: what the `json` webhook format
/// sends, and what the other formats are rendered from. Keys are snake_case; every key is always
/// present (null when unknown).
///
/// An event carries a bounded share of its item's texts (``Bounds``); the item keeps them whole.
public struct PolicyEventBody: Codable, Sendable, Equatable {
    /// The most of an item an event carries. A feed's field can hold a megabyte, and an event with
    /// it would be refused by many receivers (nginx's default body limit is 1 MB) with a 413, a
    /// permanent refusal that dead-letters the event: the notification would be lost. Texts past
    /// a bound are cut at a whole character and end in "…"; the store keeps the whole item
    /// (`exportwatch items show`).
    public enum Bounds {
        /// The title, in UTF-8 bytes.
        public static let titleBytes = 2 * 1024
        /// The summary, in UTF-8 bytes.
        public static let summaryBytes = 8 * 1024
        /// Each of a change's `before` and `after`, in UTF-8 bytes.
        public static let changeBytes = 8 * 1024
        /// A longer link is left out (null) rather than cut: a cut link leads nowhere.
        public static let linkBytes = 8 * 1024
        /// Identifiers, the first ones found.
        public static let identifiers = 100
    }

    /// The item an event is about.
    public struct Item: Codable, Sendable, Equatable {
        public var id: String
        public var source: String
        public var title: String
        public var link: String?
        public var summary: String?
        public var published: Date?
        public var language: String?
        /// Identifiers as `kind:value` (`fr-document:2024-07004`).
        public var identifiers: [String]
        public var provenance: Provenance

        /// Creates an item; its title, link, summary and identifiers are kept within ``Bounds``.
        public init(
            id: String, source: String, title: String, link: String?, summary: String?, published: Date?,
            language: String?, identifiers: [String], provenance: Provenance
        ) {
            self.id = id
            self.source = source
            self.title = title.clipped(to: Bounds.titleBytes, in: .utf8)
            self.link = link.flatMap { $0.utf8.count <= Bounds.linkBytes ? $0 : nil }
            self.summary = summary?.clipped(to: Bounds.summaryBytes, in: .utf8)
            self.published = published
            self.language = language
            self.identifiers = Array(identifiers.prefix(Bounds.identifiers))
            self.provenance = provenance
        }
    }

    /// Where the item's bytes came from.
    public struct Provenance: Codable, Sendable, Equatable {
        public var finalURL: String?
        public var fetchedAt: Date?
        public var sha256: String?

        /// Creates a provenance.
        public init(finalURL: String?, fetchedAt: Date?, sha256: String?) {
            self.finalURL = finalURL
            self.fetchedAt = fetchedAt
            self.sha256 = sha256
        }

        enum CodingKeys: String, CodingKey {
            case finalURL = "final_url"
            case fetchedAt = "fetched_at"
            case sha256
        }
    }

    /// A topic the item passed, with the terms that matched.
    public struct Topic: Codable, Sendable, Equatable {
        public var id: String
        public var score: Double
        public var matched: [String]

        /// Creates a topic entry.
        public init(id: String, score: Double, matched: [String]) {
            self.id = id
            self.score = score
            self.matched = matched
        }
    }

    /// The story the item belongs to.
    public struct Story: Codable, Sendable, Equatable {
        public var id: String
        /// The sources that reported it, first reporter first.
        public var sources: [String]
        /// Whether this event announces the story (false: a further source of a known story).
        public var new: Bool

        /// Creates a story entry.
        public init(id: String, sources: [String], new: Bool) {
            self.id = id
            self.sources = sources
            self.new = new
        }
    }

    /// A material change of a `policy_item.updated` event.
    public struct Change: Codable, Sendable, Equatable {
        public var field: String
        public var before: String
        public var after: String

        /// Creates a change; `before` and `after` are kept within ``Bounds/changeBytes``.
        public init(field: String, before: String, after: String) {
            self.field = field
            self.before = before.clipped(to: Bounds.changeBytes, in: .utf8)
            self.after = after.clipped(to: Bounds.changeBytes, in: .utf8)
        }
    }

    /// The payload's version: 1.
    public var version = 1
    public var type: String
    public var id: String
    public var occurredAt: Date
    public var item: Item
    public var topics: [Topic]
    public var story: Story
    /// What changed (`policy_item.updated`); empty for `policy_item.created`.
    public var changes: [Change]

    /// Creates an event body.
    public init(
        type: String, id: String, occurredAt: Date, item: Item, topics: [Topic], story: Story, changes: [Change] = []
    ) {
        self.type = type
        self.id = id
        self.occurredAt = occurredAt
        self.item = item
        self.topics = topics
        self.story = story
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case version, type, id
        case occurredAt = "occurred_at"
        case item, topics, story, changes
    }

    /// The body as JSON: sorted keys, RFC 3339 dates, nulls written out, `/` not escaped.
    public func encoded() throws -> Data {
        try EventJSON.encoder.encode(self)
    }

    /// Reads a body back.
    public static func decode(_ data: Data) throws -> PolicyEventBody {
        try EventJSON.decoder.decode(PolicyEventBody.self, from: data)
    }
}

extension PolicyEventBody.Item {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(title, forKey: .title)
        try container.encode(link, forKey: .link)
        try container.encode(summary, forKey: .summary)
        try container.encode(published, forKey: .published)
        try container.encode(language, forKey: .language)
        try container.encode(identifiers, forKey: .identifiers)
        try container.encode(provenance, forKey: .provenance)
    }
}

extension PolicyEventBody.Provenance {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(finalURL, forKey: .finalURL)
        try container.encode(fetchedAt, forKey: .fetchedAt)
        try container.encode(sha256, forKey: .sha256)
    }
}

/// The JSON of a source health event (`source.down`, `source.recovered`, `source.retired`,
/// `source.parse_empty`), version 1.
public struct SourceEventBody: Codable, Sendable, Equatable {
    /// The source it is about.
    public struct Source: Codable, Sendable, Equatable {
        public var id: String
        public var url: String
        /// `ok`, `failing`, `empty` or `retired` after the transition.
        public var health: String
        /// Why, in words (the failure that crossed the threshold).
        public var reason: String?
        public var consecutiveFailures: Int

        /// Creates a source entry.
        public init(id: String, url: String, health: String, reason: String?, consecutiveFailures: Int) {
            self.id = id
            self.url = url
            self.health = health
            self.reason = reason
            self.consecutiveFailures = consecutiveFailures
        }

        enum CodingKeys: String, CodingKey {
            case id, url, health, reason
            case consecutiveFailures = "consecutive_failures"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(url, forKey: .url)
            try container.encode(health, forKey: .health)
            try container.encode(reason, forKey: .reason)
            try container.encode(consecutiveFailures, forKey: .consecutiveFailures)
        }
    }

    public var version = 1
    public var type: String
    public var id: String
    public var occurredAt: Date
    public var source: Source

    /// Creates a source event body.
    public init(type: String, id: String, occurredAt: Date, source: Source) {
        self.type = type
        self.id = id
        self.occurredAt = occurredAt
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case version, type, id
        case occurredAt = "occurred_at"
        case source
    }

    /// The body as JSON, encoded as ``PolicyEventBody/encoded()`` is.
    public func encoded() throws -> Data { try EventJSON.encoder.encode(self) }

    /// Reads a body back.
    public static func decode(_ data: Data) throws -> SourceEventBody {
        try EventJSON.decoder.decode(SourceEventBody.self, from: data)
    }
}

/// The JSON coders every event body shares: sorted keys, RFC 3339 dates, `/` unescaped.
public enum EventJSON {
    /// The encoder.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The decoder.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

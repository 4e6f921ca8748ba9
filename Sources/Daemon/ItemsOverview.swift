internal import Classification
public import Foundation
public import Store

/// What `exportwatch items list` and `items show` print: what has been collected, and why an
/// item was (not) sent.
public enum ItemsOverview {
    /// The items matching `filter`, newest first, from the configuration's store (none when it
    /// has never run).
    /// - Throws: ``UnknownFilter`` for a topic or source that neither the configuration (its topics
    ///   file, at `configurationPath`'s side when it names none) nor any stored item knows: a
    ///   mistyped id would otherwise list nothing and read as "nothing was collected".
    public static func items(
        _ configuration: Configuration, configurationPath: String, filter: ItemFilter
    ) async throws -> [ItemOverview] {
        let store = try configuration.existingStore()
        if let topic = filter.topic {
            let topics = try ConfigurationLoader().topics(for: configuration, configurationPath: configurationPath)
            if !topics.contains(where: { $0.id == topic }), try await store?.hasItems(ofTopic: topic) != true {
                throw UnknownFilter.topic(topic, known: topics.map(\.id))
            }
        }
        if let source = filter.source, !configuration.sources.contains(where: { $0.id == source }),
            try await store?.hasItems(ofSource: source) != true
        {
            throw UnknownFilter.source(source, known: configuration.sources.map(\.id))
        }
        return try await store?.items(matching: filter) ?? []
    }

    /// One item, or nil.
    public static func item(_ configuration: Configuration, id: String) async throws -> ItemOverview? {
        guard let store = try configuration.existingStore() else { return nil }
        return try await store.item(publicID: id)
    }

    /// One line per item: time (in the daemon's zone), source, best topic and score, whether its
    /// story was announced, title (its first 70 terminal columns), id.
    public static func table(_ items: [ItemOverview], zone: TimeZone) -> String {
        SourceOverview.columns(
            ["FIRST SEEN", "SOURCE", "TOPIC", "STORY", "TITLE", "ID"],
            items.map { item in
                let topic = item.topics.first.map { "\($0.id) \(String(format: "%.2f", $0.score))" } ?? "-"
                let story = !item.relevant ? "not relevant" : item.storyAnnounced ? "announced" : "not announced"
                return [
                    SourceOverview.stamp(item.firstSeen, zone), item.source, topic, story,
                    String(item.title.prefix(terminalColumns: 70)), item.id,
                ]
            })
    }

    /// Everything known of one item: provenance, topics with matched terms, identifiers, story,
    /// and each event with its deliveries.
    public static func detail(_ item: ItemOverview, zone: TimeZone) -> String {
        var lines = [
            "id: \(item.id)", "title: \(item.title)", "link: \(item.link ?? "-")", "source: \(item.source)",
            "first seen: \(SourceOverview.stamp(item.firstSeen, zone))",
            "published: \(item.published.map { SourceOverview.stamp($0, zone) } ?? "-")",
            "relevant: \(item.relevant ? "yes" : "no")",
        ]
        for topic in item.topics {
            lines.append(
                "topic: \(topic.id) \(String(format: "%.2f", topic.score)) (matched: \(topic.matched.joined(separator: ", ")))"
            )
        }
        if !item.identifiers.isEmpty { lines.append("identifiers: \(item.identifiers.joined(separator: ", "))") }
        lines.append("story: \(item.storyID ?? "-") (\(item.storyAnnounced ? "announced" : "not announced"))")
        lines.append(
            "fetched from: \(item.finalURL ?? "-") at \(item.fetchedAt.map { SourceOverview.stamp($0, zone) } ?? "-")")
        lines.append("sha256: \(item.sha256 ?? "-")")
        if item.events.isEmpty {
            lines.append(
                item.relevant
                    ? "events: none (a source's baseline, or a further report of a story already announced)"
                    : "events: none (not relevant to any topic)")
        }
        for event in item.events {
            lines.append(
                "event: \(event.id) \(event.type) at \(SourceOverview.stamp(event.occurredAt, zone))"
                    + (event.announcesStory ? "" : " (a further source of an announced story)"))
            if event.deliveries.isEmpty { lines.append("  no webhook wanted it") }
            for delivery in event.deliveries {
                lines.append(
                    "  \(delivery.webhook): \(delivery.state) after \(delivery.attempts) attempt(s)"
                        + (delivery.lastError.map { ", last error: \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The items as JSON Lines, keys in alphabetical order.
    public static func jsonLines(_ items: [ItemOverview]) throws -> String {
        // An encoder rather than JSONSerialization's sorted keys, which compare them with ICU
        // collation: three quarters of listing 46,000 items went there.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try items.map { String(decoding: try encoder.encode(ItemLine($0)), as: UTF8.self) }
            .joined(separator: "\n")
    }

    /// Why nothing can be listed, when the configuration's state database does not exist (it has
    /// never run, or `state_dir` names another folder than the daemon's); nil when it exists.
    public static func missingStoreNote(_ configuration: Configuration) -> String? {
        let path = configuration.stateDatabasePath
        guard !FileManager.default.fileExists(atPath: path) else { return nil }
        return "no state database at \(path): nothing has been collected with this configuration yet "
            + "(`exportwatch run --once` polls every source)"
    }
}

/// A filter of `items list` that names nothing known.
public enum UnknownFilter: Error, Sendable, Equatable, CustomStringConvertible {
    /// A topic id, with the configured ones.
    case topic(String, known: [String])
    /// A source id, with the configured ones.
    case source(String, known: [String])

    public var description: String {
        switch self {
        case .topic(let id, let known):
            let topics = known.isEmpty ? "none are configured" : "the topics are " + known.joined(separator: ", ")
            return "no topic \"\(id)\" in the topics file or the stored items\(Self.suggestion(id, known)); \(topics)"
        case .source(let id, let known):
            return "no source \"\(id)\" in the configuration or the stored items\(Self.suggestion(id, known)); "
                + "`exportwatch sources list` names the \(known.count) configured"
        }
    }

    /// " (did you mean …?)" with up to five known ids that contain `id` or that `id` contains,
    /// ignoring case; empty when none do.
    private static func suggestion(_ id: String, _ known: [String]) -> String {
        let typed = id.lowercased()
        let close = known.filter {
            let candidate = $0.lowercased()
            return candidate.contains(typed) || typed.contains(candidate)
        }
        guard !close.isEmpty, !typed.isEmpty else { return "" }
        return " (did you mean \(close.prefix(5).joined(separator: ", "))?)"
    }
}

/// One line of `items list --json`.
private struct ItemLine: Encodable {
    private enum Key: String, CodingKey {
        case id, source, title, link, relevant, topics, identifiers, story, events
        case firstSeen = "first_seen", storyAnnounced = "story_announced"
    }

    private struct TopicLine: Encodable {
        var id: String
        var score: Double
        var matched: [String]
    }

    let item: ItemOverview

    init(_ item: ItemOverview) { self.item = item }

    func encode(to encoder: any Encoder) throws {
        var line = encoder.container(keyedBy: Key.self)
        try line.encode(item.id, forKey: .id)
        try line.encode(item.source, forKey: .source)
        try line.encode(item.title, forKey: .title)
        try line.encode(item.link, forKey: .link)
        try line.encode(item.firstSeen.formatted(.iso8601), forKey: .firstSeen)
        try line.encode(item.relevant, forKey: .relevant)
        try line.encode(item.topics.map { TopicLine(id: $0.id, score: $0.score, matched: $0.matched) }, forKey: .topics)
        try line.encode(item.identifiers, forKey: .identifiers)
        try line.encode(item.storyID, forKey: .story)
        try line.encode(item.storyAnnounced, forKey: .storyAnnounced)
        try line.encode(item.events.map(\.id), forKey: .events)
    }
}

public import Foundation

/// One day's digest (DESIGN.md §2a `DigestDay`): the day and its zone, counts, stories per
/// topic, source problems, and the 14-day chart. Every renderer reads only this, so the
/// Markdown, HTML and JSON files say the same thing.
public struct DigestDay: Sendable, Equatable, Codable {
    /// The schema version of the JSON file.
    public var version = 1
    /// `YYYY-MM-DD`.
    public var day: String
    /// The IANA zone the day is local to.
    public var timeZone: String
    /// The day's first and last instant, exclusive end (UTC).
    public var start: Date
    public var end: Date
    /// 24, or 23 / 25 on a DST change.
    public var hours: Int
    /// How items are put in a day, in words.
    public var basis: String
    /// Relevant stories (each once) and items.
    public var storyCount: Int
    public var itemCount: Int
    /// Sources polled in the day, and those whose last poll failed.
    public var sourcesPolled: Int
    public var sourcesFailing: [String]
    /// Per topic: id, name, stories, items, most first.
    public var topics: [TopicCount]
    /// One section per topic with stories, most stories first.
    public var sections: [Section]
    /// Health problems during the day.
    public var problems: [Problem]
    /// Relevant items per topic for the 14 days ending with this one.
    public var chart: [ChartDay]

    public struct TopicCount: Sendable, Equatable, Codable {
        public var id: String
        public var name: String
        public var stories: Int
        public var items: Int
    }

    public struct Section: Sendable, Equatable, Codable {
        public var topic: String
        public var name: String
        public var stories: [Story]
    }

    /// A story, once, in its best-scoring topic.
    public struct Story: Sendable, Equatable, Codable {
        public var id: String
        public var title: String
        public var link: String?
        public var source: String
        /// When exportwatch first saw it, and that time local to the day's zone.
        public var firstSeen: Date
        public var localTime: String
        public var score: Double
        public var matched: [String]
        public var identifiers: [String]
        /// It changed materially during the day.
        public var updated: Bool
        /// The other reports of the story up to the end of the day.
        public var otherReports: [Report]
    }

    public struct Report: Sendable, Equatable, Codable {
        public var source: String
        public var title: String
        public var link: String?
        public var localTime: String
    }

    public struct Problem: Sendable, Equatable, Codable {
        public var source: String
        /// `source.down`, `source.retired`, `source.parse_empty`, or `failing` at the end of the day.
        public var type: String
        public var reason: String?
        public var localTime: String?
    }

    public struct ChartDay: Sendable, Equatable, Codable {
        public var day: String
        /// Relevant items per topic id.
        public var counts: [String: Int]
    }

    enum CodingKeys: String, CodingKey {
        case version, day
        case timeZone = "time_zone"
        case start, end, hours, basis
        case storyCount = "story_count"
        case itemCount = "item_count"
        case sourcesPolled = "sources_polled"
        case sourcesFailing = "sources_failing"
        case topics, sections, problems, chart
    }
}

extension DigestDay.Story {
    enum CodingKeys: String, CodingKey {
        case id, title, link, source
        case firstSeen = "first_seen"
        case localTime = "local_time"
        case score, matched, identifiers, updated
        case otherReports = "other_reports"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(link, forKey: .link)
        try container.encode(source, forKey: .source)
        try container.encode(firstSeen, forKey: .firstSeen)
        try container.encode(localTime, forKey: .localTime)
        try container.encode(score, forKey: .score)
        try container.encode(matched, forKey: .matched)
        try container.encode(identifiers, forKey: .identifiers)
        try container.encode(updated, forKey: .updated)
        try container.encode(otherReports, forKey: .otherReports)
    }
}

extension DigestDay.Report {
    enum CodingKeys: String, CodingKey {
        case source, title, link
        case localTime = "local_time"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(title, forKey: .title)
        try container.encode(link, forKey: .link)
        try container.encode(localTime, forKey: .localTime)
    }
}

extension DigestDay.Problem {
    enum CodingKeys: String, CodingKey {
        case source, type, reason
        case localTime = "local_time"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(type, forKey: .type)
        try container.encode(reason, forKey: .reason)
        try container.encode(localTime, forKey: .localTime)
    }
}

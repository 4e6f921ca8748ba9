public import Foundation

/// A relevant item as the digest lists it.
public struct DigestItemRecord: Sendable, Equatable {
    /// The item's public id.
    public var id: String
    public var source: String
    public var title: String
    public var link: String?
    public var summary: String?
    /// When exportwatch first saw it: the time that puts it in a day.
    public var firstSeen: Date
    public var published: Date?
    /// The topics it passed, with their scores and matched terms.
    public var topics: [TopicScoreRecord]
    /// `kind:value` identifiers.
    public var identifiers: [String]
    /// Its story's row id and public id.
    public var storyID: Int64
    public var storyPublicID: String
    /// Whether it changed materially within the window (a `policy_item.updated` was raised).
    public var updatedInWindow: Bool
}

/// A topic an item passed.
public struct TopicScoreRecord: Sendable, Equatable {
    public var id: String
    public var score: Double
    public var matched: [String]
}

/// Another report of a story: its source, title, link and when it was seen.
public struct StoryReportRecord: Sendable, Equatable {
    public var storyID: Int64
    public var itemID: String
    public var source: String
    public var title: String
    public var link: String?
    public var firstSeen: Date
}

/// A health transition of a source, for the digest's problems section.
public struct SourceProblemRecord: Sendable, Equatable {
    public var source: String
    /// `source.down`, `source.retired`, `source.parse_empty`, `source.recovered`, or `failing`
    /// for a source whose last poll of the day failed.
    public var type: String
    public var reason: String?
    public var at: Date
}

/// What the polls of a day came to.
public struct PollSummary: Sendable, Equatable {
    /// Sources polled at least once.
    public var polled: Int
    /// Sources whose last poll of the day failed, by id.
    public var failing: [String]
}

/// A digest built earlier.
public struct BuiltDigest: Sendable, Equatable {
    /// `YYYY-MM-DD`.
    public var day: String
    public var timeZone: String
    public var files: [String]
}

/// A relevant story for the alerts feed: its first relevant report.
public struct AlertRecord: Sendable, Equatable {
    public var storyPublicID: String
    public var item: DigestItemRecord
    /// The sources that reported it so far.
    public var sources: [String]
}

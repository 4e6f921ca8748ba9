public import Foundation

/// A feed or page as exportwatch reads it, whatever its format: the normalized model of
/// DESIGN.md §5. Text is UTF-8, dates are instants, and URLs are absolute, kept as the text the
/// document gave (resolved where it was relative) rather than parsed, since they are only stored and
/// compared.
public struct ParsedFeed: Sendable, Equatable {
    /// The document's format.
    public enum Format: String, Sendable, Equatable {
        case rss090 = "rss0.90"
        case rss091 = "rss0.91"
        case rss092 = "rss0.92"
        case rss10 = "rss1.0"
        case rss20 = "rss2.0"
        /// RSS whose version is not given.
        case rss
        case atom03 = "atom0.3"
        case atom10 = "atom1.0"
        case jsonFeed10 = "jsonfeed1.0"
        case jsonFeed11 = "jsonfeed1.1"
        case html
    }

    public var format: Format
    /// Atom id, RSS 1.0 channel `rdf:about`.
    public var id: String?
    /// Plain text.
    public var title: String?
    /// The alternate (home page) link.
    public var link: String?
    /// The feed's own URL (`rel="self"`).
    public var feedLink: String?
    public var links: [Link] = []
    /// HTML as given.
    public var description: String?
    public var language: String?
    public var updated: Date?
    public var published: Date?
    public var authors: [Person] = []
    public var categories: [String] = []
    /// The generator's name only.
    public var generator: String?
    public var rights: String?
    public var image: String?
    /// RSS `<ttl>`: how many minutes the publisher says the feed may be cached (not part of the
    /// JSON of §5; the poller waits at least this long between polls).
    public var ttlMinutes: Int?
    public var items: [ParsedItem] = []
    /// What went wrong but was recovered from: parser errors with their lines, dropped items.
    public var warnings: [String] = []

    /// An empty feed of a format.
    public init(format: Format) {
        self.format = format
    }
}

/// One entry of a feed.
public struct ParsedItem: Sendable, Equatable {
    /// RSS guid, Atom id, RDF `rdf:about`, JSON Feed id.
    public var id: String?
    /// Plain text.
    public var title: String?
    /// The alternate link.
    public var link: String?
    public var links: [Link] = []
    /// HTML as given (RSS description, Atom summary).
    public var summary: String?
    /// HTML as given (content:encoded, Atom content).
    public var content: String?
    public var published: Date?
    public var updated: Date?
    public var authors: [Person] = []
    public var categories: [String] = []
    public var enclosures: [Enclosure] = []

    /// An empty item.
    public init() {}
}

/// A link with its relation and media type.
public struct Link: Sendable, Equatable {
    public var rel: String?
    public var type: String?
    public var href: String

    /// Creates a link.
    public init(rel: String?, type: String?, href: String) {
        self.rel = rel
        self.type = type
        self.href = href
    }
}

/// An author.
public struct Person: Sendable, Equatable {
    public var name: String?
    public var email: String?
    public var uri: String?

    /// Creates a person.
    public init(name: String? = nil, email: String? = nil, uri: String? = nil) {
        self.name = name
        self.email = email
        self.uri = uri
    }
}

/// An attached file (podcast audio, a PDF of a rule).
public struct Enclosure: Sendable, Equatable {
    public var url: String
    public var type: String?
    /// Bytes, when the feed gives a whole number.
    public var length: Int?

    /// Creates an enclosure.
    public init(url: String, type: String?, length: Int?) {
        self.url = url
        self.type = type
        self.length = length
    }
}

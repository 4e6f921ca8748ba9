public import Classification
public import Foundation

/// What deduplication reads of a parsed item: its identity candidates and its text.
public struct DedupItem: Sendable, Equatable {
    /// The feed's guid or Atom id, as given.
    public var guid: String?
    /// The item's link, absolute.
    public var link: String?
    /// The title, plain text.
    public var title: String
    /// The summary, HTML as the feed gave it.
    public var summary: String?
    /// The full content, HTML.
    public var content: String?
    /// When the publisher says it was published (or updated, when that is all it says).
    public var published: Date?
    /// The regulatory identifiers the item cites.
    public var identifiers: [RegulatoryIdentifier]

    /// Creates an item.
    public init(
        guid: String?, link: String?, title: String, summary: String? = nil, content: String? = nil,
        published: Date? = nil, identifiers: [RegulatoryIdentifier] = []
    ) {
        self.guid = guid
        self.link = link
        self.title = title
        self.summary = summary
        self.content = content
        self.published = published
        self.identifiers = identifiers
    }
}

/// How an item is told apart from the other items of its source.
public enum IdentityKind: String, Sendable, Equatable, CaseIterable {
    /// By the publisher's guid or id.
    case guid
    /// By the canonical link.
    case link
    /// By a hash of the normalised title and the date.
    case content
}

/// A source's `identity` setting: which ``IdentityKind`` to use, or `auto` to start with guids and
/// fall back when they prove untrustworthy.
public enum IdentityPolicy: String, Sendable, Equatable, CaseIterable {
    case auto, guid, link, content
}

/// The keys an item can be found by (DESIGN.md §2a `ItemKey` / `StoryKey`), computed once.
public struct ItemKeys: Sendable, Equatable {
    /// `guid:` and the guid, when the item has a non-empty one.
    public var guidKey: String?
    /// The canonical link (``CanonicalURL``).
    public var canonicalLink: String?
    /// `link:` and the canonical link without its scheme.
    public var linkKey: String?
    /// `content:` and a hash of the normalised title and the publication date.
    public var contentKey: String
    /// The story fingerprint of the title and summary.
    public var simHash: SimHash?
    /// The numbers of the headline (``StoryText/headlineNumbers(_:)``), 0 when none.
    public var headlineNumbers: UInt32
    /// The identifier keys that tie this item to a story whatever its language (``storyKeys(for:)``).
    public var storyKeys: [String]

    /// The keys of `item`, its story fingerprint included.
    public init(_ item: DedupItem) {
        self.init(identifying: item)
        addStoryFingerprint(of: item)
    }

    /// The keys that find `item` among the stored ones, without its story fingerprint (``simHash``
    /// nil, ``headlineNumbers`` 0), which only a new item needs and which costs more than the rest.
    public init(identifying item: DedupItem) {
        let guid = item.guid?.trimmingWhitespace ?? ""
        guidKey = guid.isEmpty ? nil : "guid:" + guid
        canonicalLink = item.link.flatMap(CanonicalURL.canonicalize)
        linkKey = canonicalLink.map { "link:" + CanonicalURL.matchingKey(canonical: $0) }
        var content = TextNormalizer.normalize(item.title)
        if let published = item.published {
            content += "\n" + String(Int64(published.timeIntervalSince1970.rounded(.down)))
        }
        contentKey = "content:" + StableHash.hex(content.utf8)
        simHash = nil
        headlineNumbers = 0
        storyKeys = Self.storyKeys(for: item.identifiers)
    }

    /// Adds the story fingerprint of `item` (the item these keys identify).
    public mutating func addStoryFingerprint(of item: DedupItem) {
        (simHash, headlineNumbers) = StoryText.fingerprint(title: item.title, summary: item.summary ?? item.content)
    }

    /// The public id of the item stored under `identityKey` in `source`: `itm_` and 128 bits of
    /// stable hashes, so that it is the same in every database and on every retry. The first 32
    /// bits hash the source alone, so that a poll's new items sort together in the store's index of
    /// public ids: storing them changes a few pages of it, not one page per item (which made that
    /// index most of what a cold start of a thousand sources wrote).
    public static func publicItemID(source: String, identityKey: String) -> String {
        "itm_" + StableHash.hex(source.utf8).prefix(8) + wideHash(source + "\n" + identityKey).prefix(24)
    }

    /// The public id of the story an item starts: `sty_`, the founding item's source part, and a
    /// hash of the item's public id.
    public static func publicStoryID(foundedBy itemPublicID: String) -> String {
        "sty_" + itemPublicID.dropFirst(4).prefix(8) + wideHash(itemPublicID).prefix(24)
    }

    private static func wideHash(_ text: String) -> String {
        StableHash.hex(text.utf8) + StableHash.hex(text.utf8, seed: 0x5bd1_e995)
    }

    /// The key of the given kind, falling back from guid to link to content when the item lacks it.
    public func key(for kind: IdentityKind) -> (key: String, kind: IdentityKind) {
        switch kind {
        case .guid:
            if let guidKey { return (guidKey, .guid) }
            return key(for: .link)
        case .link:
            if let linkKey { return (linkKey, .link) }
            return (contentKey, .content)
        case .content:
            return (contentKey, .content)
        }
    }

    /// Identifiers specific enough to name one event: a Federal Register document number, a
    /// Chinese announcement number (a joint one also under its lead issuer's series, which is how
    /// a report naming only that issuer cites it), a Regulation Identifier Number is not (a
    /// rulemaking spans months), nor a lone ECCN (3A090 is cited by every chip story); a set of two
    /// or more ECCNs cited together is.
    public static func storyKeys(for identifiers: [RegulatoryIdentifier]) -> [String] {
        var keys: Set<String> = []
        for identifier in identifiers {
            switch identifier.kind {
            case .federalRegisterDocument, .chineseAnnouncement:
                for named in [identifier, identifier.leadIssuerAnnouncement].compactMap({ $0 }) {
                    keys.insert(named.kind.rawValue + ":" + named.value)
                }
            default: break
            }
        }
        let eccns = Set(
            identifiers.filter { $0.kind == .eccn }.map { String($0.value.uppercased().split(separator: ".")[0]) })
        if eccns.count >= 2 { keys.insert("eccn-set:" + eccns.sorted().joined(separator: ",")) }
        return keys.sorted()
    }
}

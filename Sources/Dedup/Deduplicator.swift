public import Foundation

/// An item of a source already in the store, as deduplication compares it.
public struct KnownItem: Sendable, Equatable {
    /// The store's id of the item.
    public var id: Int64
    /// The key it was stored under, and how that key was chosen.
    public var identityKey: String
    /// Its `guid:` key, when it had a guid.
    public var guidKey: String?
    /// Its `link:` key.
    public var linkKey: String?
    /// Its `content:` key.
    public var contentKey: String?
    /// Its text as last recorded.
    public var text: ItemText
    /// Its public id (`itm_…`), as events name it.
    public var publicID: String?
    /// The row id of its story.
    public var storyID: Int64?
    /// When it was first seen.
    public var firstSeen: Date?

    /// Creates a known item.
    public init(
        id: Int64, identityKey: String, guidKey: String?, linkKey: String?, contentKey: String?, text: ItemText,
        publicID: String? = nil, storyID: Int64? = nil, firstSeen: Date? = nil
    ) {
        self.id = id
        self.publicID = publicID
        self.storyID = storyID
        self.firstSeen = firstSeen
        self.identityKey = identityKey
        self.guidKey = guidKey
        self.linkKey = linkKey
        self.contentKey = contentKey
        self.text = text
    }
}

/// Which identity a fetch was resolved by, and why when it is not the guid.
public struct IdentityChoice: Sendable, Equatable {
    /// The kind of key items are stored under from now on.
    public var kind: IdentityKind
    /// Why guids (or links) were not trusted, in words; nil when the configured or learnt kind held.
    public var reason: String?
    /// Whether this fetch changed the kind the source had learnt (the switch to log, once).
    public var switched: Bool

    /// Creates a choice.
    public init(kind: IdentityKind, reason: String?, switched: Bool) {
        self.kind = kind
        self.reason = reason
        self.switched = switched
    }
}

/// What deduplication decided about one fetched item (DESIGN.md §2a `DedupDecision`).
public enum ItemDecision: Sendable, Equatable {
    /// Never seen: stored under this key, then matched to a story.
    case new(identityKey: String, identityKind: IdentityKind)
    /// Seen before; nothing changed, or only cosmetically (`cosmetic`: the stored text is refreshed silently).
    case knownUnchanged(itemID: Int64, cosmetic: Bool)
    /// Seen before, and its text changed materially: one `policy_item.updated`.
    case updated(itemID: Int64, changes: [FieldChange])
    /// The same item appears earlier in this fetch; ignored.
    case repeatedInFetch
}

/// Decides, for one fetch of one source, which items are new, known, or updated: the "item seen?"
/// stage of DESIGN.md §1. Pure: the store supplies the known items that share a key with the fetch.
///
/// An item is known when a stored item of the source has its identity key; failing that, when one
/// has its canonical link (and the link names one item in this fetch); failing that, when one has
/// its title and date (likewise unique in the fetch, and dated). So a source whose guids change
/// every fetch, or that moves from guids to links, never makes old items new.
public struct Deduplicator: Sendable {
    /// The source's `identity` setting.
    public var policy: IdentityPolicy
    /// The kind the source learnt on earlier fetches (auto policy only), nil for a new source.
    public var learned: IdentityKind?

    /// Creates a deduplicator for one source.
    public init(policy: IdentityPolicy, learned: IdentityKind?) {
        self.policy = policy
        self.learned = learned
    }

    /// Resolves a fetch: which identity to use, and a decision per item, in order.
    public func resolve(
        _ items: [(item: DedupItem, keys: ItemKeys)], known: [KnownItem]
    ) -> (identity: IdentityChoice, decisions: [ItemDecision]) {
        let keys = items.map(\.keys)
        // Positions in `known`, the first of each key.
        let byGuid = Self.positions(of: known) { $0.guidKey }
        let byLink = Self.positions(of: known) { $0.linkKey }
        let identity = chooseIdentity(keys, known: known, byGuid: byGuid, byLink: byLink)
        let byIdentity = Self.positions(of: known) { $0.identityKey }
        let byContent = Self.positions(of: known) { $0.contentKey }
        let linkCounts = counts(keys.compactMap(\.linkKey))
        let contentCounts = counts(keys.map(\.contentKey))
        let guidsTrusted = identity.kind == .guid

        var seen: Set<String> = []
        var decisions: [ItemDecision] = []
        decisions.reserveCapacity(items.count)
        for (item, keys) in zip(items.lazy.map(\.item), keys) {
            let (key, kind) = keys.key(for: identity.kind)
            guard seen.insert(key).inserted else {
                decisions.append(.repeatedInFetch)
                continue
            }
            var match = byIdentity[key]
            if match == nil, guidsTrusted, let guid = keys.guidKey { match = byGuid[guid] }
            if match == nil, let link = keys.linkKey, linkCounts[link] == 1 { match = byLink[link] }
            if match == nil, item.published != nil, contentCounts[keys.contentKey] == 1 {
                match = byContent[keys.contentKey]
            }
            guard let position = match else {
                decisions.append(.new(identityKey: key, identityKind: kind))
                continue
            }
            let known = known[position]
            let fetched = ItemText(title: item.title, summary: item.summary, content: item.content)
            let (material, anyChange) = ChangeDetector.compare(stored: known.text, fetched: fetched)
            decisions.append(
                material.isEmpty
                    ? .knownUnchanged(itemID: known.id, cosmetic: anyChange)
                    : .updated(itemID: known.id, changes: material))
        }
        return (identity, decisions)
    }

    /// The identity kind for this fetch. An explicit policy is obeyed. Under `auto`, guids are
    /// trusted until a fetch shows them wanting: an item without one, two items sharing one, or
    /// guids that changed while links stayed (at least half of the items found again by their
    /// link came with a new guid). Links are then trusted unless one is missing or shared, and the
    /// title-and-date hash is the last resort. A learnt kind is never upgraded again.
    /// - Parameters:
    ///   - byGuid: the position in `known` of the first item with each guid key.
    ///   - byLink: the same, by link key.
    private func chooseIdentity(
        _ keys: [ItemKeys], known: [KnownItem], byGuid: [String: Int], byLink: [String: Int]
    ) -> IdentityChoice {
        switch policy {
        case .guid: return IdentityChoice(kind: .guid, reason: nil, switched: false)
        case .link: return IdentityChoice(kind: .link, reason: nil, switched: false)
        case .content: return IdentityChoice(kind: .content, reason: nil, switched: false)
        case .auto: break
        }
        let start = learned ?? .guid
        var kind = start
        var reason: String?
        if kind == .guid, let distrust = guidDistrust(keys, known: known, byGuid: byGuid, byLink: byLink) {
            kind = .link
            reason = distrust
        }
        if kind == .link {
            let links = keys.map(\.linkKey)
            if links.contains(nil) {
                kind = .content
                reason = (reason.map { $0 + "; " } ?? "") + "an item has no link"
            } else if Set(links).count < links.count {
                kind = .content
                reason = (reason.map { $0 + "; " } ?? "") + "two items share a link"
            }
        }
        return IdentityChoice(kind: kind, reason: reason, switched: learned != nil && kind != start)
    }

    private func guidDistrust(
        _ keys: [ItemKeys], known: [KnownItem], byGuid: [String: Int], byLink: [String: Int]
    ) -> String? {
        let guids = keys.map(\.guidKey)
        if guids.contains(nil) { return "an item has no guid" }
        if Set(guids).count < guids.count { return "two items share a guid" }
        var foundByLink = 0
        var changedGuid = 0
        for key in keys {
            guard let link = key.linkKey, let stored = byLink[link] else { continue }
            foundByLink += 1
            if let guid = key.guidKey, byGuid[guid] == nil, known[stored].guidKey != guid { changedGuid += 1 }
        }
        if changedGuid > 0, changedGuid * 2 >= foundByLink {
            return "guids changed while links stayed (\(changedGuid) of \(foundByLink) items)"
        }
        return nil
    }

    /// The position in `known` of the first item with each key `key` gives.
    private static func positions(of known: [KnownItem], key: (KnownItem) -> String?) -> [String: Int] {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(known.count)
        for (position, item) in known.enumerated() {
            if let key = key(item), positions[key] == nil { positions[key] = position }
        }
        return positions
    }

    private func counts(_ keys: [String]) -> [String: Int] {
        keys.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}

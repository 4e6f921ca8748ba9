public import Classification
public import Dedup
public import Fetching
public import Foundation

/// Everything one poll of a source adds to the store, written in one transaction
/// (``EventStore/commit(_:)``): the source's fetch state and health transitions, the identity
/// kind it learnt, its new items with their classifications and stories, the refreshed text of
/// known items, and the policy events for the outbox. A crash before the commit loses the poll
/// whole; the next poll fetches the same document again and decides the same.
public struct PollRecord: Sendable {
    /// The source's id.
    public var sourceID: String
    /// `feed` or `html`.
    public var kind: String
    /// The fetch state after this poll.
    public var state: SourceFetchState
    /// The health transitions this poll crossed.
    public var transitions: [SourceHealth.Transition]
    /// The identity kind the fetch was resolved by, saved as the source's learnt kind.
    public var identity: IdentityChoice?
    /// Stories this poll starts, referred to by index from ``NewItem/story`` and ``PolicyEvent/story``.
    public var newStories: [NewStory] = []
    /// Items never seen before.
    public var newItems: [NewItem] = []
    /// Known items whose text changed.
    public var updates: [ItemUpdate] = []
    /// When the oldest item the read document lists was first seen (this poll, for a new one);
    /// nil when no document was read or it listed no items. Item retention keeps what it lists.
    public var listedSince: Date?
    /// The `policy_item.*` events this poll raises.
    public var events: [PolicyEvent] = []
    /// What goes to webhooks: the events above that some webhook wants, and health transitions.
    public var outbox: [OutboxMessage] = []
    /// When the poll happened: every row's time.
    public var at: Date
    /// The poll's outcome as the daily digest counts it; nil when the record is not of a poll.
    public var poll: PollOutcome?
    /// The source as the store held it when the poll began, when the poller read it: a poll that
    /// changed nothing of it but the times and status every poll moves then leaves its row alone.
    public var stored: StoredSource?

    /// A record of a poll that found no new document (or failed): state and transitions only.
    public init(
        sourceID: String, kind: String, state: SourceFetchState, transitions: [SourceHealth.Transition] = [],
        identity: IdentityChoice? = nil, poll: PollOutcome? = nil, stored: StoredSource? = nil, at: Date
    ) {
        self.sourceID = sourceID
        self.kind = kind
        self.state = state
        self.transitions = transitions
        self.identity = identity
        self.poll = poll
        self.stored = stored
        self.at = at
    }
}

/// A story started by a poll.
public struct NewStory: Sendable, Equatable {
    /// Its row id when the caller numbered it (after ``EventStore/lastStoryID()``), so that other
    /// polls can refer to it before this one is committed; nil lets the store number it.
    public var id: Int64?
    /// Its public id (`sty_…`).
    public var publicID: String
    /// The title of the item that started it.
    public var title: String
    /// That item's fingerprint.
    public var simHash: SimHash?

    /// Creates a story.
    public init(id: Int64? = nil, publicID: String, title: String, simHash: SimHash?) {
        self.id = id
        self.publicID = publicID
        self.title = title
        self.simHash = simHash
    }
}

/// A story an item or event belongs to: one the store holds, or one this poll starts.
public enum StoryReference: Sendable, Hashable {
    /// A stored story's row id.
    case existing(Int64)
    /// The index of a story in ``PollRecord/newStories``.
    case started(Int)
}

/// An item never seen before, with everything that is stored about it.
public struct NewItem: Sendable {
    /// Its public id (`itm_…`), stable for its source and identity key.
    public var publicID: String
    /// The key that tells it apart within its source, and how it was chosen.
    public var identityKey: String
    public var identityKind: IdentityKind
    /// Its dedup keys.
    public var keys: ItemKeys
    /// The parsed fields.
    public var guid: String?
    public var link: String?
    public var title: String
    public var summary: String?
    public var content: String?
    public var language: String?
    public var published: Date?
    public var updated: Date?
    /// What the classifier said.
    public var classification: Classification
    /// The story it starts or joins.
    public var story: StoryReference
    /// Where its bytes came from.
    public var provenance: Provenance?

    /// Creates a new item.
    public init(
        publicID: String, identityKey: String, identityKind: IdentityKind, keys: ItemKeys, guid: String?,
        link: String?, title: String, summary: String?, content: String?, language: String?, published: Date?,
        updated: Date?, classification: Classification, story: StoryReference, provenance: Provenance?
    ) {
        self.publicID = publicID
        self.identityKey = identityKey
        self.identityKind = identityKind
        self.keys = keys
        self.guid = guid
        self.link = link
        self.title = title
        self.summary = summary
        self.content = content
        self.language = language
        self.published = published
        self.updated = updated
        self.classification = classification
        self.story = story
        self.provenance = provenance
    }
}

/// A known item whose text changed: silently refreshed (cosmetic) or reclassified (material).
public struct ItemUpdate: Sendable {
    /// The item's row id.
    public var itemID: Int64
    /// Its text now.
    public var text: ItemText
    /// Its new classification, for a material change; nil keeps the stored one.
    public var classification: Classification?

    /// Creates an update.
    public init(itemID: Int64, text: ItemText, classification: Classification?) {
        self.itemID = itemID
        self.text = text
        self.classification = classification
    }
}

/// A `policy_item.created` or `policy_item.updated` event, written with the item it is about
/// (DESIGN.md §2a `PolicyEvent`); the payload is the JSON of DESIGN.md §7, fixed when the event
/// is raised so every delivery and retry sends the same body.
public struct PolicyEvent: Sendable, Equatable {
    /// `evt_…`, the same on every retry.
    public var id: String
    /// `policy_item.created` or `policy_item.updated`.
    public var type: String
    /// The public id of the item it is about.
    public var itemPublicID: String
    /// The item's story.
    public var story: StoryReference
    /// Whether this event announces its story (false: a further source of an announced story,
    /// sent only to webhooks with `every_source`).
    public var announcesStory: Bool
    /// When it was raised.
    public var occurredAt: Date
    /// The event's JSON.
    public var payload: Data

    /// Creates an event.
    public init(
        id: String, type: String, itemPublicID: String, story: StoryReference, announcesStory: Bool,
        occurredAt: Date, payload: Data
    ) {
        self.id = id
        self.type = type
        self.itemPublicID = itemPublicID
        self.story = story
        self.announcesStory = announcesStory
        self.occurredAt = occurredAt
        self.payload = payload
    }
}

/// What a commit stored.
public struct CommitSummary: Sendable, Equatable {
    /// New items written.
    public var insertedItems = 0
    /// New items another writer had already stored (found by their unique key); their events were dropped.
    public var alreadyStored = 0
    /// The ids of the events written.
    public var eventIDs: [String] = []
    /// The row ids of the stories the poll started, in the order of ``PollRecord/newStories``: the
    /// ids they were given, except for a story stored before under the same public id (a poll
    /// written twice), which keeps its own.
    public var startedStoryIDs: [Int64] = []

    /// An empty summary.
    public init() {}
}

/// A story as the store knows it.
public struct StorySummary: Sendable, Equatable {
    /// Its row id.
    public var id: Int64
    /// Its public id.
    public var publicID: String
    /// The ids of the sources that reported it, in order of their first report.
    public var sources: [String]
    /// Whether an event has announced it.
    public var announced: Bool
}

/// A stored policy event.
public struct StoredPolicyEvent: Sendable, Equatable {
    public var id: String
    public var type: String
    public var sourceID: String
    public var announcesStory: Bool
    public var occurredAt: Date
    public var payload: Data
}

/// A poll as the daily digest counts it: the local day it falls on (`YYYY-MM-DD` in the digest's
/// zone) and whether it succeeded. The store keeps, per source and day, the last poll's outcome.
public struct PollOutcome: Sendable, Equatable {
    public var day: String
    public var succeeded: Bool

    public init(day: String, succeeded: Bool) {
        self.day = day
        self.succeeded = succeeded
    }
}

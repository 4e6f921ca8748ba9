internal import Fetching
public import Foundation
public import Store

/// A webhook as the delivery worker uses it: where, in which format, signed how, and which
/// events it wants. Made from the configuration by the daemon. Its description shows only its id:
/// the URL often carries a token and the signer holds keys.
public struct Webhook: Sendable, CustomStringConvertible {
    /// The body formats (DESIGN.md §4 `format`).
    public enum Format: Sendable {
        case json, slack, discord, teams
        /// A user's Mustache template, rendered with the event's JSON, sent with this content type.
        case template(WebhookTemplate)
    }

    /// The webhook's id.
    public var id: String
    /// Where events are posted.
    public var url: URL
    /// The body format.
    public var format: Format
    /// The signer.
    public var signer: WebhookSigner
    /// The event types it receives.
    public var events: Set<String>
    /// Topic filter; empty means every relevant item.
    public var topics: Set<String>
    /// The lowest topic score it receives.
    public var minScore: Double
    /// Whether it also receives further sources of an announced story.
    public var everySource: Bool
    /// Messages per minute past which pending events go out as one batch.
    public var maxPerMinute: Int

    /// Creates a webhook.
    public init(
        id: String, url: URL, format: Format, signer: WebhookSigner, events: Set<String>, topics: Set<String> = [],
        minScore: Double = 0, everySource: Bool = false, maxPerMinute: Int = 20
    ) {
        self.id = id
        self.url = url
        self.format = format
        self.signer = signer
        self.events = events
        self.topics = topics
        self.minScore = minScore
        self.everySource = everySource
        self.maxPerMinute = maxPerMinute
    }

    public var description: String { "webhook \(id)" }

    /// Whether this webhook receives a `policy_item.*` event with these topics: its type is
    /// listed; a further source of a known story only with `every_source`; and some topic that
    /// passed is one of ``topics`` (any, when empty) with a score of at least ``minScore``.
    public func wants(_ event: PolicyEventBody) -> Bool {
        guard events.contains(event.type) else { return false }
        if event.type == "policy_item.created", !event.story.new, !everySource { return false }
        return event.topics.contains { (topics.isEmpty || topics.contains($0.id)) && $0.score >= minScore }
    }

    /// Whether this webhook receives an event of this type that has no topics (source health, digests).
    public func wants(eventType: String) -> Bool {
        events.contains(eventType)
    }

    /// A hash of the URL: the store remembers which URL a 410 disabled, without keeping the URL.
    public var urlFingerprint: String {
        SHA256.hex(of: Data(url.absoluteString.utf8))
    }
}

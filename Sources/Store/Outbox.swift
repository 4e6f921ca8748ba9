public import Foundation

/// One event to send to some webhooks, written with what raised it (DESIGN.md §1: the item, its
/// classification and its outbox rows in one transaction).
public struct OutboxMessage: Sendable, Equatable {
    /// The event id (`evt_…`), the `webhook-id` of every attempt.
    public var eventID: String
    /// `policy_item.created`, `source.down`, `digest.created`, …
    public var eventType: String
    /// The event's JSON.
    public var payload: Data
    /// The webhooks it goes to.
    public var webhookIDs: [String]
    /// The item it is about, when it is a `policy_item.*` event: if the item turns out to be stored
    /// already, the message is dropped with it.
    public var itemPublicID: String?

    /// Creates a message.
    public init(eventID: String, eventType: String, payload: Data, webhookIDs: [String], itemPublicID: String? = nil) {
        self.eventID = eventID
        self.eventType = eventType
        self.payload = payload
        self.webhookIDs = webhookIDs
        self.itemPublicID = itemPublicID
    }
}

/// An outbox row: one event for one webhook, and where its delivery stands.
public struct OutboxEntry: Sendable, Equatable {
    /// Where a delivery stands.
    public enum State: String, Sendable {
        /// Waiting for its next attempt.
        case pending
        /// Accepted by the receiver (2xx).
        case sent
        /// Given up on: a permanent error, the last retry, or a disabled webhook.
        case dead
        /// Sent inside a batch (``OutboxEntry/batchID``).
        case batched
    }

    public var eventID: String
    public var webhookID: String
    public var eventType: String
    public var payload: Data
    public var state: State
    /// Attempts made so far.
    public var attempts: Int
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var sentAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
    /// The batch it went out in.
    public var batchID: String?

    /// Creates a row.
    public init(
        eventID: String, webhookID: String, eventType: String, payload: Data, state: State, attempts: Int,
        nextAttemptAt: Date, createdAt: Date, sentAt: Date? = nil, lastStatus: Int? = nil, lastError: String? = nil,
        batchID: String? = nil
    ) {
        self.eventID = eventID
        self.webhookID = webhookID
        self.eventType = eventType
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.batchID = batchID
    }
}

/// What one delivery attempt came to.
public struct DeliveryAttempt: Sendable, Equatable {
    /// When it was made.
    public var at: Date
    /// The HTTP status, when there was a response.
    public var status: Int?
    /// How long it took.
    public var duration: Duration
    /// What went wrong, in words (never a secret or the URL's token).
    public var error: String?

    /// Creates an attempt.
    public init(at: Date, status: Int?, duration: Duration, error: String?) {
        self.at = at
        self.status = status
        self.duration = duration
        self.error = error
    }
}

/// Where an attempt leaves its row.
public enum DeliveryResolution: Sendable, Equatable {
    /// Delivered.
    case sent
    /// Try again at this time.
    case retry(at: Date)
    /// Give up (dead letter).
    case dead
}

/// A webhook the store knows to be disabled.
public struct WebhookStatus: Sendable, Equatable {
    public var id: String
    /// When a 410 disabled it, and why.
    public var disabledAt: Date?
    public var disabledReason: String?
    /// Rows waiting, and rows dead.
    public var pending: Int
    public var dead: Int
    /// When it last accepted an event.
    public var lastSentAt: Date?
}

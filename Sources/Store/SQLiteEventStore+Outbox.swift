public import Foundation
internal import GRDB

extension SQLiteEventStore {
    public func dueDeliveries(forWebhooks webhookIDs: [String], at now: Date, orAfter horizon: Date, limit: Int)
        async throws -> [OutboxEntry]
    {
        guard !webhookIDs.isEmpty else { return [] }
        let webhooks = Self.placeholders(webhookIDs.count)
        let (due, after) = (now.storageText, horizon.storageText)
        return try await read { db in
            try Row.fetchAll(
                db,
                // Two ranges of the (state, next_attempt_at) index; with an OR, SQLite reads every
                // pending row.
                sql: """
                    SELECT * FROM (
                        SELECT *, rowid AS queued FROM outbox
                        WHERE state = 'pending' AND next_attempt_at <= ? AND webhook_id IN (\(webhooks))
                        UNION ALL
                        SELECT *, rowid AS queued FROM outbox
                        WHERE state = 'pending' AND next_attempt_at > ? AND webhook_id IN (\(webhooks)))
                    ORDER BY next_attempt_at, created_at, queued LIMIT ?
                    """,
                arguments: StatementArguments([due] + webhookIDs + [after] + webhookIDs) + [limit]
            ).map(Self.entry)
        }
    }

    /// `?, ?, ?`: `count` placeholders for an `IN` list.
    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    public func pruneOutbox(before cutoff: Date) async throws -> Int {
        try await write { db in
            // Pending rows are never pruned: nothing accepted is dropped.
            try db.execute(
                sql: "DELETE FROM outbox WHERE state IN ('sent', 'dead', 'batched') AND created_at < ?",
                arguments: [cutoff.storageText])
            return db.changesCount
        }
    }

    public func pendingDeliveryCounts() async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT webhook_id, COUNT(*) AS pending FROM outbox WHERE state = 'pending' GROUP BY webhook_id")
            {
                counts[row["webhook_id"]] = row["pending"]
            }
            return counts
        }
    }

    public func discardPendingDeliveries(ofWebhook webhookID: String, reason: String) async throws -> Int {
        try await write { db in try Self.deadLetterPending(ofWebhook: webhookID, reason: reason, in: db) }
    }

    /// Moves a webhook's pending rows to the dead letters with `reason`; returns how many.
    private static func deadLetterPending(ofWebhook webhookID: String, reason: String, in db: Database) throws -> Int {
        try db.execute(
            sql: "UPDATE outbox SET state = 'dead', last_error = ? WHERE webhook_id = ? AND state = 'pending'",
            arguments: [reason, webhookID])
        return db.changesCount
    }

    public func nextDeliveryTime(forWebhooks webhookIDs: [String]) async throws -> Date? {
        guard !webhookIDs.isEmpty else { return nil }
        return try await read { db in
            try Date.fetchOne(
                db,
                sql: """
                    SELECT MIN(next_attempt_at) FROM outbox
                    WHERE state = 'pending' AND webhook_id IN (\(Self.placeholders(webhookIDs.count)))
                    """,
                arguments: StatementArguments(webhookIDs))
        }
    }

    public func record(
        _ attempt: DeliveryAttempt, ofEvent eventID: String, webhook webhookID: String,
        resolution: DeliveryResolution
    ) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO delivery_attempt (event_id, webhook_id, attempted_at, status, duration_ms, error)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    eventID, webhookID, attempt.at.storageText, attempt.status,
                    Int(attempt.duration.components.seconds * 1000)
                        + Int(attempt.duration.components.attoseconds / 1_000_000_000_000_000),
                    attempt.error,
                ])
            let (state, next, sentAt): (String, Date?, Date?) =
                switch resolution {
                case .sent: ("sent", nil, attempt.at)
                case .retry(let at): ("pending", at, nil)
                case .dead: ("dead", nil, nil)
                }
            try db.execute(
                sql: """
                    UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = COALESCE(?, next_attempt_at),
                        sent_at = ?, last_status = ?, last_error = ?
                    WHERE event_id = ? AND webhook_id = ?
                    """,
                arguments: [
                    state, next?.storageText, sentAt?.storageText, attempt.status, attempt.error, eventID, webhookID,
                ])
            if resolution == .sent {
                // The events a batch carried are delivered with it.
                try db.execute(
                    sql: "UPDATE outbox SET sent_at = ? WHERE batch_id = ? AND webhook_id = ?",
                    arguments: [attempt.at.storageText, eventID, webhookID])
            }
        }
    }

    public func batch(
        _ eventIDs: [String], forWebhook webhookID: String, as batchID: String, payload: Data, at now: Date
    ) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox (event_id, webhook_id, event_type, payload, state, next_attempt_at, created_at)
                    VALUES (?, ?, 'batch', ?, 'pending', ?, ?)
                    """,
                arguments: [batchID, webhookID, payload, now.storageText, now.storageText])
            for chunk in eventIDs.chunked(into: 500) {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'batched', batch_id = ?
                        WHERE webhook_id = ? AND state = 'pending' AND event_id IN (\(databaseQuestionMarks(count: chunk.count)))
                        """,
                    arguments: StatementArguments([batchID, webhookID] + chunk))
            }
        }
    }

    public func deferDeliveries(_ eventIDs: [String], ofWebhook webhookID: String, until date: Date) async throws {
        guard !eventIDs.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET next_attempt_at = ? WHERE event_id = ? AND webhook_id = ? AND state = 'pending'
                    """)
            for eventID in eventIDs { try statement.execute(arguments: [date.storageText, eventID, webhookID]) }
        }
    }

    public func attempts(ofWebhook webhookID: String, since: Date) async throws -> [Date] {
        try await read { db in
            try Date.fetchAll(
                db,
                sql:
                    "SELECT attempted_at FROM delivery_attempt WHERE webhook_id = ? AND attempted_at > ? ORDER BY attempted_at",
                arguments: [webhookID, since.storageText])
        }
    }

    public func outbox(failedOnly: Bool, limit: Int) async throws -> [OutboxEntry] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox \(failedOnly ? "WHERE state = 'dead'" : "")
                    ORDER BY created_at DESC, rowid DESC LIMIT ?
                    """,
                arguments: [limit]
            ).map(Self.entry)
        }
    }

    public func requeue(eventID: String?, at now: Date) async throws -> Int {
        try await write { db in
            if let eventID {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL
                        WHERE event_id = ? AND state = 'dead'
                        """,
                    arguments: [now.storageText, eventID])
            } else {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL
                        WHERE state = 'dead'
                        """,
                    arguments: [now.storageText])
            }
            return db.changesCount
        }
    }

    public func enqueue(_ messages: [OutboxMessage], at now: Date) async throws {
        try await write { db in
            for message in messages { try Self.insert(message, at: now, in: db) }
        }
    }

    static func insert(_ message: OutboxMessage, at now: Date, in db: Database) throws {
        for webhook in message.webhookIDs {
            try db.executeCached(
                sql: """
                    INSERT OR IGNORE INTO outbox (event_id, webhook_id, event_type, payload, state, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, 'pending', ?, ?)
                    """,
                arguments: [
                    message.eventID, webhook, message.eventType, message.payload, now.storageText, now.storageText,
                ])
        }
    }

    public func disableWebhook(_ id: String, urlSHA256: String, reason: String, at now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_state (id, url_sha256, disabled_at, disabled_reason) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET url_sha256 = excluded.url_sha256,
                        disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason
                    """,
                arguments: [id, urlSHA256, now.storageText, reason])
            _ = try Self.deadLetterPending(ofWebhook: id, reason: reason, in: db)
        }
    }

    public func disabledWebhooks(currentURLs: [String: String]) async throws -> [String: String] {
        try await write { db in
            var disabled: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM webhook_state WHERE disabled_at IS NOT NULL") {
                let id: String = row["id"]
                if let current = currentURLs[id], current != row["url_sha256"] {
                    // The user changed the URL: the webhook is enabled again.
                    try db.execute(
                        sql: "UPDATE webhook_state SET disabled_at = NULL, disabled_reason = NULL WHERE id = ?",
                        arguments: [id])
                } else {
                    disabled[id] = row["disabled_reason"] ?? "disabled"
                }
            }
            return disabled
        }
    }

    public func webhookStatuses() async throws -> [WebhookStatus] {
        try await read { db in
            let states = Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM webhook_state").map {
                    ($0["id"] as String, $0)
                })
            let counts = try Row.fetchAll(
                db,
                sql: """
                    SELECT webhook_id, SUM(state = 'pending') AS pending, SUM(state = 'dead') AS dead,
                        MAX(sent_at) AS last_sent
                    FROM outbox GROUP BY webhook_id
                    """)
            var statuses: [String: WebhookStatus] = [:]
            for row in counts {
                let id: String = row["webhook_id"]
                statuses[id] = WebhookStatus(
                    id: id, disabledAt: states[id]?["disabled_at"], disabledReason: states[id]?["disabled_reason"],
                    pending: row["pending"] ?? 0, dead: row["dead"] ?? 0, lastSentAt: row["last_sent"])
            }
            for (id, row) in states where statuses[id] == nil {
                statuses[id] = WebhookStatus(
                    id: id, disabledAt: row["disabled_at"], disabledReason: row["disabled_reason"], pending: 0,
                    dead: 0, lastSentAt: nil)
            }
            return statuses.values.sorted { $0.id < $1.id }
        }
    }

    public func deliveryAttempts(ofEvent eventID: String) async throws -> [DeliveryAttempt] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_attempt WHERE event_id = ? ORDER BY id", arguments: [eventID]
            ).map { row in
                DeliveryAttempt(
                    at: row["attempted_at"], status: row["status"], duration: .milliseconds(row["duration_ms"] as Int),
                    error: row["error"])
            }
        }
    }

    private static func entry(_ row: Row) -> OutboxEntry {
        OutboxEntry(
            eventID: row["event_id"], webhookID: row["webhook_id"], eventType: row["event_type"],
            payload: row["payload"], state: OutboxEntry.State(rawValue: row["state"]) ?? .pending,
            attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], createdAt: row["created_at"],
            sentAt: row["sent_at"], lastStatus: row["last_status"], lastError: row["last_error"],
            batchID: row["batch_id"])
    }
}

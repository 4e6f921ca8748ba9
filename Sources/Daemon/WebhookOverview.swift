internal import Delivery
internal import Fetching
import Foundation
internal import Logging
internal import Store

/// What the `exportwatch webhooks …` commands show and do: each webhook's state, the outbox,
/// requeueing dead letters, and a signed test delivery. URLs and secrets are never printed.
public enum WebhookOverview {
    /// `webhooks list`: id, format, events, topics, state (active, or disabled and why), pending, dead, last sent.
    public static func list(_ configuration: Configuration) async throws -> String {
        var byID: [String: WebhookStatus] = [:]
        if let store = try configuration.existingStore() {
            for status in try await store.webhookStatuses() { byID[status.id] = status }
        }
        let rows = configuration.webhooks.map { webhook -> [String] in
            let status = byID[webhook.id]
            let state = status?.disabledAt != nil ? "disabled (\(status?.disabledReason ?? "410"))" : "active"
            return [
                webhook.id, webhook.format.rawValue, webhook.events.joined(separator: ","),
                webhook.topics.isEmpty ? "all relevant" : webhook.topics.joined(separator: ","),
                "\(status?.pending ?? 0)", "\(status?.dead ?? 0)",
                status?.lastSentAt?.formatted(.iso8601) ?? "never", state,
            ]
        }
        // A webhook taken out of the configuration is listed while the outbox holds rows of it.
        let configured = Set(configuration.webhooks.map(\.id))
        let removed = byID.values.filter { !configured.contains($0.id) && ($0.pending > 0 || $0.dead > 0) }
            .sorted { $0.id < $1.id }
            .map { status in
                [
                    status.id, "-", "-", "-", "\(status.pending)", "\(status.dead)",
                    status.lastSentAt?.formatted(.iso8601) ?? "never",
                    status.pending > 0 ? "not configured (its pending rows wait)" : "not configured",
                ]
            }
        return SourceOverview.columns(
            ["ID", "FORMAT", "EVENTS", "TOPICS", "PENDING", "DEAD", "LAST SENT", "STATE"], rows + removed)
    }

    /// `webhooks discard ID`: the pending rows of a webhook that is no longer configured become
    /// dead letters (listed by `outbox --failed`, requeued by `retry`, pruned with the others).
    /// - Returns: how many rows were discarded.
    /// - Throws: ``DiscardRefused`` for a webhook that is configured.
    public static func discard(_ configuration: Configuration, webhookID: String) async throws -> Int {
        guard !configuration.webhooks.contains(where: { $0.id == webhookID }) else {
            throw DiscardRefused(webhookID: webhookID)
        }
        guard let store = try configuration.existingStore() else { return 0 }
        return try await store.discardPendingDeliveries(
            ofWebhook: webhookID, reason: "discarded: the webhook is no longer configured")
    }

    /// `webhooks discard` of a webhook that is configured: its rows are being delivered.
    public struct DiscardRefused: Error, Sendable, CustomStringConvertible {
        public var webhookID: String
        public var description: String {
            "webhook \"\(webhookID)\" is configured: its rows are being delivered; take it out of the configuration "
                + "first (`exportwatch webhooks outbox` shows what is pending)"
        }
    }

    /// `webhooks outbox [--failed]`: the newest rows, one per line.
    public static func outbox(_ configuration: Configuration, failedOnly: Bool, limit: Int = 200) async throws -> String
    {
        var rows: [OutboxEntry] = []
        if let store = try configuration.existingStore() {
            rows = try await store.outbox(failedOnly: failedOnly, limit: limit)
        }
        let cells = rows.map { row -> [String] in
            let state = row.state.rawValue + (row.batchID.map { " in \($0)" } ?? "")
            let when: Date? = row.state == .pending ? row.nextAttemptAt : row.sentAt
            return [
                row.eventID, row.webhookID, row.eventType, state, "\(row.attempts)", when?.formatted(.iso8601) ?? "-",
                row.lastError ?? "",
            ]
        }
        return SourceOverview.columns(
            ["EVENT", "WEBHOOK", "TYPE", "STATE", "ATTEMPTS", "NEXT/SENT", "LAST ERROR"], cells)
    }

    /// `webhooks retry EVENT_ID | --all-failed`: dead letters back to pending, due now.
    /// - Returns: how many rows were requeued.
    public static func retry(_ configuration: Configuration, eventID: String?) async throws -> Int {
        guard let store = try configuration.existingStore() else { return 0 }
        return try await store.requeue(eventID: eventID, at: Date())
    }

    /// `webhooks test ID`: a signed sample event sent now; the status and body of the answer, or
    /// nil when no webhook has that id.
    public static func test(_ configuration: Configuration, webhookID: String) async throws -> (
        ok: Bool, report: String
    )? {
        guard let settings = configuration.webhooks.first(where: { $0.id == webhookID }) else { return nil }
        var fetcherConfiguration = configuration.daemon.fetcherConfiguration
        fetcherConfiguration.maxRedirects = 0
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-webhook-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The sample is not an outbox row: a scratch store keeps the real outbox untouched.
        let worker = DeliveryWorker(
            store: try SQLiteEventStore(stateDirectory: folder),
            fetcher: HTTPFetcher(configuration: fetcherConfiguration),
            webhooks: [settings.webhook], logger: Logger(label: "exportwatch"))
        switch try await worker.test(webhookID) {
        case .success(let response):
            let body = String(decoding: response.body.prefix(2_000), as: UTF8.self)
            return (
                (200..<300).contains(response.status),
                "HTTP \(response.status) in \(response.duration.formatted(.units(allowed: [.milliseconds])))"
                    + (body.isEmpty ? "" : "\n\(body)")
            )
        case .failure(let error):
            return (false, "not delivered: \(error.message)")
        case nil:
            return nil
        }
    }
}

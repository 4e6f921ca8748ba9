public import Fetching
public import Foundation
public import Logging
public import Store

/// Sends the outbox: claims due rows, renders and signs each for its webhook, posts it, and
/// records every attempt (status, duration, error) and where it leaves the row (DESIGN.md §1).
///
/// Each webhook's rows go out in order, webhooks in parallel. Past a webhook's `max_per_minute`,
/// the pending rows are folded into one batch message of at most 256 KB (the rest wait for the
/// next minute). A 410 disables the webhook (logged once, until its URL changes); other 4xx but
/// 408 and 429 dead-letter the row; anything else is retried on the ``RetryPolicy``. A delivery
/// cancelled in flight (shutdown) records nothing, so its row stays pending and is sent, with the
/// same id, after a restart. The rows of a webhook taken out of the configuration are kept,
/// parked: they are neither tried nor waited for (they go out if it comes back), and are logged
/// once, with how to drop them.
public actor DeliveryWorker {
    private let store: any EventStore
    private let fetcher: HTTPFetcher
    private var webhooks: [String: Webhook]
    private let policy: RetryPolicy
    private let requestTimeout: Duration
    private let logger: Logger
    private var sleeper: CheckedContinuation<Void, Never>?
    private var wokenEarly = false
    /// Whether the parked rows have been looked for since the webhooks last changed.
    private var parkedChecked = false

    /// Creates a worker.
    public init(
        store: any EventStore, fetcher: HTTPFetcher, webhooks: [Webhook], policy: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(15), logger: Logger
    ) {
        self.store = store
        self.fetcher = fetcher
        self.webhooks = Dictionary(webhooks.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.policy = policy
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// Replaces the webhooks (a reloaded configuration); rows of a removed webhook are parked.
    public func update(_ webhooks: [Webhook]) {
        self.webhooks = Dictionary(webhooks.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        parkedChecked = false
    }

    /// The pending rows, in one read: how many wait for the configured webhooks, and how many are
    /// parked for each webhook no longer configured.
    public func pendingRows() async throws -> (waiting: Int, parked: [String: Int]) {
        let counts = try await store.pendingDeliveryCounts()
        return (
            counts.filter { webhooks[$0.key] != nil }.values.reduce(0, +), counts.filter { webhooks[$0.key] == nil }
        )
    }

    /// When the next row of a configured webhook falls due, nil when none is pending.
    public func nextDeliveryTime() async throws -> Date? {
        try await store.nextDeliveryTime(forWebhooks: Array(webhooks.keys))
    }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Rows delivered.
        public var sent = 0
        /// Rows left for a retry.
        public var retried = 0
        /// Rows given up.
        public var dead = 0
        /// Batches made past a rate limit.
        public var batches = 0
        /// Rows due but held back by a rate limit.
        public var deferred = 0
    }

    /// Sends every row due at `now`, once; a row set further ahead than any retry is (the clock
    /// has been set back since it was) counts as due.
    /// - Throws: `CancellationError`, or the store's errors.
    public func deliverDue(now: Date = Date()) async throws -> Pass {
        let fingerprints = webhooks.mapValues(\.urlFingerprint)
        let disabled = try await store.disabledWebhooks(currentURLs: fingerprints)
        let horizon = now.addingTimeInterval(Double(policy.longestDelay.components.seconds))
        if !parkedChecked {
            parkedChecked = true
            for (id, count) in try await pendingRows().parked.sorted(by: { $0.key < $1.key }) {
                logger.warning(
                    """
                    \(count) deliveries wait for webhook "\(id)", which is no longer configured: add it back to \
                    send them, or drop them with `exportwatch webhooks discard \(id)`
                    """)
            }
        }
        let webhooks = self.webhooks
        let due = try await store.dueDeliveries(
            forWebhooks: Array(webhooks.keys), at: now, orAfter: horizon, limit: 2_000)
        let groups = Dictionary(grouping: due, by: \.webhookID)
        var total = Pass()
        try await withThrowingTaskGroup(of: Pass.self) { group in
            for (id, rows) in groups {
                guard let webhook = webhooks[id] else { continue }
                group.addTask {
                    try await self.deliver(rows, to: webhook, disabledBecause: disabled[id], now: now)
                }
            }
            for try await pass in group {
                total.sent += pass.sent
                total.retried += pass.retried
                total.dead += pass.dead
                total.batches += pass.batches
                total.deferred += pass.deferred
            }
        }
        return total
    }

    /// Delivers until cancelled: a pass whenever rows fall due, when ``wake()`` is called, and at
    /// least every `idle`; `afterPass` sees each pass (for metrics).
    public func run(idle: Duration = .seconds(5), afterPass: @Sendable (Pass) -> Void = { _ in }) async throws {
        while !Task.isCancelled {
            afterPass(try await deliverDue())
            var wait = idle
            if let next = try await nextDeliveryTime() {
                let seconds = max(0, next.timeIntervalSinceNow)
                wait = min(idle, .milliseconds(Int64(seconds * 1000) + 10))
            }
            await nap(wait)
        }
    }

    /// ``wake()`` from outside the actor.
    public nonisolated func wakeIfRunning() {
        Task { await wake() }
    }

    /// Asks a running worker for a pass now (new rows were committed).
    public func wake() {
        if sleeper != nil { endNap() } else { wokenEarly = true }
    }

    /// Sleeps for `duration`, or until ``wake()`` or cancellation.
    private func nap(_ duration: Duration) async {
        if wokenEarly {
            wokenEarly = false
            return
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: duration)
            await self?.endNap()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { sleeper = $0 }
        } onCancel: {
            Task { await self.endNap() }
        }
        timer.cancel()
    }

    private func endNap() {
        sleeper?.resume()
        sleeper = nil
    }

    /// Sends a signed sample event to a webhook, outside the outbox, and returns the response.
    public func test(_ webhookID: String, now: Date = Date()) async throws -> Result<PostResponse, FetchError>? {
        guard let webhook = webhooks[webhookID] else { return nil }
        let id = "evt_test_" + UUID().uuidString.replacing("-", with: "").lowercased().prefix(16)
        let body = PolicyEventBody(
            type: "policy_item.created", id: String(id), occurredAt: now,
            item: .init(
                id: "itm_test", source: "exportwatch-test", title: "exportwatch test event: 测试事件",
                link: "https://example.org/exportwatch-test",
                summary: "A sample event sent by <code>exportwatch webhooks test</code>.", published: now,
                language: "en", identifiers: [], provenance: .init(finalURL: nil, fetchedAt: nil, sha256: nil)),
            topics: [.init(id: "chip-controls", score: 1, matched: ["export controls"])],
            story: .init(id: "sty_test", sources: ["exportwatch-test"], new: true))
        let payload = try body.encoded()
        let rendered = try MessageRenderer.render(.policy(body), payload: payload, format: webhook.format)
        return try await post(rendered, id: String(id), to: webhook, now: now)
    }

    /// The most bytes of event JSON one batch carries. A batch holds every event past the minute's
    /// budget, up to the 2,000 rows a pass reads (megabytes of JSON), and a receiver that refuses a
    /// body that large with a 413 dead-letters the batch: every event in it would be lost.
    static let maximumBatchBytes = 256 * 1024

    /// How many of the events, in order, whose JSON is `sizes` bytes long, one batch takes: as many
    /// as fit in ``maximumBatchBytes``, and never fewer than one (an event is itself bounded).
    static func batchLength(_ sizes: [Int]) -> Int {
        var total = 0
        for (index, size) in sizes.enumerated() {
            total += size
            if total > maximumBatchBytes { return max(index, 1) }
        }
        return sizes.count
    }

    private func deliver(
        _ rows: [OutboxEntry], to webhook: Webhook, disabledBecause reason: String?, now: Date
    ) async throws -> Pass {
        var pass = Pass()
        if let reason {
            for row in rows {
                try await store.record(
                    DeliveryAttempt(at: now, status: nil, duration: .zero, error: "not sent: \(reason)"),
                    ofEvent: row.eventID, webhook: webhook.id, resolution: .dead)
                pass.dead += 1
            }
            return pass
        }
        let recent = try await store.attempts(ofWebhook: webhook.id, since: now.addingTimeInterval(-60))
        let budget = max(0, webhook.maxPerMinute - recent.count)
        var sending = rows
        if rows.count > budget {
            guard budget > 0 else {
                // Held until enough of the window's attempts have left it for one more: their next
                // attempt, so that nothing wakes for them before (a loop would find them held again).
                let freed = (recent.suffix(webhook.maxPerMinute).first ?? now).addingTimeInterval(60)
                try await store.deferDeliveries(rows.map(\.eventID), ofWebhook: webhook.id, until: max(freed, now))
                pass.deferred = rows.count
                return pass
            }
            // Spend all but one of the minute's messages on single events, and the last on one
            // batch carrying the rest.
            let single = Array(rows.prefix(budget - 1))
            let overBudget = rows.dropFirst(budget - 1)
            let rest = overBudget.filter { $0.eventType != "batch" }
            let batched = rest.prefix(Self.batchLength(rest.map(\.payload.count)))
            sending = single
            if batched.count >= 2 {
                let batchID = "bat_" + UUID().uuidString.replacing("-", with: "").lowercased()
                let payload = try DeliveryMessage.batchPayload(
                    id: batchID, occurredAt: now, events: batched.map(\.payload))
                try await store.batch(
                    batched.map(\.eventID), forWebhook: webhook.id, as: batchID, payload: payload, at: now)
                sending.append(
                    OutboxEntry(
                        eventID: batchID, webhookID: webhook.id, eventType: "batch", payload: payload, state: .pending,
                        attempts: 0, nextAttemptAt: now, createdAt: now))
                pass.batches += 1
                logger.notice(
                    "rate limit reached; pending events sent as one batch",
                    metadata: ["webhook": "\(webhook.id)", "events": "\(batched.count)", "batch": "\(batchID)"])
            } else {
                sending += batched
            }
            // Batches already made (pending a retry) cannot join the new one, nor can the events past
            // a batch's bytes: they wait for the next window.
            let held = overBudget.filter { $0.eventType == "batch" } + rest.dropFirst(batched.count)
            try await store.deferDeliveries(
                held.map(\.eventID), ofWebhook: webhook.id, until: now.addingTimeInterval(60))
            pass.deferred = held.count
        }
        var random = SystemRandomNumberGenerator()
        for row in sending {
            try Task.checkCancellation()
            let (resolution, disabled) = try await send(row, to: webhook, now: now, random: &random)
            switch resolution {
            case .sent: pass.sent += 1
            case .retry: pass.retried += 1
            case .dead: pass.dead += 1
            }
            // A 410 dead-lettered the webhook's other rows with it.
            if disabled { break }
        }
        return pass
    }

    private func send(
        _ row: OutboxEntry, to webhook: Webhook, now: Date, random: inout SystemRandomNumberGenerator
    ) async throws -> (DeliveryResolution, disabled: Bool) {
        let rendered: MessageRenderer.Rendered
        do {
            let message = try DeliveryMessage.read(type: row.eventType, payload: row.payload)
            rendered = try MessageRenderer.render(message, payload: row.payload, format: webhook.format)
        } catch {
            try await store.record(
                DeliveryAttempt(at: now, status: nil, duration: .zero, error: "cannot render the event: \(error)"),
                ofEvent: row.eventID, webhook: webhook.id, resolution: .dead)
            logger.error(
                "event cannot be rendered; dead-lettered",
                metadata: ["webhook": "\(webhook.id)", "event": "\(row.eventID)", "error": "\(error)"])
            return (.dead, false)
        }
        let attemptAt = Date()
        let result = try await post(rendered, id: row.eventID, to: webhook, now: attemptAt)
        let attempt = row.attempts + 1
        let (outcome, status, duration): (RetryPolicy.Outcome, Int?, Duration) =
            switch result {
            case .success(let response):
                (
                    RetryPolicy.outcome(
                        status: response.status, retryAfter: response.retryAfter, location: response.location),
                    response.status, response.duration
                )
            case .failure(let error):
                (.transient(scrub(error.message, of: webhook), retryAfter: nil), nil, .zero)
            }
        let resolution: DeliveryResolution
        var errorText: String?
        var metadata: Logger.Metadata = [
            "webhook": "\(webhook.id)", "event": "\(row.eventID)", "attempt": "\(attempt)",
        ]
        if let status { metadata["status"] = "\(status)" }
        switch outcome {
        case .delivered:
            resolution = .sent
            logger.info("event delivered", metadata: metadata)
        case .gone:
            resolution = .dead
            errorText = "HTTP 410: the receiver is gone; webhook disabled until its url changes"
            try await store.disableWebhook(
                webhook.id, urlSHA256: webhook.urlFingerprint, reason: errorText!, at: attemptAt)
            logger.error(
                "webhook disabled: the receiver answered 410 Gone; change its url in the configuration to send again",
                metadata: metadata)
        case .permanent(let reason):
            resolution = .dead
            errorText = reason
            metadata["error"] = "\(reason)"
            logger.error("event dead-lettered: the receiver refused it", metadata: metadata)
        case .transient(let reason, let retryAfter):
            errorText = reason
            resolution = policy.resolution(
                afterAttempt: attempt, retryAfter: retryAfter, now: attemptAt, using: &random)
            metadata["error"] = "\(reason)"
            if case .retry(let at) = resolution {
                metadata["retry_at"] = "\(at.formatted(.iso8601))"
                logger.warning("delivery failed; will retry", metadata: metadata)
            } else {
                logger.error("delivery failed for the last time; dead-lettered", metadata: metadata)
            }
        }
        try await store.record(
            DeliveryAttempt(at: attemptAt, status: status, duration: duration, error: errorText),
            ofEvent: row.eventID, webhook: webhook.id, resolution: resolution)
        return (resolution, outcome == .gone)
    }

    private func post(
        _ rendered: MessageRenderer.Rendered, id: String, to webhook: Webhook, now: Date
    ) async throws -> Result<PostResponse, FetchError> {
        var headers = webhook.signer.headers(id: id, timestamp: Int(now.timeIntervalSince1970), body: rendered.body)
        headers.append((name: "Content-Type", value: rendered.contentType))
        return try await fetcher.post(rendered.body, to: webhook.url, headers: headers, timeout: requestTimeout)
    }

    /// A transport message without the webhook's URL, which often carries a token.
    private func scrub(_ message: String, of webhook: Webhook) -> String {
        message.replacing(webhook.url.absoluteString, with: "<webhook url>")
            .replacing(webhook.url.path, with: webhook.url.path.isEmpty ? "" : "<path>")
    }
}

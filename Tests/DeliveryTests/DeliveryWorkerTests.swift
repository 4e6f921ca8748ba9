import Delivery
import Fetching
import Foundation
import Logging
import Store
import Synchronization
import TestSupport
import Testing

/// The delivery worker against real receivers on 127.0.0.1 that check signatures with the
/// `standardwebhooks` package, over a real SQLite outbox.
@Suite("Delivery worker")
struct DeliveryWorkerTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let rotated = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
    /// Short delays instead of 5 s, 5 min, …, so retries happen within a test.
    static let quickRetries = RetryPolicy(
        schedule: [.zero, .milliseconds(200), .milliseconds(200), .milliseconds(200)], jitter: 0)

    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    struct LineHandler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append("\(event.level) \(event.message) \(fields.joined(separator: " "))")
        }
    }

    final class Fixture {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-delivery-\(UUID().uuidString)")
        let server: ScriptedHTTPServer
        var store: SQLiteEventStore
        let fetcher: HTTPFetcher
        let logs = LogLines()

        init(script: [String: [ScriptedHTTPServer.Response]], verify: ScriptedHTTPServer.Verification) async throws {
            server = try await ScriptedHTTPServer(script: script, verify: verify)
            store = try SQLiteEventStore(stateDirectory: folder)
            var configuration = FetcherConfiguration()
            configuration.privateNetworks = .allowAll
            fetcher = HTTPFetcher(configuration: configuration)
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }

        func webhook(
            _ path: String, id: String = "hook", secrets: [String] = [DeliveryWorkerTests.secret],
            maxPerMinute: Int = 20, format: Webhook.Format = .json
        ) throws -> Webhook {
            Webhook(
                id: id, url: server.url(path), format: format,
                signer: WebhookSigner(
                    scheme: .standard(keys: try secrets.map { try WebhookSigner.standardKey(from: $0) })),
                events: ["policy_item.created"], maxPerMinute: maxPerMinute)
        }

        func worker(_ webhooks: [Webhook], policy: RetryPolicy = DeliveryWorkerTests.quickRetries) -> DeliveryWorker {
            let logs = self.logs
            return DeliveryWorker(
                store: store, fetcher: fetcher, webhooks: webhooks, policy: policy,
                logger: Logger(label: "test") { _ in LineHandler(lines: logs) })
        }

        /// Puts `count` created events for the webhook (`hook` unless told another) in the outbox.
        func enqueue(
            _ count: Int, for webhookID: String = "hook",
            titles: (Int) -> String = { "Commerce adds entities, case \($0)" },
            summaries: (Int) -> String = { "<p>Summary \($0)</p>" }
        ) async throws -> [String] {
            var ids: [String] = []
            var messages: [OutboxMessage] = []
            for number in 0..<count {
                let id = "evt_\(number)_" + UUID().uuidString.prefix(8).lowercased()
                let body = PolicyEventBody(
                    type: "policy_item.created", id: id, occurredAt: Date(),
                    item: .init(
                        id: "itm_\(number)", source: "bis", title: titles(number),
                        link: "https://www.bis.gov/\(number)",
                        summary: summaries(number), published: nil, language: "en", identifiers: [],
                        provenance: .init(finalURL: nil, fetchedAt: nil, sha256: nil)),
                    topics: [.init(id: "entity-list-sanctions", score: 0.9, matched: ["entity list"])],
                    story: .init(id: "sty_\(number)", sources: ["bis"], new: true))
                messages.append(
                    OutboxMessage(
                        eventID: id, eventType: body.type, payload: try body.encoded(), webhookIDs: [webhookID]))
                ids.append(id)
            }
            try await store.enqueue(messages, at: Date())
            return ids
        }

        /// Runs passes until nothing is pending or `limit` has passed.
        func drain(_ worker: DeliveryWorker, limit: Duration = .seconds(10)) async throws {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                _ = try await worker.deliverDue()
                guard try await worker.nextDeliveryTime() != nil else { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("500, 500, 200: three attempts with one id, each signature valid to another implementation")
    func retriesKeepTheID() async throws {
        let fixture = try await Fixture(
            script: ["/hook": [.init(status: 500), .init(status: 500), .init(status: 200)]],
            verify: .init(standard: [Self.secret]))
        let ids = try await fixture.enqueue(1)
        try await fixture.drain(fixture.worker([try fixture.webhook("/hook")]))

        let requests = try await fixture.server.requests(atLeast: 3)
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.header("webhook-id") == ids[0] })
        #expect(requests.allSatisfy { $0.verified?.standard == [true] })
        #expect(try await fixture.store.deliveryAttempts(ofEvent: ids[0]).map(\.status) == [500, 500, 200])
        #expect(try await fixture.store.outbox(failedOnly: false, limit: 10).first?.state == .sent)
    }

    /// One event whose first attempt was answered 503 with `Retry-After: 30` (the next is
    /// answered 200), the worker that tried it, and its row.
    func eventHeldByRetryAfter() async throws -> (Fixture, DeliveryWorker, OutboxEntry) {
        let fixture = try await Fixture(
            script: ["/hook": [.init(status: 503, headers: ["Retry-After": "30"]), .init(status: 200)]],
            verify: .init(standard: [Self.secret]))
        _ = try await fixture.enqueue(1)
        let worker = fixture.worker([try fixture.webhook("/hook")])
        _ = try await worker.deliverDue()
        let row = try #require(try await fixture.store.outbox(failedOnly: false, limit: 1).first)
        return (fixture, worker, row)
    }

    @Test("Retry-After holds the next attempt back")
    func retryAfter() async throws {
        let start = Date()
        let (fixture, worker, row) = try await eventHeldByRetryAfter()
        #expect(row.state == .pending && row.nextAttemptAt >= start.addingTimeInterval(29))
        _ = try await worker.deliverDue(now: row.nextAttemptAt.addingTimeInterval(-25))
        #expect(try fixture.server.requests().count == 1)
        _ = try await worker.deliverDue(now: row.nextAttemptAt.addingTimeInterval(1))
        #expect(try fixture.server.requests().count == 2)
    }

    @Test("a retry set further ahead than any retry is (the clock was set back since) is due now")
    func clockSetBack() async throws {
        let (fixture, worker, row) = try await eventHeldByRetryAfter()
        // 20 h ahead is a retry the schedule can set (up to 24 h, +10%); three days ahead is not.
        _ = try await worker.deliverDue(now: row.nextAttemptAt.addingTimeInterval(-20 * 3600))
        #expect(try fixture.server.requests().count == 1)
        _ = try await worker.deliverDue(now: row.nextAttemptAt.addingTimeInterval(-3 * 86_400))
        #expect(try fixture.server.requests().count == 2)
        #expect(try await fixture.store.outbox(failedOnly: false, limit: 1).first?.state == .sent)
    }

    @Test("410 disables the webhook once: its rows are dead-lettered and nothing more is sent")
    func goneDisables() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 410)]], verify: .init(standard: [Self.secret]))
        _ = try await fixture.enqueue(3)
        let worker = fixture.worker([try fixture.webhook("/hook", maxPerMinute: 100)])
        _ = try await worker.deliverDue()
        _ = try await fixture.enqueue(1)
        _ = try await worker.deliverDue()
        #expect(try await fixture.server.requests(atLeast: 1).count == 1)
        let status = try #require(try await fixture.store.webhookStatuses().first)
        #expect(status.disabledAt != nil && status.pending == 0 && status.dead == 4)
        #expect(fixture.logs.all.filter { $0.contains("webhook disabled") }.count == 1)
    }

    @Test("other 4xx fail for good at once; 408 and 429 are retried")
    func permanentAndTransient4xx() async throws {
        let fixture = try await Fixture(
            script: [
                "/bad": [.init(status: 400)], "/slow": [.init(status: 408), .init(status: 429), .init(status: 204)],
            ],
            verify: .init())
        _ = try await fixture.enqueue(1)
        try await fixture.drain(fixture.worker([try fixture.webhook("/bad")]))
        #expect(try await fixture.store.outbox(failedOnly: true, limit: 5).count == 1)
        #expect(try await fixture.server.requests(atLeast: 1).count == 1)

        let other = try await Fixture(
            script: ["/slow": [.init(status: 408), .init(status: 429), .init(status: 204)]], verify: .init())
        _ = try await other.enqueue(1)
        try await other.drain(other.worker([try other.webhook("/slow")]))
        #expect(try await other.server.requests(atLeast: 3).count == 3)
        #expect(try await other.store.outbox(failedOnly: false, limit: 1).first?.state == .sent)
    }

    @Test(
        "a removed webhook's rows are parked: not tried, not waited for, logged once with how to drop them; sent when it is back"
    )
    func removedWebhookParked() async throws {
        let fixture = try await Fixture(
            script: ["/hook": [.init(status: 204)], "/back": [.init(status: 204)]], verify: .init())
        _ = try await fixture.enqueue(2, for: "removed")
        _ = try await fixture.enqueue(1)
        let worker = fixture.worker([try fixture.webhook("/hook")])
        #expect(try await worker.deliverDue().sent == 1)
        _ = try await worker.deliverDue()
        #expect(try await worker.nextDeliveryTime() == nil)
        let pending = try await worker.pendingRows()
        #expect(pending.waiting == 0)
        #expect(pending.parked == ["removed": 2])
        let warnings = fixture.logs.all.filter { $0.contains(#"webhook "removed", which is no longer configured"#) }
        #expect(warnings.count == 1 && warnings[0].contains("exportwatch webhooks discard removed"), "\(warnings)")

        await worker.update([try fixture.webhook("/hook"), try fixture.webhook("/back", id: "removed")])
        #expect(try await worker.deliverDue().sent == 2)
        #expect(try fixture.server.requests().filter { $0.path == "/back" }.count == 2)
    }

    @Test("after the last scheduled attempt the row is dead-lettered, and retry requeues it")
    func deadLetterAndRequeue() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 500)]], verify: .init())
        let ids = try await fixture.enqueue(1)
        let worker = fixture.worker([try fixture.webhook("/hook")])
        try await fixture.drain(worker)
        #expect(
            try await fixture.server.requests(atLeast: Self.quickRetries.schedule.count).count
                == Self.quickRetries.schedule.count)
        #expect(try await fixture.store.outbox(failedOnly: true, limit: 5).map(\.eventID) == ids)
        #expect(try await fixture.store.requeue(eventID: ids[0], at: Date()) == 1)
        #expect(try await fixture.store.outbox(failedOnly: true, limit: 5).isEmpty)
    }

    @Test("a worker started afresh on the same database resumes a retry with the same id")
    func resumesAfterRestart() async throws {
        let fixture = try await Fixture(
            script: ["/hook": [.init(status: 502), .init(status: 200)]], verify: .init(standard: [Self.secret]))
        let ids = try await fixture.enqueue(1)
        _ = try await fixture.worker([try fixture.webhook("/hook")]).deliverDue()
        // The process ends here; a new one opens the same database.
        fixture.store = try SQLiteEventStore(stateDirectory: fixture.folder)
        try await Task.sleep(for: .milliseconds(250))
        try await fixture.drain(fixture.worker([try fixture.webhook("/hook")]))
        let requests = try await fixture.server.requests(atLeast: 2)
        #expect(requests.map { $0.header("webhook-id") } == [ids[0], ids[0]])
        #expect(requests.allSatisfy { $0.verified?.standard == [true] })
    }

    @Test("30 events at max_per_minute = 5 arrive as four single events, then one batch of the rest")
    func rateLimitBatches() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 200)]], verify: .init(standard: [Self.secret]))
        let ids = try await fixture.enqueue(30)
        let worker = fixture.worker([try fixture.webhook("/hook", maxPerMinute: 5)])
        let pass = try await worker.deliverDue()
        #expect(pass.sent == 5 && pass.batches == 1)
        let requests = try await fixture.server.requests(atLeast: 5)
        #expect(requests.count == 5)
        #expect(requests.prefix(4).map { $0.header("webhook-id") } == Array(ids.prefix(4)))
        let batch = try #require(requests.last)
        #expect(batch.header("webhook-id")?.hasPrefix("bat_") == true && batch.verified?.standard == [true])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data((batch.body ?? "").utf8)) as? [String: Any])
        let events = try #require(object["events"] as? [[String: Any]])
        #expect(object["type"] as? String == "batch")
        #expect(events.compactMap { $0["id"] as? String } == Array(ids.dropFirst(4)))
        #expect(try await worker.deliverDue().sent == 0)
    }

    @Test("a batch stops at 256 KB of events; the events past it go in the next minute's batch")
    func batchesAreBounded() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 200)]], verify: .init(standard: [Self.secret]))
        // Each event carries its summary's bounded 8 KB: 36 of them past the budget are ~300 KB.
        let ids = try await fixture.enqueue(
            40, summaries: { "<p>\(String(repeating: "出口管制 export \($0) ", count: 2_000))</p>" })
        let worker = fixture.worker([try fixture.webhook("/hook", maxPerMinute: 5)])
        let first = try await worker.deliverDue()
        #expect(first.sent == 5 && first.batches == 1 && first.deferred > 0)
        let requests = try await fixture.server.requests(atLeast: 5)
        let firstBatch = try #require(requests.last?.body)
        #expect(firstBatch.utf8.count <= 256 * 1024 + 1024)
        #expect(try await worker.deliverDue().sent == 0)

        let second = try await worker.deliverDue(now: Date().addingTimeInterval(61))
        #expect(second.sent >= 1 && second.deferred == 0)
        var delivered: [String] = []
        for request in try await fixture.server.requests(atLeast: 5 + second.sent) {
            guard let id = request.header("webhook-id") else { continue }
            #expect(request.verified?.standard == [true])
            if id.hasPrefix("bat_") {
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data((request.body ?? "").utf8)) as? [String: Any])
                let events = try #require(object["events"] as? [[String: Any]])
                delivered += events.compactMap { $0["id"] as? String }
            } else {
                delivered.append(id)
            }
        }
        #expect(delivered == ids)
    }

    @Test("an event held back by max_per_minute is due when the minute's budget frees, not before")
    func rateLimitHoldsTheNextAttempt() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 200)]], verify: .init())
        _ = try await fixture.enqueue(1)
        let worker = fixture.worker([try fixture.webhook("/hook", maxPerMinute: 1)])
        let start = Date()
        #expect(try await worker.deliverDue().sent == 1)
        _ = try await fixture.enqueue(1)
        #expect(try await worker.deliverDue().deferred == 1)
        // Nothing to wake for before the first attempt leaves the minute's window: a delivery loop
        // that woke for the held row would find it held again, and again.
        let next = try #require(try await worker.nextDeliveryTime())
        #expect(next > start.addingTimeInterval(59) && next < Date().addingTimeInterval(61), "\(next) vs \(start)")
        #expect(try await worker.deliverDue(now: next).sent == 1)
    }

    @Test("two secrets sign with two signatures, each valid; a hub secret signs X-Hub-Signature-256")
    func rotationAndHub() async throws {
        let fixture = try await Fixture(
            script: ["/hook": [.init(status: 200)], "/hub": [.init(status: 200)]],
            verify: .init(standard: [Self.secret, Self.rotated], hub: "hub-secret"))
        _ = try await fixture.enqueue(1)
        try await fixture.drain(fixture.worker([try fixture.webhook("/hook", secrets: [Self.secret, Self.rotated])]))
        let signed = try #require(try await fixture.server.requests(atLeast: 1).first)
        #expect(signed.header("webhook-signature")?.split(separator: " ").count == 2)
        #expect(signed.verified?.standard == [true, true])

        let hub = Webhook(
            id: "hook", url: fixture.server.url("/hub"), format: .json,
            signer: WebhookSigner(scheme: .hub(secret: Data("hub-secret".utf8))), events: ["policy_item.created"])
        _ = try await fixture.enqueue(1)
        try await fixture.drain(fixture.worker([hub]))
        #expect(try await fixture.server.requests(atLeast: 2).last?.verified?.hub == true)
    }

    @Test("a delivery cancelled in flight stays pending; nothing is marked sent that was not")
    func shutdownInFlight() async throws {
        let fixture = try await Fixture(script: ["/hook": [.init(status: 200, delay: 3)]], verify: .init())
        _ = try await fixture.enqueue(1)
        let worker = fixture.worker([try fixture.webhook("/hook")])
        let task = Task { try await worker.deliverDue() }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        _ = await task.result
        let row = try #require(try await fixture.store.outbox(failedOnly: false, limit: 1).first)
        #expect(row.state == .pending && row.attempts == 0)
    }

    @Test("neither the secret nor the URL's token shows in the logs, even on failures")
    func secretsStayOutOfLogs() async throws {
        let fixture = try await Fixture(
            script: ["/T0KEN-abc/hook": [.init(status: 500), .init(status: 400)]], verify: .init())
        _ = try await fixture.enqueue(1)
        try await fixture.drain(fixture.worker([try fixture.webhook("/T0KEN-abc/hook")]))
        #expect(!fixture.logs.all.isEmpty)
        for line in fixture.logs.all {
            #expect(!line.contains("T0KEN") && !line.contains("MfKQ9r8"))
        }
        #expect(!"\(try fixture.webhook("/T0KEN-abc/hook"))".contains("T0KEN"))
    }
}

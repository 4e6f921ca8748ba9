import Foundation
import Testing

@testable import Fetching

@Suite("Source health and poll scheduling")
struct SourceHealthTests {
    @Test("source.down once at the threshold, nothing while failing, source.recovered once")
    func transitionsAreToldOnce() {
        var health = SourceHealth()
        let failures = (1...6).map { health.recordFailure(reason: "HTTP 500 #\($0)", threshold: 3) }
        #expect(failures == [nil, nil, .down, nil, nil, nil])
        #expect(health.state == .failing(reason: "HTTP 500 #6"))
        #expect(health.consecutiveFailures == 6)
        #expect(health.recordSuccess() == .recovered)
        #expect(health.recordSuccess() == nil)
        #expect(health == SourceHealth())
    }

    @Test("failures below the threshold are forgotten by a success, with no transition")
    func shortFailureStreak() {
        var health = SourceHealth()
        #expect(health.recordFailure(reason: "timeout", threshold: 3) == nil)
        #expect(health.recordFailure(reason: "timeout", threshold: 3) == nil)
        #expect(health.recordSuccess() == nil)
        #expect(health.consecutiveFailures == 0 && health.state == .ok)
    }

    @Test("a page that gave items and gives none is empty once; items bring it back")
    func parseEmpty() {
        var health = SourceHealth()
        #expect(health.recordItems(0, previousCount: nil) == nil)
        #expect(health.recordItems(12, previousCount: 0) == nil)
        #expect(health.recordItems(0, previousCount: 12) == .parseEmpty)
        #expect(health.recordSuccess() == nil)
        #expect(health.recordItems(0, previousCount: 0) == nil)
        if case .empty = health.state {} else { Issue.record("expected empty, got \(health.state)") }
        #expect(health.recordItems(3, previousCount: 0) == .recovered)
        #expect(health.state == .ok)
    }

    @Test("an HTML page whose rules have never found an item is empty from its first read, not ok")
    func rulesThatNeverMatched() {
        var health = SourceHealth()
        #expect(health.recordItems(0, previousCount: nil, byRules: true) == .parseEmpty)
        #expect(health.state.reason?.contains("exportwatch fetch URL --item") == true)
        #expect(health.recordItems(0, previousCount: 0, byRules: true) == nil)
        #expect(health.recordItems(5, previousCount: 0, byRules: true) == .recovered)
        // A feed may be empty for a while (a search with no results yet): that is no mistake.
        var feed = SourceHealth()
        #expect(feed.recordItems(0, previousCount: nil) == nil && feed.state == .ok)
    }

    @Test("a retired source stays retired and is announced once")
    func retirement() {
        var health = SourceHealth()
        #expect(health.recordGone(reason: "HTTP 410") == .retired)
        #expect(health.recordGone(reason: "HTTP 410") == nil)
        #expect(health.recordFailure(reason: "x", threshold: 1) == nil)
        #expect(health.recordSuccess() == nil)
        #expect(health.isRetired)
    }

    /// A generator that always gives the same numbers, so that jitter is repeatable.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static func failure(_ status: Int = 500) -> FetchOutcome {
        .failed(FetchError(code: .transport, url: URL(string: "https://example.org/rss")!, message: "connection reset"))
    }

    @Test("while failing the next poll backs off exponentially with ±10% jitter, capped at 6 h")
    func backoff() {
        var state = SourceFetchState(url: URL(string: "https://example.org/rss")!)
        var random = SeededGenerator(state: 42)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let policy = PollPolicy(interval: .seconds(600), failureThreshold: 3)
        var delays: [Double] = []
        for _ in 0..<8 {
            _ = state.record(Self.failure(), at: now, policy: policy, using: &random)
            delays.append(state.nextDueAt!.timeIntervalSince(now))
        }
        let expected: [Double] = [600, 1200, 2400, 4800, 9600, 19200, 21600, 21600]
        for (delay, base) in zip(delays, expected) {
            #expect(delay >= base * 0.9 && delay <= base * 1.1, "delay \(delay) for base \(base)")
        }
        #expect(state.health.consecutiveFailures == 8)
    }

    @Test("a success schedules the next poll one interval away, jittered")
    func successSchedule() {
        var state = SourceFetchState(url: URL(string: "https://example.org/rss")!)
        var random = SeededGenerator(state: 7)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let provenance = Provenance(
            requestedURL: state.currentURL, finalURL: state.currentURL,
            hops: [.init(url: state.currentURL, status: 304)],
            status: 304, fetchedAt: now, byteCount: 0, sha256: "",
            timings: .init(dns: .zero, connect: .zero, tls: .zero, firstByte: .zero, total: .zero))
        var spread: Set<Int> = []
        for _ in 0..<20 {
            _ = state.record(
                .notModified(provenance: provenance), at: now,
                policy: PollPolicy(interval: .seconds(900), failureThreshold: 3), using: &random)
            let delay = state.nextDueAt!.timeIntervalSince(now)
            #expect(delay >= 810 && delay <= 990)
            spread.insert(Int(delay))
        }
        #expect(spread.count > 5)
    }

    @Test(
        "Cache-Control that a server got wrong is ignored, never a crash of the daemon",
        arguments: [
            ("=", nil), ("max-age=60, =", 60), (", ,", nil), ("max-age=", nil), ("max-age=inf", nil),
            ("max-age=1e3", nil), ("max-age=-5", nil), ("max-age=0x10", nil), ("public, max-age=\"120\"", 120),
            ("max-age=99999999999999999999999999", 2_147_483_648), ("no-cache=, max-age=60", nil),
        ] as [(String, Double?)])
    func malformedCacheControl(header: String, maxAge: Double?) {
        var provenance = Provenance(
            requestedURL: URL(string: "https://example.org/feed")!, finalURL: URL(string: "https://example.org/feed")!,
            hops: [], status: 200, fetchedAt: Date(), byteCount: 0, sha256: "",
            timings: .init(dns: .zero, connect: .zero, tls: .zero, firstByte: .zero, total: .zero))
        provenance.cacheControl = header
        #expect(provenance.maxAge == maxAge)
    }

    @Test("a changed configured URL starts the source afresh")
    func reconcile() {
        var state = SourceFetchState(url: URL(string: "https://example.org/a")!)
        state.etag = "\"x\""
        #expect(state.reconciled(withConfiguredURL: URL(string: "https://example.org/a")!) == state)
        let fresh = state.reconciled(withConfiguredURL: URL(string: "https://example.org/b")!)
        #expect(fresh.etag == nil && fresh.currentURL.absoluteString == "https://example.org/b")
    }
}

extension Provenance {
    init(
        requestedURL: URL, finalURL: URL, hops: [Hop], status: Int, fetchedAt: Date, byteCount: Int, sha256: String,
        timings: Timings
    ) {
        self.init(
            requestedURL: requestedURL, finalURL: finalURL, hops: hops, status: status, etag: nil, lastModified: nil,
            contentType: nil, contentEncoding: nil, cacheControl: nil, retryAfter: nil, fetchedAt: fetchedAt,
            byteCount: byteCount, sha256: sha256, timings: timings)
    }
}

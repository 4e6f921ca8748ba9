import Classification
import Feeds
import Fetching
import Foundation
import GRDB
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Daemon
@testable import Store

/// The poller against a real loopback server and a real SQLite store.
@Suite("Source poller")
struct SourcePollerTests {
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    struct Fixture {
        let server: ScriptedHTTPServer
        let store: SQLiteEventStore
        let poller: SourcePoller
        let logs = LogLines()
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-poller-\(UUID().uuidString)")

        init(script: [String: [ScriptedHTTPServer.Response]]) async throws {
            server = try await ScriptedHTTPServer(script: script)
            store = try SQLiteEventStore(stateDirectory: folder)
            var settings = DaemonSettings()
            settings.privateNetworks = .allowAll
            settings.failureThreshold = 3
            let logs = self.logs
            let logger = Logger(label: "exportwatch") { LogLineHandler(label: $0, journal: true, write: logs.append) }
            let ingestor = Ingestor(
                store: store, topics: ConfigurationLoader().builtInTopics(),
                baselineNewSources: true,
                logger: logger)
            poller = SourcePoller(
                fetcher: HTTPFetcher(configuration: settings.fetcherConfiguration), store: store, ingestor: ingestor,
                settings: settings, logger: logger)
        }

        func source(_ path: String) -> SourceSettings {
            SourceSettings(id: "src", url: server.url(path))
        }

        func close() {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test(
        "an RSS <ttl> longer than the interval holds the next poll back, up to 6 h, whatever the feed says",
        arguments: [("120", 7200.0), ("999999999999999999", 6 * 3600.0)])
    func ttl(minutes: String, heldSeconds: Double) async throws {
        let fixture = try await Fixture(script: [
            "/ttl": [.init(body: "<rss version=\"2.0\"><channel><title>t</title><ttl>\(minutes)</ttl></channel></rss>")]
        ])
        defer { fixture.close() }
        let now = Date()
        _ = try await fixture.poller.poll(fixture.source("/ttl"), now: now)
        let due = try #require(try await fixture.store.source("src")?.state.nextDueAt)
        #expect(abs(due.timeIntervalSince(now) - heldSeconds) < 1)
    }

    @Test("three failures record one source.down, a success one source.recovered, each logged once")
    func healthTransitions() async throws {
        let fixture = try await Fixture(script: [
            "/flaky": [
                .init(status: 500), .init(status: 500), .init(status: 502), .init(status: 500), .init(body: "<rss/>"),
            ]
        ])
        defer { fixture.close() }
        for _ in 1...5 { _ = try await fixture.poller.poll(fixture.source("/flaky")) }
        let events = try await fixture.store.healthEvents(ofSource: "src")
        #expect(events.map(\.transition) == [.down, .recovered])
        #expect(events.first?.reason?.contains("HTTP 502") == true)
        #expect(fixture.logs.all.filter { $0.contains("source down") }.count == 1)
        #expect(fixture.logs.all.filter { $0.contains("source recovered") }.count == 1)
        #expect(fixture.logs.all.filter { $0.hasPrefix("<4>exportwatch: fetch failed") }.count == 4)
        let state = try #require(try await fixture.store.source("src")?.state)
        #expect(state.health == SourceHealth() && state.lastSuccessAt != nil)
    }

    @Test("a document that cannot be read is one warning line, with the reason and the failure count")
    func unreadableDocumentLine() async throws {
        let fixture = try await Fixture(script: [
            "/challenge": [
                .init(headers: ["Content-Type": "text/html"], body: "<html><title>Just a moment</title></html>")
            ]
        ])
        defer { fixture.close() }
        _ = try await fixture.poller.poll(fixture.source("/challenge"))
        #expect(fixture.logs.all.count == 1)
        let line = try #require(fixture.logs.all.first)
        #expect(line.hasPrefix("<4>exportwatch: document unreadable"))
        #expect(line.contains("not a feed: the root element is <html>") && line.contains("failures=1"))
        #expect(line.contains("status=200") && line.contains("source=src"))
    }

    @Test("polls the store cannot record are one error line per reason, with how many and which")
    func unrecordedPollsAreLoggedOnce() async throws {
        let fixture = try await Fixture(script: ["/feed": [.init(status: 500)]])
        defer { fixture.close() }
        var settings = fixture.settings
        settings.privateNetworks = .allowAll
        // Long ids: each source's row needs room of its own in the database.
        let sources = (0..<8).map {
            SourceSettings(id: "source-\($0)-\(String(repeating: "x", count: 1500))", url: fixture.server.url("/feed"))
        }
        let logs = fixture.logs
        let parts = try DaemonParts(
            configuration: Configuration(daemon: settings, sources: sources), topics: [],
            logger: Logger(label: "exportwatch") { LogLineHandler(label: $0, journal: true, write: logs.append) })
        // SQLite's page limit stands in for a full disk.
        try await parts.store.pool.write { db in
            try db.execute(sql: "PRAGMA max_page_count = \(try Int.fetchOne(db, sql: "PRAGMA page_count")!)")
        }
        let report = try await parts.poll(sources, stored: [:])
        #expect(report.notRecorded.count >= 2)
        #expect(report.notRecordedReason?.contains("cannot grow: its disk is full") == true)
        #expect(Set(report.notRecorded).isSubset(of: report.failed))
        let lines = logs.all.filter { $0.contains("not recorded") }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("<3>exportwatch: \(report.notRecorded.count) polls not recorded"))
        #expect(line.contains("cannot grow: its disk is full"))
        #expect(line.contains(report.notRecorded.count > 5 ? "more" : report.notRecorded[0]))
    }

    @Test("alerts.atom that cannot be written is one error line; the cycle's report still comes back")
    func alertsFeedFailure() async throws {
        let fixture = try await Fixture(script: [
            "/bis.xml": [
                .init(
                    body: """
                        <rss version="2.0"><channel><title>BIS</title><item><guid>r1</guid>
                        <title>Commerce adds Chinese AI chip firms to the Entity List under new export controls</title>
                        <link>https://www.bis.gov/r1</link></item></channel></rss>
                        """)
            ]
        ])
        defer { fixture.close() }
        var settings = fixture.settings
        settings.privateNetworks = .allowAll
        // The digest folder would be inside a file: no alerts.atom can be written there.
        let blocker = fixture.folder.appending(path: "not-a-folder")
        #expect(FileManager.default.createFile(atPath: blocker.path, contents: Data()))
        settings.digestDirectory = blocker.appending(path: "digests")
        let logs = fixture.logs
        let parts = try DaemonParts(
            configuration: Configuration(daemon: settings, sources: [fixture.source("/bis.xml")]),
            topics: ConfigurationLoader().builtInTopics(),
            logger: Logger(label: "exportwatch") { LogLineHandler(label: $0, journal: true, write: logs.append) })
        let report = try await parts.poll([fixture.source("/bis.xml")])
        #expect(report.newRelevantItems == 1 && report.failed.isEmpty)
        #expect(report.alertsFeedFailure?.contains(blocker.path) == true)
        #expect(logs.all.filter { $0.hasPrefix("<3>exportwatch: alerts.atom not written") }.count == 1)
        #expect(ExportwatchDaemon.problem(of: report)?.hasPrefix("the last cycle could not write alerts.atom") == true)
    }

    @Test("sources list shows when each source last succeeded and when it is polled next")
    func overviewTimes() async throws {
        let fixture = try await Fixture(script: ["/bis.xml": [.init(body: "<rss version=\"2.0\"><channel/></rss>")]])
        defer { fixture.close() }
        let configuration = Configuration(daemon: fixture.settings, sources: [fixture.source("/bis.xml")])
        let before = try #require(try await SourceOverview.rows(for: configuration).first)
        #expect(before.health == "new" && before.lastSuccess == nil && before.nextDue == nil)

        _ = try await fixture.poller.poll(fixture.source("/bis.xml"))
        let state = try #require(try await fixture.store.source("src")?.state)
        let row = try #require(try await SourceOverview.rows(for: configuration).first)
        let (lastSuccess, nextDue) = (try #require(state.lastSuccessAt), try #require(state.nextDueAt))
        #expect(row.lastSuccess == lastSuccess && row.nextDue == nextDue)

        let utc = TimeZone(identifier: "UTC")!
        let table = SourceOverview.table([row], zone: utc, now: lastSuccess)
        #expect(table.hasPrefix("ID   KIND  INTERVAL  HEALTH  LAST OK           NEXT POLL         URL\n"))
        #expect(table.contains("  \(SourceOverview.stamp(lastSuccess, utc))  \(SourceOverview.stamp(nextDue, utc))  "))
        let late = SourceOverview.table([row], zone: utc, now: nextDue.addingTimeInterval(1))
        #expect(late.contains("  \(SourceOverview.stamp(lastSuccess, utc))  due  "))
    }

    @Test(
        "a cycle polls from the stored sources it is given (the daemon's own read), not a read of its own, and reports when they are next due"
    )
    func cycleUsesGivenSources() async throws {
        let fixture = try await Fixture(script: [
            "/bis.xml": [.init(headers: ["ETag": "\"v1\""], body: "<rss/>", answer304IfNoneMatch: "\"v1\"")]
        ])
        defer { fixture.close() }
        var settings = fixture.settings
        settings.privateNetworks = .allowAll
        let source = fixture.source("/bis.xml")
        let parts = try DaemonParts(
            configuration: Configuration(daemon: settings, sources: [source]), topics: [],
            logger: Logger(label: "exportwatch"))
        // The store holds the source without a validator; the state given has one, as if read later.
        var state = SourceFetchState(url: source.url)
        try await fixture.store.saveFetchState(state, ofSource: "src", kind: "feed", transitions: [], at: Date())
        state.etag = "\"v1\""
        let report = try await parts.poll(
            [source], stored: ["src": StoredSource(id: "src", kind: "feed", state: state)])
        #expect(report.polled == 1 && report.failed.isEmpty)
        #expect(try fixture.server.requests().map { $0.header("If-None-Match") } == ["\"v1\""])
        // The report says when the source is due next, as saved: the daemon sleeps until then.
        let saved = try #require(try await fixture.store.source("src")?.state.nextDueAt)
        let reported = try #require(report.earliestNextDue)
        #expect(abs(reported.timeIntervalSince(saved)) < 0.001 && reported > Date())
    }

    @Test("410 retires the source in the store; it is not polled again until its URL changes")
    func retiredSourceIsSkipped() async throws {
        let fixture = try await Fixture(script: ["/gone": [.init(status: 410)], "/new": [.init(body: "<rss/>")]])
        defer { fixture.close() }
        let first = try await fixture.poller.poll(fixture.source("/gone"))
        #expect(first?.transitions == [.retired])
        #expect(try await fixture.poller.poll(fixture.source("/gone")) == nil)
        #expect(try fixture.server.requests().count == 1)
        #expect(try await fixture.store.healthEvents(ofSource: "src").map(\.transition) == [.retired])

        let rows = try await SourceOverview.rows(
            for: Configuration(daemon: fixture.settings, sources: [fixture.source("/gone")]))
        #expect(rows.first?.health.hasPrefix("retired") == true)
        #expect(rows.first?.nextDue == nil, "a retired source is not polled again")

        let moved = try await fixture.poller.poll(fixture.source("/new"))
        guard case .parse = moved?.result.decision else {
            Issue.record("a source whose URL changed should be polled afresh, got \(String(describing: moved))")
            return
        }
    }

    @Test("an HTML page whose rules stop finding items raises source.parse_empty once, and recovers")
    func parseEmpty() async throws {
        let list = #"<ul class="news"><li><a href="/n/1">Entity List additions</a><span>2024-05-10</span></li></ul>"#
        let redesigned = #"<div class="cards"><div class="card"><a href="/n/1">Entity List additions</a></div></div>"#
        let fixture = try await Fixture(script: [
            "/page": [
                .init(body: "<html><body>\(list)</body></html>"),
                .init(body: "<html><body>\(redesigned)</body></html>"),
                .init(body: "<html><body>\(redesigned) </body></html>"),
                .init(body: "<html><body>\(list) </body></html>"),
            ]
        ])
        defer { fixture.close() }
        var source = fixture.source("/page")
        source.kind = .html
        source.html = HTMLRules(item: "ul.news > li", title: "a", link: "a@href", date: "span")
        var transitions: [SourceHealth.Transition] = []
        var counts: [Int?] = []
        for _ in 1...4 {
            let poll = try await fixture.poller.poll(source)
            transitions += poll?.transitions ?? []
            counts.append(poll?.feed?.items.count)
        }
        #expect(counts == [1, 0, 0, 1])
        #expect(transitions == [.parseEmpty, .recovered])
        #expect(try await fixture.store.healthEvents(ofSource: "src").map(\.transition) == [.parseEmpty, .recovered])
        #expect(fixture.logs.all.filter { $0.contains("source parse_empty") }.count == 1)
    }

    @Test("an HTML source whose rules find nothing from its first read is empty at once, saying how to check them")
    func rulesThatNeverMatch() async throws {
        let list = #"<ul class="news"><li><a href="/n/1">Entity List additions</a><span>2024-05-10</span></li></ul>"#
        let fixture = try await Fixture(script: ["/page": [.init(body: "<html><body>\(list)</body></html>")]])
        defer { fixture.close() }
        var source = fixture.source("/page")
        source.kind = .html
        source.html = HTMLRules(item: "ul.list1 > li", title: "a", link: "a@href")
        let poll = try await fixture.poller.poll(source)
        #expect(poll?.feed?.items.count == 0 && poll?.transitions == [.parseEmpty])
        let line = try #require(fixture.logs.all.first { $0.contains("source parse_empty") })
        #expect(line.contains("the rules have found no items on the page"), "\(line)")
        #expect(try await fixture.store.source("src")?.state.health.state.name == "empty")
    }

    @Test("a document that is not a feed counts as a failure and is read again next time")
    func unreadable() async throws {
        let fixture = try await Fixture(script: ["/feed": [.init(body: "<html><body>moved</body></html>")]])
        defer { fixture.close() }
        for _ in 1...3 { _ = try await fixture.poller.poll(fixture.source("/feed")) }
        #expect(try await fixture.store.healthEvents(ofSource: "src").map(\.transition) == [.down])
        let state = try #require(try await fixture.store.source("src")?.state)
        #expect(state.health.consecutiveFailures == 3)
        #expect(state.lastError?.contains("not a feed: the root element is <html>") == true)
    }

    @Test("after three polls through the same 301 the store polls the new URL")
    func permanentRedirectIsStored() async throws {
        let fixture = try await Fixture(script: [
            "/old": [.init(status: 308, headers: ["Location": "/new"])], "/new": [.init(body: "<rss/>")],
        ])
        defer { fixture.close() }
        for _ in 1...3 { _ = try await fixture.poller.poll(fixture.source("/old")) }
        #expect(try await fixture.store.source("src")?.state.currentURL == fixture.server.url("/new"))
        #expect(fixture.logs.all.filter { $0.contains("source moved permanently") }.count == 1)
        _ = try await fixture.poller.poll(fixture.source("/old"))
        #expect(try fixture.server.requests().map(\.path) == ["/old", "/new", "/old", "/new", "/old", "/new", "/new"])
    }
}

extension SourcePollerTests.Fixture {
    var settings: DaemonSettings {
        var settings = DaemonSettings()
        settings.stateDirectory = folder
        return settings
    }
}

@Suite("Fetch report")
struct FetchReportTests {
    @Test("the report of a redirected fetch names every hop and the hash")
    func report() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/a": [.init(status: 301, headers: ["Location": "/b"])],
            "/b": [.init(headers: ["ETag": "\"v2\""], body: "<rss/>", gzip: true)],
        ])
        defer { server.stop() }
        var settings = DaemonSettings()
        settings.privateNetworks = .allowAll
        let outcome = try await HTTPFetcher(configuration: settings.fetcherConfiguration).fetch(
            FetchRequest(url: server.url("/a")))
        let lines = FetchReport.text(for: outcome).split(separator: "\n").map(String.init)
        #expect(lines.first == "status: 200")
        #expect(
            lines.contains("hops: 301 \(server.url("/a").absoluteString) -> 200 \(server.url("/b").absoluteString)"))
        #expect(lines.contains("etag: \"v2\""))
        #expect(lines.contains("encoding: gzip"))
        #expect(lines.contains("sha256: \(SHA256.hex(of: Data("<rss/>".utf8)))"))
    }

    @Test("poll times are spread over ±10% by draws that differ from poll to poll")
    func jitterSpread() {
        let source = JitterSource()
        var first = source.generator()
        var second = source.generator()
        // As the poll policy draws a 15-minute interval's jitter.
        let delays = (0..<500).flatMap { _ in
            [Double.random(in: 810...990, using: &first), Double.random(in: 810...990, using: &second)]
        }
        #expect(delays.allSatisfy { (810...990).contains($0) })
        #expect(delays.min()! < 820 && delays.max()! > 980)
        #expect(Set(delays).count == delays.count)
        // Both halves of the range about equally often.
        #expect((400...600).contains(delays.count { $0 < 900 }))
    }

    @Test("a poll's digest day follows the daemon's zone across midnight")
    func digestDays() throws {
        let days = DigestDays(timeZone: try #require(TimeZone(identifier: "Asia/Shanghai")))
        let beforeMidnight = Date(timeIntervalSince1970: 1_715_356_200)  // 2024-05-10 23:50 +08:00
        #expect(days.day(of: beforeMidnight) == "2024-05-10")
        #expect(days.day(of: beforeMidnight.addingTimeInterval(20 * 60)) == "2024-05-11")
        #expect(days.day(of: beforeMidnight) == "2024-05-10")
    }
}

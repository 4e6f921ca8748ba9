import Foundation
import TestSupport
import Testing

@testable import Fetching

/// The fetcher against real HTTP servers on loopback addresses.
@Suite("HTTP fetcher")
struct HTTPFetcherTests {
    static let feed = try! Data(
        contentsOf: Bundle.module.url(forResource: "Fixtures/bis-entity-list", withExtension: "xml")!)
    static let feedBrotli = try! Data(
        contentsOf: Bundle.module.url(forResource: "Fixtures/bis-entity-list.xml", withExtension: "br")!)

    /// Loopback servers are private addresses: these tests allow them, except where refusal is the point.
    static func configuration(_ change: (inout FetcherConfiguration) -> Void = { _ in }) -> FetcherConfiguration {
        var configuration = FetcherConfiguration()
        configuration.privateNetworks = .allowAll
        configuration.userAgent = "exportwatch-tests/1"
        change(&configuration)
        return configuration
    }

    /// Polls like the daemon does: request from the state, fetch, record.
    static func poll(
        _ state: inout SourceFetchState, with fetcher: HTTPFetcher, interval: Duration = .seconds(900),
        at now: Date = Date()
    ) async throws -> SourceFetchState.PollResult {
        var random = SystemRandomNumberGenerator()
        let outcome = try await fetcher.fetch(state.request(headers: [:]))
        return state.record(
            outcome, at: now, policy: PollPolicy(interval: interval, failureThreshold: 3), using: &random)
    }

    @Test("a second poll is conditional, and a 304 leaves nothing to parse")
    func conditionalGet() async throws {
        let validators = ["ETag": "\"bis-v1\"", "Last-Modified": "Thu, 09 May 2024 14:00:00 GMT"]
        let server = try await ScriptedHTTPServer(
            script: [
                "/rss": [.init(headers: validators, bodyFile: "feed.xml", answer304IfNoneMatch: "\"bis-v1\"")]
            ], files: ["feed.xml": Self.feed])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        var state = SourceFetchState(url: server.url("/rss"))

        let first = try await Self.poll(&state, with: fetcher)
        guard case .parse(let body, let provenance) = first.decision else {
            Issue.record("expected a document to parse, got \(first.decision)")
            return
        }
        #expect(body == Self.feed)
        #expect(provenance.sha256 == SHA256.hex(of: Self.feed))
        #expect(state.etag == "\"bis-v1\"" && state.lastModified == "Thu, 09 May 2024 14:00:00 GMT")

        let second = try await Self.poll(&state, with: fetcher)
        guard case .unchanged(let unchanged) = second.decision else {
            Issue.record("expected unchanged, got \(second.decision)")
            return
        }
        #expect(unchanged.status == 304)
        let requests = try server.requests()
        try #require(requests.count == 2)
        #expect(requests[0].header("If-None-Match") == nil)
        #expect(requests[1].header("If-None-Match") == "\"bis-v1\"")
        #expect(requests[1].header("If-Modified-Since") == "Thu, 09 May 2024 14:00:00 GMT")
        #expect(requests[1].header("User-Agent") == "exportwatch-tests/1")
    }

    @Test("new validators on a byte-identical body are kept, and the body is not parsed again")
    func identicalBodyNewValidators() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/rss": [
                .init(headers: ["ETag": "\"a\""], body: "<rss/>"), .init(headers: ["ETag": "\"b\""], body: "<rss/>"),
            ]
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        var state = SourceFetchState(url: server.url("/rss"))
        _ = try await Self.poll(&state, with: fetcher)
        let second = try await Self.poll(&state, with: fetcher)
        guard case .unchanged = second.decision else {
            Issue.record("expected unchanged, got \(second.decision)")
            return
        }
        #expect(state.etag == "\"b\"")
    }

    @Test("gzip and brotli bodies arrive decoded, and every encoding is offered")
    func compression() async throws {
        let server = try await ScriptedHTTPServer(
            script: [
                "/gzip": [.init(bodyFile: "feed.xml", gzip: true)],
                "/br": [.init(headers: ["Content-Encoding": "br"], bodyFile: "feed.xml.br")],
            ], files: ["feed.xml": Self.feed, "feed.xml.br": Self.feedBrotli])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        for (path, encoding) in [("/gzip", "gzip"), ("/br", "br")] {
            let outcome = try await fetcher.fetch(FetchRequest(url: server.url(path)))
            guard case .fetched(let body, let provenance) = outcome else {
                Issue.record("\(path): expected a body, got \(outcome)")
                continue
            }
            #expect(body == Self.feed)
            #expect(provenance.contentEncoding == encoding)
            #expect(provenance.byteCount == Self.feed.count)
        }
        let offered = try server.requests().first?.header("Accept-Encoding") ?? ""
        #expect(offered.contains("gzip") && offered.contains("br") && offered.contains("deflate"))
    }

    @Test("three polls through the same 301 move the source; a 302 moves nothing")
    func permanentAndTemporaryRedirects() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/old": [.init(status: 301, headers: ["Location": "http://127.0.0.1:{port}/new"])],
            "/new": [.init(body: "<rss/>")],
            "/moving": [.init(status: 302, headers: ["Location": "/elsewhere"])],
            "/elsewhere": [.init(body: "<rss/>")],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        var state = SourceFetchState(url: server.url("/old"))
        for poll in 1...3 {
            let result = try await Self.poll(&state, with: fetcher)
            #expect((result.movedTo != nil) == (poll == 3))
            if case .failed(let error) = result.decision { Issue.record("poll \(poll) failed: \(error)") }
        }
        #expect(state.currentURL == server.url("/new"))
        #expect(state.configuredURL == server.url("/old"))
        _ = try await Self.poll(&state, with: fetcher)
        #expect(try server.requests().last?.path == "/new")

        var temporary = SourceFetchState(url: server.url("/moving"))
        for _ in 1...4 {
            let result = try await Self.poll(&temporary, with: fetcher)
            #expect(result.movedTo == nil)
            #expect(result.decision.provenance?.hops.map(\.status) == [302, 200])
        }
        #expect(temporary.currentURL == server.url("/moving"))
    }

    @Test("410 Gone retires the source, once")
    func goneRetires() async throws {
        let server = try await ScriptedHTTPServer(script: ["/gone": [.init(status: 410)]])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        var state = SourceFetchState(url: server.url("/gone"))
        let result = try await Self.poll(&state, with: fetcher)
        #expect(result.transition == .retired)
        #expect(state.health.isRetired && state.nextDueAt == nil)
        #expect(state.reconciled(withConfiguredURL: server.url("/gone")).health.isRetired)
        #expect(!state.reconciled(withConfiguredURL: server.url("/replacement")).health.isRetired)
    }

    @Test("Cache-Control: max-age longer than the interval pushes the next poll back, within the 6 h bound")
    func cacheControlMaxAge() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/hour": [.init(headers: ["Cache-Control": "public, max-age=3600"], body: "<rss/>")],
            "/week": [.init(headers: ["Cache-Control": "max-age=604800"], body: "<rss/>")],
            "/short": [.init(headers: ["Cache-Control": "max-age=60"], body: "<rss/>")],
            "/nostore": [.init(headers: ["Cache-Control": "no-store, max-age=3600"], body: "<rss/>")],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        let now = Date()
        var delays: [String: TimeInterval] = [:]
        for path in ["/hour", "/week", "/short", "/nostore"] {
            var state = SourceFetchState(url: server.url(path))
            _ = try await Self.poll(&state, with: fetcher, interval: .seconds(900), at: now)
            delays[path] = try #require(state.nextDueAt).timeIntervalSince(now)
        }
        #expect((3240...3960).contains(delays["/hour"]!))
        #expect((19440...23760).contains(delays["/week"]!))
        #expect((810...990).contains(delays["/short"]!) && (810...990).contains(delays["/nostore"]!))
    }

    @Test(
        "429 and 503 with Retry-After push back only that source, without counting a failure",
        arguments: [(429, "120"), (503, "HTTP-DATE")])
    func retryAfter(status: Int, header: String) async throws {
        let retryDate = Date().addingTimeInterval(7200)
        let value = header == "HTTP-DATE" ? Self.httpDate(retryDate) : header
        let server = try await ScriptedHTTPServer(script: [
            "/busy": [.init(status: status, headers: ["Retry-After": value])], "/fine": [.init(body: "<rss/>")],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        var busy = SourceFetchState(url: server.url("/busy"))
        var fine = SourceFetchState(url: server.url("/fine"))
        // Timed from the polls, not from the server's start, which a loaded machine can make slow.
        let now = Date()
        _ = try await Self.poll(&busy, with: fetcher, interval: .seconds(60), at: now)
        let answered = Date()
        _ = try await Self.poll(&fine, with: fetcher, interval: .seconds(60), at: now)
        let due = try #require(busy.nextDueAt)
        if header == "HTTP-DATE" {
            #expect(abs(due.timeIntervalSince(retryDate)) < 1.5)
        } else {
            #expect(due >= now.addingTimeInterval(119) && due <= answered.addingTimeInterval(121))
        }
        #expect(busy.health.consecutiveFailures == 0)
        #expect(try #require(fine.nextDueAt).timeIntervalSince(now) < 70)
    }

    @Test("a body over the cap fails cleanly, whether announced or inflated by compression")
    func bodyCap() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/big": [.init(bodySize: 200_000)], "/bomb": [.init(bodySize: 2_000_000, gzip: true)],
            "/small": [.init(body: "<rss/>")],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration { $0.maxBodyBytes = 100_000 })
        for path in ["/big", "/bomb"] {
            let outcome = try await fetcher.fetch(FetchRequest(url: server.url(path)))
            guard case .failed(let error) = outcome else {
                Issue.record("\(path): expected a failure, got \(outcome)")
                continue
            }
            #expect(error.code == .bodyTooLarge)
            #expect(error.description.contains("larger than max_body_size (100000 bytes)"))
        }
        if case .failed(let error) = try await fetcher.fetch(FetchRequest(url: server.url("/small"))) {
            Issue.record("a small body after two refused ones failed: \(error)")
        }
    }

    @Test("a server that accepts and never answers hits the timeout")
    func timeout() async throws {
        let server = try await ScriptedHTTPServer(script: ["/hang": [.init(hang: true)]])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration { $0.requestTimeout = .seconds(1) })
        let started = ContinuousClock.now
        let outcome = try await fetcher.fetch(FetchRequest(url: server.url("/hang")))
        guard case .failed(let error) = outcome else {
            Issue.record("expected a timeout, got \(outcome)")
            return
        }
        #expect(error.code == .timeout)
        #expect(error.curlCode == 28)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("file:// is refused, as a URL and as a redirect target")
    func fileScheme() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/to-file": [.init(status: 302, headers: ["Location": "file:///etc/passwd"])]
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        let direct = try await fetcher.fetch(FetchRequest(url: URL(string: "file:///etc/passwd")!))
        let redirected = try await fetcher.fetch(FetchRequest(url: server.url("/to-file")))
        for outcome in [direct, redirected] {
            guard case .failed(let error) = outcome else {
                Issue.record("expected a refusal, got \(outcome)")
                continue
            }
            #expect(error.code == .scheme)
        }
    }

    @Test("a refused address may be a proxy's: the variable libcurl takes the proxy from is named")
    func proxyVariable() throws {
        let https = try #require(URL(string: "https://www.bis.gov/rss.xml"))
        let http = try #require(URL(string: "http://www.mofcom.gov.cn/rss.xml"))
        #expect(HTTPFetcher.proxyVariable(for: https, environment: [:]) == nil)
        #expect(
            HTTPFetcher.proxyVariable(for: https, environment: ["HTTPS_PROXY": "http://10.0.0.1:3128"]) == "HTTPS_PROXY"
        )
        #expect(HTTPFetcher.proxyVariable(for: https, environment: ["http_proxy": "http://10.0.0.1:3128"]) == nil)
        // libcurl reads http_proxy in lower case only.
        #expect(HTTPFetcher.proxyVariable(for: http, environment: ["HTTP_PROXY": "http://10.0.0.1:3128"]) == nil)
        #expect(HTTPFetcher.proxyVariable(for: http, environment: ["ALL_PROXY": "socks5://10.0.0.1"]) == "ALL_PROXY")
    }

    @Test("private addresses are refused at connect time, redirects included, unless allowed")
    func privateAddresses() async throws {
        let inside = try await ScriptedHTTPServer(host: "127.0.0.2", script: ["/secret": [.init(body: "internal")]])
        defer { inside.stop() }
        let outside = try await ScriptedHTTPServer(script: [
            "/hop": [.init(status: 302, headers: ["Location": inside.url("/secret").absoluteString])]
        ])
        defer { outside.stop() }

        let refusing = HTTPFetcher(configuration: Self.configuration { $0.privateNetworks = .refuse })
        guard case .failed(let direct) = try await refusing.fetch(FetchRequest(url: outside.url("/hop"))) else {
            Issue.record("a loopback address was fetched with private networks refused")
            return
        }
        #expect(direct.code == .privateAddress)
        #expect(direct.description.contains("refused to connect to 127.0.0.1"))

        // 127.0.0.1 allowed, 127.0.0.2 not: the redirect is refused at the address it resolves to.
        let narrow = HTTPFetcher(
            configuration: Self.configuration { $0.privateNetworks = .allow([IPNetwork("127.0.0.1/32")!]) })
        guard case .failed(let redirected) = try await narrow.fetch(FetchRequest(url: outside.url("/hop"))) else {
            Issue.record("a redirect reached a refused address")
            return
        }
        #expect(redirected.code == .privateAddress)
        #expect(redirected.url == inside.url("/secret"))
        #expect(try inside.requests().isEmpty)

        let open = HTTPFetcher(configuration: Self.configuration())
        guard case .fetched(let body, _) = try await open.fetch(FetchRequest(url: outside.url("/hop"))) else {
            Issue.record("with private networks allowed the redirect should be followed")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == "internal")
    }

    @Test("50 sources on one host never have more than max_per_host requests in flight")
    func perHostLimit() async throws {
        let script = Dictionary(
            uniqueKeysWithValues: (0..<50).map {
                ("/feed/\($0)", [ScriptedHTTPServer.Response(body: "<rss/>", delay: 0.05)])
            })
        let server = try await ScriptedHTTPServer(script: script)
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration { $0.maxPerHost = 2 })
        try await withThrowingTaskGroup(of: FetchOutcome.self) { group in
            for index in 0..<50 {
                group.addTask { try await fetcher.fetch(FetchRequest(url: server.url("/feed/\(index)"))) }
            }
            for try await outcome in group {
                if case .failed(let error) = outcome { Issue.record("\(error)") }
            }
        }
        let requests = try server.requests()
        #expect(requests.count == 50)
        #expect(requests.map(\.concurrent).max() == 2)
    }

    @Test("cancelling a task ends its transfer at once and leaves the fetcher working")
    func cancellation() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/hang": [.init(hang: true)], "/ok": [.init(body: "<rss/>")],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration { $0.maxConcurrent = 1 })
        let hanging = Task { try await fetcher.fetch(FetchRequest(url: server.url("/hang"))) }
        let queued = Task { try await fetcher.fetch(FetchRequest(url: server.url("/hang"))) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        hanging.cancel()
        queued.cancel()
        for task in [hanging, queued] {
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        // Uncancelled, the hang would last until the low-speed limit (30 s); a loaded machine can
        // take a second or two to run the cancellation, so the bound leaves room for that.
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .fetched = try await fetcher.fetch(FetchRequest(url: server.url("/ok"))) else {
            Issue.record("the fetcher stopped working after a cancellation")
            return
        }
    }

    @Test("a handle reused after a POST starts clean: the next GET carries none of the POST's method, headers or body")
    func reusedHandleStartsClean() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/hook": [.init(status: 204)], "/rss": [.init(body: "<rss/>")],
        ])
        defer { server.stop() }
        // One transfer at a time: the GET runs on the handle the POST ended with.
        let fetcher = HTTPFetcher(configuration: Self.configuration { $0.maxConcurrent = 1 })
        let posted = try await fetcher.post(
            Data(#"{"type":"policy_event.created"}"#.utf8), to: server.url("/hook"),
            headers: [("Content-Type", "application/json"), ("Webhook-Signature", "v1,c2lnbmVk")], timeout: .seconds(5))
        #expect(try posted.get().status == 204)
        guard case .fetched = try await fetcher.fetch(FetchRequest(url: server.url("/rss"))) else {
            Issue.record("the GET after the POST failed")
            return
        }
        let requests = try server.requests()
        try #require(requests.count == 2)
        #expect(requests[0].method == "POST" && requests[0].header("Webhook-Signature") == "v1,c2lnbmVk")
        #expect(requests[1].method == "GET" && requests[1].path == "/rss" && requests[1].body == nil)
        #expect(requests[1].header("Webhook-Signature") == nil && requests[1].header("Content-Type") == nil)
        #expect(requests[1].header("User-Agent") == "exportwatch-tests/1")
    }

    @Test("the driver thread carries a name the kernel shows (top -H, perf, /proc/PID/task/*/comm)")
    func driverThreadName() async throws {
        let server = try await ScriptedHTTPServer(script: ["/rss": [.init(body: "<rss/>")]])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        guard case .fetched = try await fetcher.fetch(FetchRequest(url: server.url("/rss"))) else {
            Issue.record("the fetch failed")
            return
        }
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        #expect(names.contains("ew-curl-driver\n"))
    }

    @Test("provenance names the hops, the validators, the hash and the timings; extra headers are sent")
    func provenance() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/start": [.init(status: 307, headers: ["Location": "/final"])],
            "/final": [
                .init(headers: ["ETag": "\"x\"", "Content-Type": "application/rss+xml; charset=utf-8"], body: "<rss/>")
            ],
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        let outcome = try await fetcher.fetch(FetchRequest(url: server.url("/start"), headers: ["X-Api-Key": "k1"]))
        let provenance = try #require(outcome.provenance)
        #expect(provenance.requestedURL == server.url("/start"))
        #expect(provenance.finalURL == server.url("/final"))
        #expect(provenance.hops.map(\.status) == [307, 200])
        #expect(provenance.etag == "\"x\"")
        #expect(provenance.contentType == "application/rss+xml; charset=utf-8")
        #expect(provenance.sha256 == SHA256.hex(of: Data("<rss/>".utf8)))
        #expect(provenance.timings.total > .zero && provenance.timings.firstByte > .zero)
        #expect(try server.requests().allSatisfy { $0.header("X-Api-Key") == "k1" })
    }

    @Test("an HTTP error status is a failure that keeps the response's provenance")
    func httpErrors() async throws {
        let server = try await ScriptedHTTPServer(script: ["/missing": [.init(status: 404)]])
        defer { server.stop() }
        let outcome = try await HTTPFetcher(configuration: Self.configuration()).fetch(
            FetchRequest(url: server.url("/missing")))
        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.code == .httpStatus && error.status == 404)
        #expect(error.description == "fetching \(server.url("/missing").absoluteString) failed: HTTP 404")
    }

    @Test("a refused connection is a transport failure with curl's own message")
    func connectionRefused() async throws {
        let outcome = try await HTTPFetcher(configuration: Self.configuration()).fetch(
            FetchRequest(url: URL(string: "http://127.0.0.1:9/feed")!))
        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.code == .transport && error.curlCode == 7)
    }

    @Test("a response header line over libcurl's limit is said to be one, not a lack of memory")
    func oversizedHeaderLine() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/long-header": [.init(headers: ["X-Padding": String(repeating: "a", count: 200_000)], body: "<rss/>")]
        ])
        defer { server.stop() }
        let fetcher = HTTPFetcher(configuration: Self.configuration())
        guard case .failed(let error) = try await fetcher.fetch(FetchRequest(url: server.url("/long-header"))) else {
            Issue.record("a 200 kB header line was accepted")
            return
        }
        #expect(error.code == .transport && error.curlCode == 27)
        #expect(error.description.contains("a response header line is longer than libcurl accepts"))
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

extension SourceFetchState.PollResult.Decision {
    var provenance: Provenance? {
        switch self {
        case .parse(_, let provenance), .unchanged(let provenance): provenance
        case .failed(let error), .retired(let error): error.provenance
        }
    }
}

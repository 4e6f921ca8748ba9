import Classification
import Dedup
import Digest
import Feeds
import Fetching
import Foundation
import Store
import TestSupport
import Testing

/// Digests built from a real SQLite store, with a fixed clock and zone.
@Suite("Daily digest")
struct DigestTests {
    static let topics = [
        Topic(
            id: "chip-controls", name: "Chip controls", threshold: 0.3,
            terms: [.init("chip", weight: 0.6), .init("export", weight: 0.4)]),
        Topic(id: "china-response", name: "China's response", threshold: 0.3, terms: [.init("商务部", weight: 0.8)]),
    ]
    static let classifier = Classifier(topics: topics)

    final class Fixture {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-digest-\(UUID().uuidString)")
        let store: SQLiteEventStore
        let zone: TimeZone
        var digests: URL { folder.appending(path: "digests") }

        init(zone: String) throws {
            store = try SQLiteEventStore(stateDirectory: folder.appending(path: "state"))
            self.zone = TimeZone(identifier: zone)!
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        func builder(at hour: Int = 8, receivers: [String] = []) -> DigestBuilder {
            DigestBuilder(
                store: store, folder: digests, schedule: DigestSchedule(hour: hour, minute: 0, timeZone: zone),
                formats: DigestBuilder.Format.allCases, atomFeed: true,
                topics: DigestTests.topics.map { ($0.id, $0.name) }, receivers: receivers)
        }

        /// A local time in the fixture's zone: `"2024-03-10 23:30"`.
        func local(_ text: String) -> Date {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let parts = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
            return calendar.date(
                from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4]))!
        }

        /// Stores one item from `source`, first seen at `at`, starting a story or joining `story`.
        @discardableResult
        func add(
            _ title: String, source: String = "bis", at: Date, story: Int64? = nil, link: String? = nil,
            summary: String = "export controls on chips", ok: Bool = true
        ) async throws -> Int64 {
            let url = URL(string: "https://\(source).example/feed")!
            var record = PollRecord(
                sourceID: source, kind: "feed", state: SourceFetchState(url: url),
                identity: IdentityChoice(kind: .guid, reason: nil, switched: false), at: at)
            record.poll = PollOutcome(day: DayWindow.containing(at, timeZone: zone).day, succeeded: ok)
            let item = DedupItem(
                guid: UUID().uuidString, link: link ?? "https://\(source).example/\(UUID().uuidString)", title: title)
            let keys = ItemKeys(item)
            let publicID = ItemKeys.publicItemID(source: source, identityKey: keys.guidKey!)
            let reference: StoryReference
            if let story {
                reference = .existing(story)
            } else {
                record.newStories = [
                    NewStory(publicID: ItemKeys.publicStoryID(foundedBy: publicID), title: title, simHash: keys.simHash)
                ]
                reference = .started(0)
            }
            record.newItems = [
                NewItem(
                    publicID: publicID, identityKey: keys.guidKey!, identityKind: .guid, keys: keys, guid: item.guid,
                    link: item.link, title: title, summary: summary, content: nil, language: "en", published: nil,
                    updated: nil, classification: DigestTests.classifier.classify(title: title, summary: summary),
                    story: reference, provenance: nil)
            ]
            _ = try await store.commit(record)
            let known = try await store.knownItems(ofSource: source, matching: [keys])
            return try #require(known.first?.storyID)
        }

        func text(_ name: String) throws -> String {
            try String(contentsOf: digests.appending(path: name), encoding: .utf8)
        }
    }

    @Test("items at 23:30 and 00:30 land on either side of midnight, in the configured zone")
    func midnight() async throws {
        let fixture = try Fixture(zone: "Asia/Shanghai")
        try await fixture.add("Late chip export rule", at: fixture.local("2024-05-09 23:30"))
        try await fixture.add("Early chip export rule", at: fixture.local("2024-05-10 00:30"))
        let builder = fixture.builder()
        let ninth = try await builder.assemble(DayWindow(day: "2024-05-09", timeZone: fixture.zone)!)
        let tenth = try await builder.assemble(DayWindow(day: "2024-05-10", timeZone: fixture.zone)!)
        #expect(ninth.sections.flatMap(\.stories).map(\.title) == ["Late chip export rule"])
        #expect(tenth.sections.flatMap(\.stories).map(\.title) == ["Early chip export rule"])
        #expect(ninth.sections.first?.stories.first?.localTime == "23:30")
        #expect(tenth.basis.contains("first saw") && tenth.basis.contains("Asia/Shanghai"))
    }

    @Test("a DST change makes a 23- or 25-hour day, and items near its midnights land right")
    func daylightSaving() async throws {
        let fixture = try Fixture(zone: "America/New_York")
        let spring = try #require(DayWindow(day: "2024-03-10", timeZone: fixture.zone))
        let autumn = try #require(DayWindow(day: "2024-11-03", timeZone: fixture.zone))
        #expect(spring.hours == 23 && autumn.hours == 25)
        try await fixture.add("Spring chip export early", at: fixture.local("2024-03-10 00:30"))
        try await fixture.add("Spring chip export late", at: fixture.local("2024-03-10 23:30"))
        try await fixture.add("Next day chip export", at: fixture.local("2024-03-11 00:30"))
        try await fixture.add("Autumn chip export late", at: fixture.local("2024-11-03 23:30"))
        let builder = fixture.builder()
        let springDigest = try await builder.assemble(spring)
        #expect(
            Set(springDigest.sections.flatMap(\.stories).map(\.title)) == [
                "Spring chip export early", "Spring chip export late",
            ])
        #expect(springDigest.hours == 23)
        #expect(
            try await builder.assemble(autumn).sections.flatMap(\.stories).map(\.title) == ["Autumn chip export late"])
        // The digest of the spring day is due at 08:00 on the 11th, local time.
        let schedule = DigestSchedule(hour: 8, minute: 0, timeZone: fixture.zone)
        #expect(schedule.buildTime(of: spring) == fixture.local("2024-03-11 08:00"))
    }

    @Test("a story appears once, under its best topic, with its other sources; counts per topic; problems listed")
    func content() async throws {
        let fixture = try Fixture(zone: "UTC")
        let story = try await fixture.add(
            "US chip export curbs widen", source: "reuters", at: fixture.local("2024-05-10 09:00"))
        try await fixture.add(
            "US widens chip export curbs", source: "ap", at: fixture.local("2024-05-10 10:00"), story: story)
        try await fixture.add(
            "商务部回应美方芯片出口管制", source: "mofcom", at: fixture.local("2024-05-10 11:00"), summary: "商务部 chip")
        try await fixture.add(
            "Nothing relevant", source: "blog", at: fixture.local("2024-05-10 12:00"), summary: "cooking", ok: false)
        let digest = try await fixture.builder().assemble(DayWindow(day: "2024-05-10", timeZone: fixture.zone)!)
        #expect(digest.storyCount == 2 && digest.itemCount == 3)
        #expect(digest.sourcesPolled == 4 && digest.sourcesFailing == ["blog"])
        let chips = try #require(digest.sections.first { $0.topic == "chip-controls" })
        try #require(chips.stories.count == 1)
        #expect(chips.stories[0].otherReports.map(\.source) == ["ap"])
        #expect(digest.sections.first { $0.topic == "china-response" }?.stories.map(\.title) == ["商务部回应美方芯片出口管制"])
        #expect(digest.problems.map(\.type) == ["failing"])
        #expect(digest.chart.count == 14 && digest.chart.last?.counts["chip-controls"] == 3)
    }

    @Test("rebuilding a day gives byte-identical files; digest.created goes out on the first build only")
    func rebuildIsIdentical() async throws {
        let fixture = try Fixture(zone: "Europe/Berlin")
        try await fixture.add("Chip export rule 出口管制", at: fixture.local("2024-05-10 09:00"))
        let day = try #require(DayWindow(day: "2024-05-10", timeZone: fixture.zone))
        let builder = fixture.builder(receivers: ["hook"])
        let first = try await builder.build(day, now: fixture.local("2024-05-11 08:00"))
        #expect(first.files == ["2024-05-10.md", "2024-05-10.html", "2024-05-10.json"] && first.announced)
        let before = try first.files.map(fixture.text)
        let second = try await builder.build(day, now: fixture.local("2024-05-12 10:00"))
        #expect(try second.files.map(fixture.text) == before)
        #expect(!second.announced)
        let outbox = try await fixture.store.outbox(failedOnly: false, limit: 10)
        #expect(outbox.map(\.eventType) == ["digest.created"])
        let payload = try #require(try JSONSerialization.jsonObject(with: outbox[0].payload) as? [String: Any])
        #expect((payload["digest"] as? [String: Any])?["files"] as? [String] == first.files)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.digests.path).filter {
            $0.hasPrefix(".")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("hostile titles render as text in HTML and Markdown; the HTML parses without errors in libxml2")
    func escaping() async throws {
        let fixture = try Fixture(zone: "UTC")
        try await fixture.add("<script>alert(1)</script> chip export", at: fixture.local("2024-05-10 09:00"))
        try await fixture.add(
            "\"><img src=x onerror=alert(1)> chip export", at: fixture.local("2024-05-10 10:00"),
            link: "javascript:alert(1)")
        let built = try await fixture.builder().build(DayWindow(day: "2024-05-10", timeZone: fixture.zone)!)
        let html = try fixture.text("2024-05-10.html")
        #expect(!html.contains("<script") && !html.contains("<img src=x") && !html.contains("javascript:"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!html.contains("http://") || !html.contains("<link"), "no remote resources")
        #expect(try HTMLValidation.errors(in: Data(html.utf8)).isEmpty)
        let markdown = try fixture.text("2024-05-10.md")
        #expect(markdown.contains("\\<script\\>"))
        #expect(built.stories == 2)
    }

    @Test("alerts.atom parses back through exportwatch's parser and Python's feedparser without a bozo flag")
    func atomFeed() async throws {
        let fixture = try Fixture(zone: "UTC")
        try await fixture.add("Chip export rule & <more>", at: fixture.local("2024-05-10 09:00"))
        try await fixture.add(
            "商务部 chip 出口管制", source: "mofcom", at: fixture.local("2024-05-10 10:00"), summary: "商务部 chip")
        try await fixture.builder().writeAlertsFeed(now: fixture.local("2024-05-10 12:00"))
        let path = fixture.digests.appending(path: "alerts.atom")
        let feed = try FeedParser().parse(try Data(contentsOf: path))
        #expect(feed.format == .atom10 && feed.warnings.isEmpty)
        #expect(feed.items.map(\.title) == ["商务部 chip 出口管制", "Chip export rule & <more>"])
        #expect(feed.items.allSatisfy { $0.id?.hasPrefix("urn:exportwatch:story:sty_") == true })

        let python = try await ProgramRun(
            URL(filePath: "/usr/bin/env"),
            [
                "python3", "-c",
                "import sys, feedparser; d = feedparser.parse(sys.argv[1]); print(int(d.bozo), len(d.entries), d.version)",
                path.path,
            ])
        let text = python.output
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "0 2 atom10")
    }

    @Test("days missed while down are built on start, oldest first, and not again")
    func missedDays() async throws {
        let fixture = try Fixture(zone: "Asia/Shanghai")
        try await fixture.add("Chip export rule", at: fixture.local("2024-05-07 10:00"))
        let builder = fixture.builder(at: 8)
        let built = try await builder.buildDue(now: fixture.local("2024-05-10 09:00"))
        #expect(built.map(\.day) == ["2024-05-07", "2024-05-08", "2024-05-09"])
        #expect(try await builder.buildDue(now: fixture.local("2024-05-10 09:30")).isEmpty)
        #expect(try await builder.buildDue(now: fixture.local("2024-05-11 07:59")).isEmpty)
        #expect(try await builder.buildDue(now: fixture.local("2024-05-11 08:00")).map(\.day) == ["2024-05-10"])
        let schedule = DigestSchedule(hour: 8, minute: 0, timeZone: fixture.zone)
        #expect(schedule.nextBuildTime(after: fixture.local("2024-05-11 08:00")) == fixture.local("2024-05-12 08:00"))
    }

    @Test("a missed digest is built up to 60 days back, however long the history")
    func catchUpWindow() throws {
        let zone = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let schedule = DigestSchedule(hour: 8, minute: 0, timeZone: zone)
        let now = try #require(ISO8601DateFormatter().date(from: "2024-05-10T01:00:00Z"))  // 09:00 in Shanghai
        let yearAgo = now.addingTimeInterval(-365 * 86_400)
        let due = schedule.dueDays(at: now, built: [], since: yearAgo)
        #expect(due.count == 60 && due.first?.day == "2024-03-11" && due.last?.day == "2024-05-09")
        // A day missed 100 days ago stays missed; `exportwatch digest --date` builds it by hand.
        let recent = Set(due.map(\.day))
        #expect(schedule.dueDays(at: now, built: recent, since: yearAgo).isEmpty)
    }
}

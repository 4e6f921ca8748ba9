import Fetching
import Foundation
import Store
import Testing

@testable import Daemon

@Suite("Poll schedule")
struct PollScheduleTests {
    static let now = Date(timeIntervalSince1970: 1_715_300_000)

    static func source(_ id: String, interval: Duration? = nil) -> SourceSettings {
        SourceSettings(id: id, url: URL(string: "https://www.bis.gov/\(id).rss")!, interval: interval)
    }

    static func stored(_ source: SourceSettings, dueAt: Date?, retired: Bool = false) -> StoredSource {
        var state = SourceFetchState(url: source.url)
        state.nextDueAt = dueAt
        if retired { state.health = SourceHealth(state: .retired(reason: "HTTP 410"), consecutiveFailures: 1) }
        return StoredSource(id: source.id, kind: "feed", state: state)
    }

    @Test("due: never polled, or due by the store; not due: later, or retired; the next wake is the earliest later one")
    func dueByTheStore() {
        let (new, past, later, latest, gone) = (
            Self.source("new"), Self.source("past"), Self.source("later"), Self.source("latest"), Self.source("gone")
        )
        let stored = [
            "past": Self.stored(past, dueAt: Self.now.addingTimeInterval(-5)),
            "later": Self.stored(later, dueAt: Self.now.addingTimeInterval(300)),
            "latest": Self.stored(latest, dueAt: Self.now.addingTimeInterval(900)),
            "gone": Self.stored(gone, dueAt: Self.now.addingTimeInterval(-5), retired: true),
        ]
        var schedule = PollSchedule()
        let (due, nextDue) = schedule.due(
            [new, past, later, latest, gone], stored: stored, defaultInterval: .seconds(900), now: Self.now)
        #expect(due.map(\.id) == ["new", "past"])
        #expect(nextDue == Self.now.addingTimeInterval(300))
    }

    @Test("a next poll further away than any delay allows was saved before the clock went back: the source is due")
    func clockSetBack() {
        let (daily, hourly) = (Self.source("daily", interval: .seconds(86_400)), Self.source("hourly"))
        // A day and a bit away: a daily source or a day's Retry-After can be that far (24 h + 10%
        // jitter is the most any poll sets); three days away, none can.
        let stored = [
            "daily": Self.stored(daily, dueAt: Self.now.addingTimeInterval(1.05 * 86_400)),
            "hourly": Self.stored(hourly, dueAt: Self.now.addingTimeInterval(3 * 86_400)),
        ]
        var schedule = PollSchedule()
        let (due, nextDue) = schedule.due(
            [daily, hourly], stored: stored, defaultInterval: .seconds(3600), now: Self.now)
        #expect(due.map(\.id) == ["hourly"])
        #expect(nextDue == Self.now.addingTimeInterval(1.05 * 86_400))
    }

    @Test(
        "a poll that was not recorded holds its source one interval, its own or the default, though the store says due")
    func unrecordedPollsAreHeld() {
        let (own, plain) = (Self.source("own", interval: .seconds(120)), Self.source("plain"))
        let stored = [
            "own": Self.stored(own, dueAt: Self.now.addingTimeInterval(-60)),
            "plain": Self.stored(plain, dueAt: Self.now.addingTimeInterval(-60)),
        ]
        var schedule = PollSchedule()
        let heldUntil = schedule.hold(
            ["own", "plain"], of: [own, plain], defaultInterval: .seconds(900), now: Self.now)
        #expect(heldUntil == Self.now.addingTimeInterval(120))

        let minuteLater = schedule.due(
            [own, plain], stored: stored, defaultInterval: .seconds(900), now: Self.now.addingTimeInterval(60))
        #expect(minuteLater.due.isEmpty)
        #expect(minuteLater.nextDue == Self.now.addingTimeInterval(120))
        let afterOwn = schedule.due(
            [own, plain], stored: stored, defaultInterval: .seconds(900), now: Self.now.addingTimeInterval(120))
        #expect(afterOwn.due.map(\.id) == ["own"])
        #expect(afterOwn.nextDue == Self.now.addingTimeInterval(900))
        let afterBoth = schedule.due(
            [own, plain], stored: stored, defaultInterval: .seconds(900), now: Self.now.addingTimeInterval(900))
        #expect(afterBoth.due.map(\.id) == ["own", "plain"])
    }

    @Test("the scheduler's stored sources: read whole once, then only the polled ones, until the sources change")
    func storedSourcesReadWholeThenPolledOnes() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-schedule-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteEventStore(stateDirectory: folder)
        let (bis, ofac, mofcom) = (Self.source("bis"), Self.source("ofac"), Self.source("mofcom"))
        func save(_ source: SourceSettings, dueAt: Date) async throws {
            var state = SourceFetchState(url: source.url)
            state.nextDueAt = dueAt
            try await store.saveFetchState(state, ofSource: source.id, kind: "feed", transitions: [], at: Self.now)
        }
        try await save(bis, dueAt: Self.now)
        try await save(ofac, dueAt: Self.now)
        var known = StoredSources(store: store)
        #expect(try await known.read([bis, ofac]).keys.sorted() == ["bis", "ofac"])

        // A pass polls bis: it is read again; ofac, which nothing here wrote, is not.
        try await save(bis, dueAt: Self.now.addingTimeInterval(900))
        try await save(ofac, dueAt: Self.now.addingTimeInterval(600))
        try await known.refresh([bis])
        var stored = try await known.read([bis, ofac])
        #expect(stored["bis"]?.state.nextDueAt == Self.now.addingTimeInterval(900))
        #expect(stored["ofac"]?.state.nextDueAt == Self.now)

        // Other configured sources (a reload), or a failure, read them all again.
        try await save(mofcom, dueAt: Self.now)
        stored = try await known.read([bis, ofac, mofcom])
        #expect(stored.keys.sorted() == ["bis", "mofcom", "ofac"])
        #expect(stored["ofac"]?.state.nextDueAt == Self.now.addingTimeInterval(600))
        try await save(ofac, dueAt: Self.now.addingTimeInterval(1200))
        known.forget()
        #expect(
            try await known.read([bis, ofac, mofcom])["ofac"]?.state.nextDueAt == Self.now.addingTimeInterval(1200))
    }
}

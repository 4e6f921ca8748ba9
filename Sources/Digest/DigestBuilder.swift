public import Foundation
public import Store

/// Builds digests from the store into the digest folder: one day's files, the days missed while
/// the daemon was down, and `alerts.atom`; announces a new day with `digest.created`.
public struct DigestBuilder: Sendable {
    /// The files a digest can be written as.
    public enum Format: String, Sendable, CaseIterable {
        case markdown = "md", html, json
    }

    private let store: any EventStore
    private let folder: URL
    private let schedule: DigestSchedule
    private let formats: [Format]
    private let atomFeed: Bool
    private let topics: [(id: String, name: String)]
    private let receivers: [String]

    /// Creates a builder.
    /// - Parameters:
    ///   - topics: every topic's id and name, in the topics file's order.
    ///   - receivers: the webhooks that receive `digest.created`.
    public init(
        store: any EventStore, folder: URL, schedule: DigestSchedule, formats: [Format], atomFeed: Bool,
        topics: [(id: String, name: String)], receivers: [String]
    ) {
        self.store = store
        self.folder = folder
        self.schedule = schedule
        self.formats = formats
        self.atomFeed = atomFeed
        self.topics = topics
        self.receivers = receivers
    }

    /// What building one day produced.
    public struct Built: Sendable, Equatable {
        public var day: String
        /// The file names written, in the folder.
        public var files: [String]
        public var stories: Int
        /// Whether it was announced (a day's first build).
        public var announced: Bool
    }

    /// Builds (or rebuilds) the digest of `day`. The same store content gives the same bytes.
    /// - Throws: the store's errors, or a write error naming the file.
    public func build(_ day: DayWindow, now: Date = Date()) async throws -> Built {
        let digest = try await assemble(day)
        try DigestWriter.prepare(folder)
        var files: [String] = []
        let names = Dictionary(topics.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for format in formats {
            let name = "\(day.day).\(format.rawValue)"
            let text: String =
                switch format {
                case .markdown: MarkdownRenderer.render(digest)
                case .html: HTMLRenderer.render(digest, topicNames: names)
                case .json: try JSONRenderer.render(digest)
                }
            try DigestWriter.write(text, to: folder.appending(path: name))
            files.append(name)
        }
        let counts = Dictionary(digest.topics.map { ($0.id, $0.stories) }, uniquingKeysWith: { first, _ in first })
            .merging(["stories": digest.storyCount, "items": digest.itemCount]) { first, _ in first }
        let alreadyBuilt = try await store.builtDigests().contains { $0.day == day.day }
        try await store.recordDigest(
            day: day.day, timeZone: day.timeZone.identifier, files: files, counts: counts, at: now)
        if !alreadyBuilt, !receivers.isEmpty {
            try await announce(digest, files: files, counts: counts, now: now)
        }
        return Built(
            day: day.day, files: files, stories: digest.storyCount, announced: !alreadyBuilt && !receivers.isEmpty)
    }

    /// Builds every day that is due and not built, oldest first (days missed while down).
    public func buildDue(now: Date = Date()) async throws -> [Built] {
        guard let since = try await store.firstActivity() else { return [] }
        let built = Set(try await store.builtDigests().map(\.day))
        var results: [Built] = []
        for day in schedule.dueDays(at: now, built: built, since: since) {
            results.append(try await build(day, now: now))
        }
        return results
    }

    /// Rewrites `alerts.atom` with the newest 200 relevant stories, when the feed is enabled.
    public func writeAlertsFeed(now: Date = Date()) async throws {
        guard atomFeed else { return }
        let alerts = try await store.latestAlerts(limit: 200)
        try DigestWriter.prepare(folder)
        let names = Dictionary(topics.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        try DigestWriter.write(
            AtomRenderer.render(alerts, topicNames: names, now: now), to: folder.appending(path: "alerts.atom"))
    }

    /// The digest of a day, from the store.
    public func assemble(_ day: DayWindow) async throws -> DigestDay {
        let items = try await store.digestItems(from: day.start, to: day.end)
        let reports = try await store.storyReports(of: items.map(\.storyID), before: day.end)
        var chartDays = [day]
        while chartDays.count < 14 { chartDays.insert(chartDays[0].previous, at: 0) }
        let chartTimes = try await store.relevantTopicTimes(from: chartDays[0].start, to: day.end)
        return DigestAssembler.assemble(
            window: day, items: items, reports: reports,
            polls: try await store.pollSummary(day: day.day),
            problems: try await store.sourceProblems(from: day.start, to: day.end), topics: topics,
            chartDays: chartDays, chartTimes: chartTimes)
    }

    private func announce(_ digest: DigestDay, files: [String], counts: [String: Int], now: Date) async throws {
        let id = "evt_" + UUID().uuidString.replacing("-", with: "").lowercased()
        let object: [String: Any] = [
            "version": 1, "type": "digest.created", "id": id, "occurred_at": now.formatted(.iso8601),
            "text": "exportwatch digest for \(digest.day): \(digest.storyCount) stories, \(digest.itemCount) items",
            "digest": [
                "day": digest.day, "time_zone": digest.timeZone, "files": files, "counts": counts,
                "folder": folder.path,
            ],
        ]
        let payload = try JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        try await store.enqueue(
            [OutboxMessage(eventID: id, eventType: "digest.created", payload: payload, webhookIDs: receivers)], at: now)
    }
}

/// The digest as JSON (docs/digest.md): the same content as the Markdown, keys sorted.
public enum JSONRenderer {
    /// The file's text.
    public static func render(_ digest: DigestDay) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(digest), as: UTF8.self) + "\n"
    }
}

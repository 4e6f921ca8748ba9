public import Classification
public import Delivery
public import Digest
public import Fetching
public import Foundation
public import Logging
public import Store

/// Everything one daemon runs with, built from a configuration: the store, the fetcher, the
/// ingestor, the poller, the delivery worker and the digest builder.
public struct DaemonParts: Sendable {
    public let configuration: Configuration
    public let store: SQLiteEventStore
    public let fetcher: HTTPFetcher
    public let ingestor: Ingestor
    public let poller: SourcePoller
    public let worker: DeliveryWorker
    public let digests: DigestBuilder
    public let logger: Logger

    /// Opens the store and builds the parts.
    /// - Throws: ``StoreError`` when the state database cannot be opened.
    public init(
        configuration: Configuration, topics: [Topic], logger: Logger, retryPolicy: RetryPolicy = .standard
    ) throws {
        try self.init(
            configuration: configuration, store: SQLiteEventStore(stateDirectory: configuration.daemon.stateDirectory),
            fetcher: HTTPFetcher(configuration: configuration.daemon.fetcherConfiguration), topics: topics,
            logger: logger, retryPolicy: retryPolicy)
    }

    /// The parts of the configuration at `configurationPath`, with the topics it names. The topics
    /// compile and the fetcher starts on another thread while the store opens (at a start, ~2, ~1
    /// and ~3 ms: a warm `run --once` of a thousand sources is ~100 ms in all).
    /// - Throws: ``ConfigurationError`` for a topics file with mistakes (before any store error),
    ///   ``StoreError`` when the state database cannot be opened.
    public static func open(
        configuration: Configuration, configurationPath: String, logger: Logger, retryPolicy: RetryPolicy = .standard
    ) async throws -> DaemonParts {
        async let compiled = Result { () throws(ConfigurationError) in
            try ConfigurationLoader().topics(for: configuration, configurationPath: configurationPath)
        }
        async let fetcher = HTTPFetcher(configuration: configuration.daemon.fetcherConfiguration)
        let store = Result { () throws(StoreError) in
            try SQLiteEventStore(stateDirectory: configuration.daemon.stateDirectory)
        }
        let topics = try await compiled.get()
        return try await DaemonParts(
            configuration: configuration, store: store.get(), fetcher: fetcher, topics: topics, logger: logger,
            retryPolicy: retryPolicy)
    }

    private init(
        configuration: Configuration, store: SQLiteEventStore, fetcher: HTTPFetcher, topics: [Topic], logger: Logger,
        retryPolicy: RetryPolicy
    ) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.fetcher = fetcher
        let webhooks = configuration.webhooks.map(\.webhook)
        ingestor = Ingestor(
            store: store, topics: topics,
            baselineNewSources: configuration.daemon.baselineNewSources, webhooks: webhooks, logger: logger)
        poller = SourcePoller(
            fetcher: fetcher, store: store, ingestor: ingestor, settings: configuration.daemon, logger: logger)
        worker = DeliveryWorker(store: store, fetcher: fetcher, webhooks: webhooks, policy: retryPolicy, logger: logger)
        digests = configuration.digestBuilder(store: store, topics: topics)
    }
}

/// What a cycle of polls came to.
public struct CycleReport: Sendable, Equatable {
    /// Sources polled.
    public var polled = 0
    /// Sources whose poll failed (transport, status, unreadable document, or not recorded).
    public var failed: [String] = []
    /// Of those, the sources whose poll could not be recorded (the store failed): the store
    /// still has them as due as before the poll.
    public var notRecorded: [String] = []
    /// Why the first of them was not recorded.
    public var notRecordedReason: String?
    /// Why `alerts.atom` could not be rewritten after the polls, when it could not (the items
    /// are stored; the next relevant item rewrites the whole feed).
    public var alertsFeedFailure: String?
    /// New items, and of those the relevant ones.
    public var newItems = 0
    public var newRelevantItems = 0
    /// Events raised (created and updated).
    public var events = 0
    /// The earliest time one of the polled sources is due again.
    public var earliestNextDue: Date?

    /// Adds one poll.
    mutating func add(_ poll: SourcePoller.Poll, source: String) {
        polled += 1
        switch poll.result.decision {
        case .failed, .retired: failed.append(source)
        case .parse where poll.feed == nil: failed.append(source)
        default: break
        }
        newItems += poll.ingest.newItems
        newRelevantItems += poll.ingest.newRelevantItems
        events += poll.ingest.commit.eventIDs.count
        if let due = poll.nextDueAt { earliestNextDue = min(earliestNextDue ?? due, due) }
    }
}

extension DaemonParts {
    /// Polls `sources` through the whole pipeline, at most `max_concurrent` at once (the fetcher
    /// also holds each host to `max_per_host`); each source's results are written in one
    /// transaction. A source whose poll throws (its state could not be saved) is counted as
    /// failed and not recorded; the others carry on. Such a failure is logged once per reason
    /// and cycle, with the sources it reached: a full disk fails every poll alike, and a
    /// thousand identical lines would bury it.
    /// - Parameters:
    ///   - stored: the sources as stored, by id, when the caller has just read them (the daemon
    ///     does, to find the due ones); nil reads them here, in one read.
    ///   - afterEachPoll: called as each source's poll ends (the daemon's watchdog and `/healthz`
    ///     take it for progress).
    public func poll(
        _ sources: [SourceSettings], stored: [String: StoredSource]? = nil,
        now: @escaping @Sendable () -> Date = Date.init, afterEachPoll: () async -> Void = {}
    ) async throws -> CycleReport {
        var report = CycleReport()
        var unrecorded = UnrecordedPolls()
        let limit = max(1, configuration.daemon.maxConcurrent)
        // Only this cycle's poll of a source writes it, so a state read before the cycle stays current.
        let stored = if let stored { stored } else { try await store.sources(reusing: sources.map(\.url)) }
        try await withThrowingTaskGroup(of: (String, SourcePoller.Poll?, (any Error)?).self) { group in
            var pending = sources[...]
            func startNext() {
                guard let source = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (
                            source.id, try await poller.poll(source, stored: stored[source.id], now: now()), nil
                        )
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return (source.id, nil, error)
                    }
                }
            }
            for _ in 0..<limit { startNext() }
            for try await (id, poll, error) in group {
                if let poll {
                    report.add(poll, source: id)
                } else if let error {
                    report.polled += 1
                    report.failed.append(id)
                    report.notRecorded.append(id)
                    report.notRecordedReason = report.notRecordedReason ?? "\(error)"
                    unrecorded.add(source: id, reason: "\(error)")
                }
                await afterEachPoll()
                startNext()
            }
        }
        unrecorded.log(to: logger)
        if report.newRelevantItems > 0 {
            // Not thrown: the cycle's report (which polls were not recorded) is what the daemon
            // schedules by, and a full disk fails this write too.
            do {
                try await digests.writeAlertsFeed()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                report.alertsFeedFailure = "\(error)"
                logger.error(
                    "alerts.atom not written; the next relevant item rewrites it", metadata: ["error": "\(error)"])
            }
        }
        return report
    }

    /// Deletes what `settings` keep no longer: delivered and dead-lettered outbox rows past
    /// `outbox_retention`; items past `item_retention` that their source no longer lists, and
    /// sources' health transitions past it (each source's latest stays). Pending deliveries are
    /// never touched.
    public func pruneExpired(_ settings: DaemonSettings, now: Date = Date()) async throws {
        let outbox = try await store.pruneOutbox(before: now - Double(settings.outboxRetention.components.seconds))
        if outbox > 0 { logger.info("outbox pruned", metadata: ["rows": "\(outbox)"]) }
        guard let retention = settings.itemRetention else { return }
        let cutoff = now - Double(retention.components.seconds)
        let items = try await store.pruneItems(firstSeenBefore: cutoff, batch: 2_000)
        if items.items > 0 || items.stories > 0 {
            logger.notice(
                "items past item_retention deleted",
                metadata: ["items": "\(items.items)", "stories": "\(items.stories)"])
        }
        let healthEvents = try await store.pruneHealthEvents(before: cutoff)
        if healthEvents > 0 {
            logger.info("health transitions past item_retention deleted", metadata: ["rows": "\(healthEvents)"])
        }
    }

    /// Delivers the outbox until nothing is pending or `deadline` passes, waiting for retries
    /// that fall due before it. Rows of webhooks no longer configured are parked (the worker
    /// logs them), not waited for.
    /// - Returns: how many rows of configured webhooks are still pending.
    public func deliver(until deadline: ContinuousClock.Instant) async throws -> Int {
        while true {
            _ = try await worker.deliverDue()
            guard let next = try await worker.nextDeliveryTime() else { return 0 }
            let wait = next.timeIntervalSinceNow
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, wait < Double(remaining.components.seconds) + 1 else {
                return try await worker.pendingRows().waiting
            }
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 5)) }
        }
    }
}

/// The polls of a cycle that could not be recorded, by reason, for one log line per reason.
private struct UnrecordedPolls {
    private var sourcesByReason: [(reason: String, sources: [String])] = []
    private var indexOfReason: [String: Int] = [:]

    mutating func add(source: String, reason: String) {
        if let index = indexOfReason[reason] {
            sourcesByReason[index].sources.append(source)
        } else {
            indexOfReason[reason] = sourcesByReason.count
            sourcesByReason.append((reason, [source]))
        }
    }

    /// One error line per reason, first seen first: how many polls, and which (up to five).
    func log(to logger: Logger) {
        for (reason, sources) in sourcesByReason {
            let named = sources.prefix(5).joined(separator: ", ")
            logger.error(
                sources.count == 1 ? "poll not recorded" : "\(sources.count) polls not recorded",
                metadata: [
                    "error": "\(reason)",
                    sources.count == 1 ? "source" : "sources":
                        "\(sources.count > 5 ? "\(named) and \(sources.count - 5) more" : named)",
                ])
        }
    }
}

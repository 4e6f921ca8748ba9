import Digest
public import Feeds
public import Fetching
public import Foundation
public import Logging
public import Store
import Synchronization

/// Polls one configured source: reads its stored fetch state, fetches with its validators,
/// updates its health and schedule, reads a new document, and hands it all to the ``Ingestor``,
/// which records the state, the transitions and the items in one transaction; logs one line for
/// what happened.
///
/// A retired source is skipped until its configured URL changes.
public struct SourcePoller: Sendable {
    private let fetcher: HTTPFetcher
    private let store: any EventStore
    private let ingestor: Ingestor
    private let settings: DaemonSettings
    private let logger: Logger
    /// New documents being read and ingested, up to their submission to the store.
    private let documents: AdmissionGate
    /// New documents up to their commit.
    private let uncommittedDocuments = AdmissionGate.uncommittedDocuments()
    /// The digest's day of a poll.
    private let days: DigestDays
    /// Where poll times' jitter comes from.
    private let jitter = JitterSource()

    /// Creates a poller.
    public init(
        fetcher: HTTPFetcher, store: any EventStore, ingestor: Ingestor, settings: DaemonSettings, logger: Logger
    ) {
        self.fetcher = fetcher
        self.store = store
        self.ingestor = ingestor
        self.settings = settings
        self.logger = logger
        documents = .documents(processors: ProcessInfo.processInfo.activeProcessorCount)
        days = DigestDays(timeZone: settings.timeZone)
    }

    /// What one poll came to.
    public struct Poll: Sendable {
        /// The fetch and what it meant for the source.
        public var result: SourceFetchState.PollResult
        /// The document's items, when it was new and could be read.
        public var feed: ParsedFeed?
        /// Every health transition this poll crossed, in order.
        public var transitions: [SourceHealth.Transition]
        /// What was recorded of the document's items.
        public var ingest: Ingestor.Summary
        /// When the source is due again, as saved with its state (nil once retired).
        public var nextDueAt: Date?
    }

    /// Polls `source` once: fetch, and read the document when it is new.
    ///
    /// - Returns: what the poll came to, or nil when the source is retired and was not polled.
    /// - Throws: `CancellationError` when cancelled; the store's errors when its state cannot be saved.
    public func poll(_ source: SourceSettings, now: Date = Date()) async throws -> Poll? {
        try await poll(source, stored: store.source(source.id), now: now)
    }

    /// ``poll(_:now:)`` with the source as stored already read (a cycle reads every source at
    /// once: one read rather than one per source).
    public func poll(_ source: SourceSettings, stored: StoredSource?, now: Date = Date()) async throws -> Poll? {
        var state = stored?.state.reconciled(withConfiguredURL: source.url) ?? SourceFetchState(url: source.url)
        guard !state.health.isRetired else { return nil }

        let outcome = try await fetcher.fetch(state.request(headers: source.headers))
        let policy = PollPolicy(
            interval: source.interval ?? settings.pollInterval, failureThreshold: settings.failureThreshold)
        var random = jitter.generator()
        let result = state.record(outcome, at: now, policy: policy, using: &random)
        var transitions = result.transition.map { [$0] } ?? []
        var feed: ParsedFeed?
        var unreadable: String?
        var documentProvenance: Provenance?
        // A new document is read and ingested with a place at the document gate, given back once
        // its record is submitted to the store, and counts against the uncommitted documents until
        // the record is committed.
        var reading: AdmissionGate.Place?
        var committing: AdmissionGate.Place?
        if case .parse(let body, _) = result.decision {
            committing = try await uncommittedDocuments.place(weight: body.count)
            reading = try await documents.place(weight: body.count)
        }
        defer {
            reading?.leave()
            committing?.leave()
        }
        if case .parse(let body, let provenance) = result.decision {
            documentProvenance = provenance
            do {
                let parsed = try await DocumentWork.run { [self] in try read(body, of: source, provenance: provenance) }
                feed = parsed
                transitions += state.recordParsed(itemCount: parsed.items.count, byRules: source.kind == .html)
                // Minutes, as the feed wrote them: bounded before they become seconds, so that a
                // <ttl> of 10^18 is a long hold (capped at hours), not an overflow that ends the daemon.
                if let ttl = parsed.ttlMinutes {
                    state.holdNextPoll(for: .seconds(min(ttl, Int(Int32.max)) * 60), policy: policy)
                }
                for warning in parsed.warnings.prefix(3) {
                    logger.notice(
                        "document read with a warning", metadata: ["source": "\(source.id)", "warning": "\(warning)"])
                }
            } catch {
                let reason = "reading \(provenance.finalURL.absoluteString) failed: \(error)"
                unreadable = reason
                if let transition = state.recordUnreadable(reason: reason, at: now, policy: policy, using: &random) {
                    transitions.append(transition)
                }
            }
        }
        let succeeded =
            switch result.decision {
            case .failed, .retired: false
            case .parse, .unchanged: state.lastError == nil
            }
        let ingest = try await ingestor.ingest(
            feed, of: source, state: state, transitions: transitions, provenance: documentProvenance,
            poll: PollOutcome(day: days.day(of: now), succeeded: succeeded), stored: stored, at: now,
            whenSubmitted: { [reading] in reading?.leave() })
        log(result, unreadable: unreadable, transitions: transitions, source: source, state: state, ingest: ingest)
        record(result, of: source, ingest: ingest)
        return Poll(
            result: result, feed: feed, transitions: transitions, ingest: ingest,
            nextDueAt: state.health.isRetired ? nil : state.nextDueAt)
    }

    /// Parses a fetched document as the source's kind says.
    private func read(_ body: Data, of source: SourceSettings, provenance: Provenance) throws -> ParsedFeed {
        let zone = source.timeZone ?? settings.timeZone
        var limits = FeedParser.Limits()
        limits.maxItems = settings.maxItemsPerFeed
        let dates = FeedDateParser(timeZone: zone, cstIsChina: zone.identifier == "Asia/Shanghai")
        if let rules = source.html {
            return try HTMLSourceParser(rules: rules.compiled(), dates: dates, limits: limits)
                .parse(body, pageURL: provenance.finalURL, charset: provenance.charset)
        }
        return try FeedParser(limits: limits, dates: dates)
            .parse(body, documentURL: provenance.finalURL, charset: provenance.charset)
    }

    /// Counts the poll for the `[metrics]` endpoint (no-ops unless it is enabled).
    private func record(_ result: SourceFetchState.PollResult, of source: SourceSettings, ingest: Ingestor.Summary) {
        let (outcome, provenance): (String, Provenance?) =
            switch result.decision {
            case .parse(_, let provenance): ("fetched", provenance)
            case .unchanged(let provenance): ("unchanged", provenance)
            case .failed(let error): ("failed", error.provenance)
            case .retired(let error): ("retired", error.provenance)
            }
        DaemonMetrics.fetched(
            source: source.id, outcome: outcome, status: provenance?.status, duration: provenance?.timings.total)
        DaemonMetrics.items(
            source: source.id, new: ingest.newItems, relevant: ingest.newRelevantItems,
            events: ingest.commit.eventIDs.count)
    }

    /// One line per poll (a 304's at debug level), then one per health transition.
    /// - Parameter unreadable: why the fetched document could not be read, when it could not.
    private func log(
        _ result: SourceFetchState.PollResult, unreadable: String?, transitions: [SourceHealth.Transition],
        source: SourceSettings, state: SourceFetchState, ingest: Ingestor.Summary
    ) {
        // The usual poll (a 304) is logged at debug level: nothing to build when that is off.
        if case .unchanged = result.decision, result.movedTo == nil, transitions.isEmpty, logger.logLevel > .debug {
            return
        }
        var metadata: Logger.Metadata = ["source": "\(source.id)"]
        switch result.decision {
        case .parse(let body, let provenance):
            metadata["status"] = "\(provenance.status)"
            metadata["bytes"] = "\(body.count)"
            if let unreadable {
                metadata["error"] = "\(unreadable)"
                metadata["failures"] = "\(state.health.consecutiveFailures)"
                logger.warning("document unreadable", metadata: metadata)
                break
            }
            if let count = state.lastItemCount { metadata["items"] = "\(count)" }
            metadata["new"] = "\(ingest.newItems)"
            if ingest.newRelevantItems > 0 { metadata["relevant"] = "\(ingest.newRelevantItems)" }
            if ingest.updatedItems > 0 { metadata["updated"] = "\(ingest.updatedItems)" }
            if ingest.baseline { metadata["baseline"] = "true" }
            logger.info("fetched", metadata: metadata)
        case .unchanged(let provenance):
            metadata["status"] = "\(provenance.status)"
            logger.debug("unchanged", metadata: metadata)
        case .failed(let error):
            metadata["error"] = "\(error)"
            metadata["failures"] = "\(state.health.consecutiveFailures)"
            logger.warning("fetch failed", metadata: metadata)
        case .retired(let error):
            metadata["error"] = "\(error)"
            logger.error(
                "source retired: the server says it is gone; change its url in the configuration to poll again",
                metadata: metadata)
        }
        if let movedTo = result.movedTo {
            logger.notice(
                "source moved permanently; polling the new URL from now on (update the configuration to match)",
                metadata: ["source": "\(source.id)", "url": "\(movedTo.absoluteString)"])
        }
        for transition in transitions {
            switch transition {
            case .down:
                logger.error(
                    "source down",
                    metadata: ["source": "\(source.id)", "failures": "\(state.health.consecutiveFailures)"])
            case .recovered: logger.notice("source recovered", metadata: ["source": "\(source.id)"])
            case .parseEmpty:
                logger.error(
                    "source parse_empty: \(state.health.state.reason ?? "the page gives no items")",
                    metadata: ["source": "\(source.id)"])
            case .retired: break
            }
        }
    }
}

/// The day an instant falls on in the daemon's zone (`time_zone`, which digests follow), as the
/// store logs polls by it. The current day's window is kept: a poll asks with a comparison, not
/// a calendar computation (a thousand polls a cycle).
final class DigestDays: Sendable {
    private let timeZone: TimeZone
    private let current: Mutex<DayWindow>

    /// Computes today's window at once: the first calendar of the process sets up ICU (~1 ms),
    /// which polls must not wait for one behind another.
    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        current = Mutex(DayWindow.containing(Date(), timeZone: timeZone))
    }

    /// `YYYY-MM-DD` of `instant`.
    func day(of instant: Date) -> String {
        current.withLock { window in
            if window.start <= instant, instant < window.end { return window.day }
            window = DayWindow.containing(instant, timeZone: timeZone)
            return window.day
        }
    }
}

/// The randomness that spreads poll times (±10%) and backoffs: SplitMix64 steps over one atomic
/// counter, seeded once from the system's generator. Jitter needs spread, not secrecy; the
/// system generator made a `getrandom` system call per number, a fifth of a 304 poll's own CPU.
final class JitterSource: Sendable {
    private let counter: Atomic<UInt64>

    init() {
        var system = SystemRandomNumberGenerator()
        counter = Atomic(system.next())
    }

    /// A generator drawing from this source; any number of them may draw at once.
    func generator() -> Generator { Generator(source: self) }

    struct Generator: RandomNumberGenerator {
        let source: JitterSource

        mutating func next() -> UInt64 {
            // SplitMix64: a Weyl sequence (the golden-ratio increment) through a 64-bit finalizer.
            var z = source.counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

public import Foundation

/// What the daemon remembers of one source between polls, and the rules that update it from a
/// ``FetchOutcome``: validators for conditional GET, the body hash that skips re-parsing, where
/// a permanent redirect moved the source, its ``SourceHealth`` and when it is next due.
///
/// A plain value: the store persists it, ``record(_:at:policy:using:)`` is pure and tested without I/O.
public struct SourceFetchState: Sendable, Equatable {
    /// The URL in the configuration when this state began.
    public var configuredURL: URL
    /// The URL polled now: the configured one, or where permanent redirects moved it.
    public var currentURL: URL
    /// The last `ETag` the server sent.
    public var etag: String?
    /// The last `Last-Modified` the server sent.
    public var lastModified: String?
    /// The SHA-256 of the last body parsed.
    public var bodySHA256: String?
    /// Health and failure streak.
    public var health: SourceHealth
    /// A permanent redirect seen on recent polls, not yet adopted.
    public var redirectTarget: URL?
    /// How many polls in a row saw ``redirectTarget``.
    public var redirectStreak: Int
    /// When the source is next due; nil for a retired source.
    public var nextDueAt: Date?
    /// When the last poll happened.
    public var lastAttemptAt: Date?
    /// When a poll last succeeded.
    public var lastSuccessAt: Date?
    /// The last poll's HTTP status, if the server answered.
    public var lastStatus: Int?
    /// The last poll's failure, if it failed.
    public var lastError: String?
    /// How many items the last document read gave.
    public var lastItemCount: Int?

    /// A source never polled.
    public init(url: URL) {
        configuredURL = url
        currentURL = url
        health = SourceHealth()
        redirectStreak = 0
    }

    /// Restores a stored state.
    public init(
        configuredURL: URL, currentURL: URL, etag: String?, lastModified: String?, bodySHA256: String?,
        health: SourceHealth, redirectTarget: URL?, redirectStreak: Int, nextDueAt: Date?, lastAttemptAt: Date?,
        lastSuccessAt: Date?, lastStatus: Int?, lastError: String?, lastItemCount: Int? = nil
    ) {
        self.configuredURL = configuredURL
        self.currentURL = currentURL
        self.etag = etag
        self.lastModified = lastModified
        self.bodySHA256 = bodySHA256
        self.health = health
        self.redirectTarget = redirectTarget
        self.redirectStreak = redirectStreak
        self.nextDueAt = nextDueAt
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.lastItemCount = lastItemCount
    }

    /// The state to poll with under the configured `url`: this one, or a fresh one when the
    /// configuration now names another URL (which also brings a retired source back).
    public func reconciled(withConfiguredURL url: URL) -> SourceFetchState {
        url == configuredURL ? self : SourceFetchState(url: url)
    }

    /// The request for the next poll, with the stored validators.
    public func request(headers: [String: String]) -> FetchRequest {
        FetchRequest(url: currentURL, headers: headers, etag: etag, lastModified: lastModified)
    }

    /// What a poll came to.
    public struct PollResult: Sendable, Equatable {
        /// What to do with the poll's document.
        public enum Decision: Sendable, Equatable {
            /// A new or changed document: parse it, then complete the poll with `recordParsed(itemCount:)`
            /// or `recordUnreadable(reason:at:policy:using:)`.
            case parse(body: Data, provenance: Provenance)
            /// 304, or a body byte-identical to the last one parsed: nothing to parse.
            case unchanged(provenance: Provenance)
            /// No document this time; the source's health has counted it (or a Retry-After deferred it).
            case failed(FetchError)
            /// 410 Gone: the source is retired.
            case retired(FetchError)
        }

        /// What to do with the document.
        public var decision: Decision
        /// The health transition to announce, if this poll crossed one.
        public var transition: SourceHealth.Transition?
        /// The URL the source moved to for good on this poll (after 3 polls saw the same permanent redirect).
        public var movedTo: URL?
    }

    /// Updates the state with a poll's outcome and says what to do next.
    ///
    /// - Parameters:
    ///   - outcome: what the fetcher returned for ``request(headers:)``.
    ///   - now: when the poll happened.
    ///   - policy: the source's interval and the daemon's limits.
    ///   - random: the jitter's source; a seeded one in tests.
    public mutating func record(
        _ outcome: FetchOutcome, at now: Date, policy: PollPolicy, using random: inout some RandomNumberGenerator
    ) -> PollResult {
        lastAttemptAt = now
        lastStatus = outcome.provenance?.status
        switch outcome {
        case .fetched(let body, let provenance):
            let movedTo = recordFetch(provenance, at: now, policy: policy, using: &random)
            guard provenance.sha256 != bodySHA256 else {
                return PollResult(
                    decision: .unchanged(provenance: provenance), transition: health.recordSuccess(), movedTo: movedTo)
            }
            // The poll succeeds once its document has been read: see recordParsed and recordUnreadable.
            bodySHA256 = provenance.sha256
            return PollResult(decision: .parse(body: body, provenance: provenance), transition: nil, movedTo: movedTo)
        case .notModified(let provenance):
            let movedTo = recordFetch(provenance, at: now, policy: policy, using: &random)
            return PollResult(
                decision: .unchanged(provenance: provenance), transition: health.recordSuccess(), movedTo: movedTo)
        case .failed(let error):
            lastError = error.description
            if error.status == 410 {
                nextDueAt = nil
                return PollResult(decision: .retired(error), transition: health.recordGone(reason: error.description))
            }
            if let status = error.status, status == 429 || status == 503, let retryAfter = error.provenance?.retryAfter
            {
                // The server asked for a pause: honour it (within bounds) without counting a failure.
                let delay = min(max(retryAfter.timeIntervalSince(now), 0), policy.maxRetryAfter.seconds)
                nextDueAt = now.addingTimeInterval(max(delay, policy.interval.seconds))
                return PollResult(decision: .failed(error), transition: nil)
            }
            let transition = recordFailure(reason: error.description, at: now, policy: policy, using: &random)
            return PollResult(decision: .failed(error), transition: transition)
        }
    }

    /// Holds the next poll back to `minimum` after the last attempt when the document asked for
    /// that (RSS `<ttl>`), up to the policy's longest back-off; a nearer schedule moves, a later
    /// one stays.
    public mutating func holdNextPoll(for minimum: Duration, policy: PollPolicy) {
        guard let attempt = lastAttemptAt else { return }
        let seconds = min(minimum.seconds, max(policy.maxBackoff.seconds, policy.interval.seconds))
        let earliest = attempt.addingTimeInterval(seconds)
        if let due = nextDueAt, due < earliest { nextDueAt = earliest }
    }

    /// Completes a poll whose decision was `.parse`: the document was read and gave `itemCount`
    /// items. The poll counts as a success (`source.recovered` after failures), and a page that gave
    /// items and now gives none, or an HTML page (`byRules`) whose rules have never found any,
    /// raises `source.parse_empty`, once, until items come back.
    public mutating func recordParsed(itemCount: Int, byRules: Bool = false) -> [SourceHealth.Transition] {
        defer { lastItemCount = itemCount }
        return [
            health.recordSuccess(), health.recordItems(itemCount, previousCount: lastItemCount, byRules: byRules),
        ].compactMap { $0 }
    }

    /// Completes a poll whose decision was `.parse` but whose document could not be read (not a
    /// feed, a rule that fails): a failure like a fetch failure, and the body is forgotten so that
    /// the same bytes are read again next time.
    public mutating func recordUnreadable(
        reason: String, at now: Date, policy: PollPolicy, using random: inout some RandomNumberGenerator
    ) -> SourceHealth.Transition? {
        bodySHA256 = nil
        lastError = reason
        return recordFailure(reason: reason, at: now, policy: policy, using: &random)
    }

    /// Counts a failure and backs the next poll off exponentially, with jitter, up to 6 h.
    private mutating func recordFailure(
        reason: String, at now: Date, policy: PollPolicy, using random: inout some RandomNumberGenerator
    ) -> SourceHealth.Transition? {
        let transition = health.recordFailure(reason: reason, threshold: policy.failureThreshold)
        let backoff = min(
            policy.interval.seconds * pow(2, Double(max(health.consecutiveFailures, 1) - 1)),
            max(policy.maxBackoff.seconds, policy.interval.seconds))
        nextDueAt = now.addingTimeInterval(policy.jittered(backoff, using: &random))
        return transition
    }

    /// What every answered poll records: validators, schedule, and permanent redirects.
    private mutating func recordFetch(
        _ provenance: Provenance, at now: Date, policy: PollPolicy, using random: inout some RandomNumberGenerator
    ) -> URL? {
        // Validators are kept whenever the server sends them, even with a byte-identical body.
        if let etag = provenance.etag { self.etag = etag }
        if let lastModified = provenance.lastModified { self.lastModified = lastModified }
        lastSuccessAt = now
        lastError = nil
        // A server that says its document stays fresh longer than the interval is asked less
        // often (Cache-Control: max-age), up to the longest back-off.
        var delay = policy.interval.seconds
        if let maxAge = provenance.maxAge, maxAge > delay { delay = min(maxAge, max(policy.maxBackoff.seconds, delay)) }
        nextDueAt = now.addingTimeInterval(policy.jittered(delay, using: &random))
        return followPermanentRedirect(provenance.hops, policy: policy)
    }

    /// Counts polls that began with the same permanent redirect (301/308); adopts its target after
    /// `policy.permanentRedirectPolls` of them. Temporary redirects (302/303/307) change nothing.
    private mutating func followPermanentRedirect(_ hops: [Provenance.Hop], policy: PollPolicy) -> URL? {
        let permanent = hops.prefix { $0.status == 301 || $0.status == 308 }.count
        guard permanent > 0, permanent < hops.count else {
            redirectTarget = nil
            redirectStreak = 0
            return nil
        }
        let target = hops[permanent].url
        redirectStreak = target == redirectTarget ? redirectStreak + 1 : 1
        redirectTarget = target
        guard redirectStreak >= policy.permanentRedirectPolls else { return nil }
        currentURL = target
        redirectTarget = nil
        redirectStreak = 0
        return target
    }
}

/// How often a source is polled and how a poll backs off.
public struct PollPolicy: Sendable, Equatable {
    /// The source's interval (its own, or the daemon's `poll_interval`).
    public var interval: Duration
    /// Consecutive failures before `source.down` (`failure_threshold`).
    public var failureThreshold: Int
    /// The longest back-off while failing (6 h), unless the interval itself is longer.
    public var maxBackoff: Duration = .seconds(6 * 3600)
    /// The longest pause a `Retry-After` can impose (24 h).
    public var maxRetryAfter: Duration = .seconds(24 * 3600)
    /// Polls in a row that must see the same permanent redirect before the source moves (3).
    public var permanentRedirectPolls = 3
    /// The share of random spread around each delay (±10 %), so that sources do not poll in lockstep.
    public var jitter = 0.1

    /// Creates a policy.
    public init(interval: Duration, failureThreshold: Int) {
        self.interval = interval
        self.failureThreshold = failureThreshold
    }

    /// The furthest a poll can put the next one: the longest of the interval, the back-off cap
    /// and the `Retry-After` cap, with jitter. A next due time further away than this was not
    /// set by this policy on this clock: the clock has been set back since.
    public var longestDelay: Duration {
        max(interval, maxBackoff, maxRetryAfter) * (1 + jitter)
    }

    func jittered(_ seconds: Double, using random: inout some RandomNumberGenerator) -> Double {
        guard jitter > 0 else { return seconds }
        return seconds * Double.random(in: (1 - jitter)...(1 + jitter), using: &random)
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

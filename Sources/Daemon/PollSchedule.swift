internal import Fetching
import Foundation
internal import Store

/// Which of the daemon's sources are due, and when the next one is.
///
/// The store keeps each source's next due time, saved with its poll. A poll that could not be
/// recorded (a full disk, a damaged file) left the store's time as it was, in the past: by it
/// alone the source would be fetched again at every wake-up, a minute apart, for as long as the
/// store fails. Such a source is held here until one interval after the unrecorded poll, as if
/// the poll had been saved.
struct PollSchedule {
    /// Sources whose last poll was not recorded, and when they may be polled again.
    private var held: [String: Date] = [:]

    /// The sources due at `now` by `stored` (a source never stored is due) and by the holds,
    /// and the earliest time one of the others is due (retired sources are never due).
    ///
    /// A stored time further away than any poll can set (``PollPolicy/longestDelay``, for the
    /// source's interval, else `defaultInterval`) was saved before the clock was set back, by
    /// NTP or by hand: the source is due now rather than days or years from now.
    mutating func due(
        _ sources: [SourceSettings], stored: [String: StoredSource], defaultInterval: Duration, now: Date
    ) -> (due: [SourceSettings], nextDue: Date?) {
        held = held.filter { $0.value > now }
        var nextDue: Date?
        let due = sources.filter { source in
            if let until = held[source.id] {
                nextDue = min(nextDue ?? until, until)
                return false
            }
            guard let state = stored[source.id]?.state.reconciled(withConfiguredURL: source.url) else { return true }
            if state.health.isRetired { return false }
            guard let at = state.nextDueAt, at > now else { return true }
            let longest = PollPolicy(interval: source.interval ?? defaultInterval, failureThreshold: 1).longestDelay
            guard at.timeIntervalSince(now) <= Double(longest.components.seconds) else { return true }
            nextDue = min(nextDue ?? at, at)
            return false
        }
        return (due, nextDue)
    }

    /// Holds the sources whose poll at `now` was not recorded for one interval (their own, else
    /// `defaultInterval`), and returns the earliest end of those holds.
    mutating func hold(
        _ ids: [String], of sources: [SourceSettings], defaultInterval: Duration, now: Date
    ) -> Date? {
        guard !ids.isEmpty else { return nil }
        let intervals = Dictionary(sources.map { ($0.id, $0.interval ?? defaultInterval) }) { first, _ in first }
        var earliest: Date?
        for id in ids {
            let interval = intervals[id] ?? defaultInterval
            let until = now.addingTimeInterval(Double(interval.components.seconds))
            held[id] = until
            earliest = min(earliest ?? until, until)
        }
        return earliest
    }
}

/// The sources as stored, as the scheduler reads them on each pass: all of them at most a minute
/// old (and read again when the configured sources change), and the ones a pass polled read again
/// after it, since its own writes are the only ones that change them in between.
///
/// A pass starts whenever a source falls due, as often as every 0.2 s while a thousand sources
/// fall due over a few minutes, and reading them all cost ~6 ms a pass. What another process
/// changes (`exportwatch sources revive`) is seen within the minute, as the scheduler's naps of
/// at most a minute already allowed.
struct StoredSources {
    private let store: any EventStore
    private var sources: [String: StoredSource] = [:]
    /// The configured sources of the last full read, and when it was.
    private var readFor: [SourceSettings] = []
    private var readAt: ContinuousClock.Instant?

    /// How old the full read may be.
    static let fullReadInterval: Duration = .seconds(60)

    init(store: any EventStore) {
        self.store = store
    }

    /// The stored sources of `configured`, read whole when the last full read is older than
    /// ``fullReadInterval`` or was for other configured sources.
    mutating func read(_ configured: [SourceSettings]) async throws -> [String: StoredSource] {
        if let readAt, ContinuousClock.now - readAt < Self.fullReadInterval, configured == readFor { return sources }
        sources = try await store.sources(reusing: configured.map(\.url))
        (readFor, readAt) = (configured, .now)
        return sources
    }

    /// Reads `polled` again, as their polls left them.
    mutating func refresh(_ polled: [SourceSettings]) async throws {
        sources.merge(try await store.sources(polled.map(\.id), reusing: polled.map(\.url))) { $1 }
    }

    /// Reads all of them at the next pass (after a failure that may have left some unread).
    mutating func forget() {
        readAt = nil
    }
}

public import Fetching
public import Foundation
public import Logging
public import Store

/// Polls one configured source: reads its stored fetch state, fetches with its validators,
/// updates its health and schedule, and saves the state with any health transition, logging
/// one line for what happened.
///
/// A retired source is skipped until its configured URL changes.
public struct SourcePoller: Sendable {
    private let fetcher: HTTPFetcher
    private let store: any EventStore
    private let settings: DaemonSettings
    private let logger: Logger

    /// Creates a poller.
    public init(fetcher: HTTPFetcher, store: any EventStore, settings: DaemonSettings, logger: Logger) {
        self.fetcher = fetcher
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    /// Polls `source` once.
    ///
    /// - Returns: what the poll came to, or nil when the source is retired and was not polled.
    /// - Throws: `CancellationError` when cancelled; the store's errors when its state cannot be saved.
    public func poll(_ source: SourceSettings, now: Date = Date()) async throws -> SourceFetchState.PollResult? {
        let stored = try await store.fetchState(ofSource: source.id)
        var state = stored?.reconciled(withConfiguredURL: source.url) ?? SourceFetchState(url: source.url)
        guard !state.health.isRetired else { return nil }

        let outcome = try await fetcher.fetch(state.request(headers: source.headers))
        let policy = PollPolicy(
            interval: source.interval ?? settings.pollInterval, failureThreshold: settings.failureThreshold)
        var random = SystemRandomNumberGenerator()
        let result = state.record(outcome, at: now, policy: policy, using: &random)
        try await store.saveFetchState(
            state, ofSource: source.id, kind: source.kind.rawValue, transition: result.transition, at: now)
        log(result, source: source, state: state)
        return result
    }

    private func log(_ result: SourceFetchState.PollResult, source: SourceSettings, state: SourceFetchState) {
        var metadata: Logger.Metadata = ["source": "\(source.id)"]
        switch result.decision {
        case .parse(let body, let provenance):
            metadata["status"] = "\(provenance.status)"
            metadata["bytes"] = "\(body.count)"
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
        switch result.transition {
        case .down:
            logger.error(
                "source down", metadata: ["source": "\(source.id)", "failures": "\(state.health.consecutiveFailures)"])
        case .recovered: logger.notice("source recovered", metadata: ["source": "\(source.id)"])
        case .retired, nil: break
        }
    }
}

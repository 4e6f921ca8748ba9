internal import Delivery
internal import Digest
internal import Fetching
import Foundation
public import Logging
internal import ServiceLifecycle
internal import Store
internal import UnixSignals

/// `exportwatch run`: the poller, the delivery worker and the digest scheduler as one
/// `ServiceGroup`, speaking systemd's notification protocol.
///
/// SIGTERM and SIGINT shut down gracefully: no new poll starts, a poll in flight is cancelled
/// (its transaction is written whole or not at all, and the source is polled again next time),
/// a delivery in flight stays pending. SIGHUP re-reads the configuration: a valid one replaces
/// the sources, webhooks and topics without stopping; an invalid one is logged, error by error,
/// and the old one kept.
public final class ExportwatchDaemon: Sendable {
    private let parts: DaemonParts
    private let state: State
    private let notifier: SystemdNotifier
    private let watchdog: WatchdogPings
    private let configurationPath: String
    private let logger: Logger

    /// What can change on reload.
    actor State {
        var sources: [SourceSettings]
        var configuration: Configuration
        /// When the poller last finished a poll or a cycle (or started), for `/healthz`.
        var lastProgress = Date()
        /// What went wrong in the last cycle that polled (or failed as a whole), for `/healthz`:
        /// polls the store could not record (a full disk, a damaged file), or the cycle itself.
        /// Kept through the wake-ups that poll nothing, until a cycle records all its polls.
        private(set) var cycleProblem: String?

        /// The poller finished a poll or a cycle: it is alive, however long its cycle takes.
        func progressed() { lastProgress = Date() }

        /// Notes how the last cycle that polled went: nil when it recorded every poll.
        func cycleChecked(problem: String?) { cycleProblem = problem }

        /// Nil when healthy: the poller finished a poll or a cycle in the last 10 minutes (it wakes
        /// every minute, and every poll ends within its timeouts) and the store recorded its last
        /// cycle. Else why not, for `/healthz` to answer 503 with.
        func unhealthy(at now: Date = Date()) -> String? {
            if now.timeIntervalSince(lastProgress) >= 600 { return "the poller has made no progress in 10 minutes" }
            return cycleProblem
        }
        private var wakeUp: CheckedContinuation<Void, Never>?

        init(_ configuration: Configuration) {
            self.configuration = configuration
            sources = configuration.sources
        }

        func replace(with configuration: Configuration) {
            self.configuration = configuration
            sources = configuration.sources
            wake()
        }

        /// Sleeps for `duration`, or until ``wake()``.
        func nap(_ duration: Duration) async {
            let timer = Task { [weak self] in
                try? await Task.sleep(for: duration)
                await self?.wake()
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { wakeUp = $0 }
            } onCancel: {
                Task { await self.wake() }
            }
            timer.cancel()
        }

        func wake() {
            wakeUp?.resume()
            wakeUp = nil
        }
    }

    /// Builds the daemon from its parts, opened by
    /// ``DaemonParts/open(configuration:configurationPath:logger:retryPolicy:)`` (the caller then
    /// runs it, which sends READY).
    public init(parts: DaemonParts, configurationPath: String, logger: Logger) {
        self.parts = parts
        state = State(parts.configuration)
        notifier = SystemdNotifier()
        watchdog = WatchdogPings(notifier: notifier)
        self.configurationPath = configurationPath
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT.
    ///
    /// READY=1 goes out only once every signal the daemon answers is trapped: SIGHUP here, before
    /// the service group starts, and SIGTERM and SIGINT by the group before it starts its services,
    /// the poller among them, which sends READY. Until a signal is trapped its default action
    /// ends the process, and systemd counts an end by SIGHUP as clean: a `systemctl reload` just
    /// after the start would have stopped the service for good.
    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        logger.notice(
            "exportwatch running",
            metadata: [
                "sources": "\(parts.configuration.sources.count)", "webhooks": "\(parts.configuration.webhooks.count)",
                "state_dir": "\(parts.configuration.daemon.stateDirectory.path)",
            ])
        for warning in parts.configuration.warnings { logger.warning("\(warning)") }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: PollerService(daemon: self)), .init(service: DeliveryService(daemon: self)),
            .init(service: DigestService(daemon: self)), .init(service: ReloadService(daemon: self, hangups: hangups)),
        ]
        if let address = parts.configuration.metrics.listen {
            let state = self.state
            services.append(
                .init(
                    service: MetricsEndpoint.ServiceRunner(
                        address: address, registry: MetricsEndpoint.bootstrap(),
                        unhealthy: { await state.unhealthy() }, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.notice("exportwatch stopped")
    }

    // MARK: The services

    /// Sends READY (the service group has trapped SIGTERM and SIGINT before starting it), polls
    /// due sources, tells systemd how it went, and pings the watchdog from its loop, so a stuck
    /// scheduler is restarted.
    struct PollerService: Service {
        let daemon: ExportwatchDaemon

        func run() async throws {
            daemon.notifier.notify("READY=1\nSTATUS=starting: \(daemon.parts.configuration.sources.count) sources")
            await cancelWhenGracefulShutdown {
                await daemon.pollForever()
            }
            daemon.notifier.notify("STOPPING=1\nSTATUS=stopping")
        }
    }

    struct DeliveryService: Service {
        let daemon: ExportwatchDaemon

        func run() async throws {
            await cancelWhenGracefulShutdown {
                await daemon.deliverForever()
            }
        }
    }

    struct DigestService: Service {
        let daemon: ExportwatchDaemon

        func run() async throws {
            await cancelWhenGracefulShutdown {
                await daemon.buildDigestsForever()
            }
        }
    }

    struct ReloadService: Service {
        let daemon: ExportwatchDaemon
        /// SIGHUP, trapped before READY.
        let hangups: UnixSignalsSequence

        func run() async throws {
            await cancelWhenGracefulShutdown {
                for await _ in hangups { await daemon.reload() }
            }
        }
    }

    /// What `/healthz` says of a cycle that did not record everything; nil when it did.
    static func problem(of report: CycleReport) -> String? {
        if let reason = report.notRecordedReason {
            return "\(report.notRecorded.count) of the last cycle's \(report.polled) polls were not recorded: \(reason)"
        }
        return report.alertsFeedFailure.map { "the last cycle could not write alerts.atom: \($0)" }
    }

    // MARK: Loops

    private func pollForever() async {
        var schedule = PollSchedule()
        var known = StoredSources(store: parts.store)
        while !Task.isCancelled {
            let sources = await state.sources
            var nextDue: Date?
            do {
                let stored = try await known.read(sources)
                let now = Date()
                let defaultInterval = parts.configuration.daemon.pollInterval
                let due: [SourceSettings]
                (due, nextDue) = schedule.due(sources, stored: stored, defaultInterval: defaultInterval, now: now)
                if !due.isEmpty {
                    let report = try await parts.poll(
                        due, stored: stored,
                        afterEachPoll: { [watchdog, state] in
                            watchdog.progress()
                            await state.progressed()
                        })
                    // The polled sources as their polls left them; failing that, all at the next pass.
                    do {
                        try await known.refresh(due)
                    } catch is CancellationError {
                        return
                    } catch {
                        known.forget()
                    }
                    let held = schedule.hold(report.notRecorded, of: due, defaultInterval: defaultInterval, now: now)
                    await state.cycleChecked(problem: Self.problem(of: report))
                    // The sources not polled keep the times read above; the polled ones report theirs.
                    let next = [nextDue, report.earliestNextDue, held].compactMap { $0 }.filter { $0 > Date() }.min()
                    nextDue = next
                    var status = "\(sources.count) sources, \(report.newRelevantItems) new relevant items"
                    if !report.failed.isEmpty { status += ", \(report.failed.count) failed" }
                    if let next {
                        status += ", next poll \(Self.clockTime(next, in: parts.configuration.daemon.timeZone))"
                    }
                    notifier.notify("STATUS=\(status)")
                    parts.worker.wakeIfRunning()
                }
            } catch is CancellationError {
                return
            } catch {
                known.forget()
                logger.error("poll cycle failed; trying again in a minute", metadata: ["error": "\(error)"])
                await state.cycleChecked(problem: "the last poll cycle failed: \(error)")
                nextDue = Date().addingTimeInterval(60)
            }
            // Wake for the next due source, at least every minute (and twice per watchdog interval).
            var wait = Duration.seconds(60)
            if let nextDue {
                let seconds = max(0.2, nextDue.timeIntervalSinceNow)
                wait = min(wait, .milliseconds(Int64(seconds * 1000)))
            }
            if let watchdog = notifier.watchdogInterval { wait = min(wait, watchdog) }
            // From this loop, after the cycle: a scheduler stuck in a cycle stops the pings and is restarted.
            watchdog.ping()
            await state.progressed()
            if MetricsEndpoint.isServing, let rows = try? await parts.worker.pendingRows() {
                DaemonMetrics.outbox(pending: rows.waiting, parked: rows.parked.values.reduce(0, +))
            }
            await state.nap(wait)
        }
    }

    /// Runs the delivery worker. A pass that fails (the store unreadable, locked or full) is logged
    /// and the worker starts again a minute later; the outbox keeps every pending event meanwhile.
    /// (A service that ends, by returning or throwing, ends the whole ServiceGroup: polling too.)
    private func deliverForever() async {
        while !Task.isCancelled {
            do {
                try await parts.worker.run { pass in
                    DaemonMetrics.deliveries(sent: pass.sent, retried: pass.retried, dead: pass.dead)
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("delivery failed; trying again in a minute", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }

    /// `14:05` in the daemon's zone.
    static func clockTime(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    private func buildDigestsForever() async {
        while !Task.isCancelled {
            do {
                // Once per pass of this loop (at least hourly): the outbox and the items stay bounded.
                do {
                    try await parts.pruneExpired(await state.configuration.daemon)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error(
                        "pruning expired rows failed; trying again within the hour", metadata: ["error": "\(error)"])
                }
                for built in try await parts.digests.buildDue() {
                    logger.notice(
                        "digest built", metadata: ["day": "\(built.day)", "stories": "\(built.stories)"])
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("digest build failed; trying again in 10 minutes", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(600))
                continue
            }
            let configuration = await state.configuration
            let schedule = DigestSchedule(
                hour: configuration.digest.hour, minute: configuration.digest.minute,
                timeZone: configuration.daemon.timeZone)
            let next = schedule.nextBuildTime(after: Date())
            // Re-checked at least hourly: a clock or zone change cannot make it miss a day.
            let seconds = min(3600, max(1, next.timeIntervalSinceNow + 1))
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        }
    }

    private func reload() async {
        notifier.notifyReloading()
        let loader = ConfigurationLoader()
        do {
            let configuration = try loader.load(path: configurationPath)
            let topics = try loader.topics(for: configuration, configurationPath: configurationPath)
            let old = await state.configuration
            if configuration.daemon != old.daemon || configuration.digest != old.digest
                || configuration.metrics != old.metrics
            {
                logger.warning(
                    "[daemon], [digest] and [metrics] changes take effect on restart; sources, webhooks and topics are reloaded"
                )
            }
            await parts.ingestor.update(webhooks: configuration.webhooks.map(\.webhook))
            await parts.ingestor.update(topics: topics)
            await parts.worker.update(configuration.webhooks.map(\.webhook))
            await state.replace(with: configuration)
            logger.notice(
                "configuration reloaded",
                metadata: ["sources": "\(configuration.sources.count)", "webhooks": "\(configuration.webhooks.count)"])
            for warning in configuration.warnings { logger.warning("\(warning)") }
        } catch {
            for issue in error.issues {
                logger.error("reload refused, the running configuration is kept: \(issue)")
            }
        }
        notifier.notify("READY=1")
    }
}

import ArgumentParser
import CMalloc
import Daemon
import Digest
import Foundation
import Logging
import Store

/// `exportwatch run`: the daemon, or with `--once` one cycle for cron and tests.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: poll, classify, deduplicate, store, deliver webhooks, build digests.",
        discussion: """
            Without --once it runs until SIGTERM or SIGINT (exit 0), reloads sources, webhooks and topics on
            SIGHUP, and speaks systemd's notification protocol when $NOTIFY_SOCKET is set.
            --once: poll every source once, build the digests that are due, then deliver until nothing is
            pending or --deliver-timeout has passed (a retry due before then is waited for). Exit 0, or 1
            when a source failed or an event is still pending.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Flag(help: "One cycle, then exit (for cron and tests).")
    var once = false
    @Option(help: "With --once: how long to keep delivering, in seconds.")
    var deliverTimeout: Int = 30

    func validate() throws {
        guard deliverTimeout >= 0 else { throw ValidationError("--deliver-timeout: expected seconds >= 0") }
    }

    func run() async throws {
        // glibc gives threads that allocate at once arenas of their own (up to eight per core), and
        // memory freed in one is not reused by another. Two per core kept a cold start's peak at
        // what two in all did (87-91 MB for 1,005 feeds, before the mmap threshold below; glibc's
        // default: 91-97), and a warm cycle ~5-10 ms faster than two in all, whose threads waited
        // on each other's arena locks (Benchmarks/daemon.sh, on 2 cores).
        _ = ew_limit_malloc_arenas(Int32(clamping: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)))
        // Documents of a megabyte and more (their bodies, grown as they arrive, and their text)
        // get mappings of their own, unmapped when freed, rather than arena space that a burst of
        // them leaves scattered with holes: a cold start's peak was 83-85 MB in six runs, against
        // 88-93 with glibc's moving threshold, in the same time (Benchmarks/daemon.sh, 1,005
        // feeds, alternated). A threshold of 256 kB went lower still but cost a warm cycle ~3 ms.
        _ = ew_set_malloc_mmap_threshold(1 << 20)
        let (path, configuration) = try options.load()
        // One run per state folder, until this process ends.
        let lock = try StateLock(stateDirectory: configuration.daemon.stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        let logger = Logger(label: "exportwatch")
        let parts = try await DaemonParts.open(configuration: configuration, configurationPath: path, logger: logger)
        guard once else {
            try await ExportwatchDaemon(parts: parts, configurationPath: path, logger: logger).run()
            return
        }
        for warning in configuration.warnings { logger.warning("\(warning)") }
        let report = try await parts.poll(configuration.sources)
        do {
            try await parts.pruneExpired(configuration.daemon)
        } catch {
            // Nothing is lost: the rows stay until a later run prunes them.
            logger.warning("pruning expired rows failed", metadata: ["error": "\(error)"])
        }
        // The cycle's writes reach the database file while digests and deliveries run, rather
        // than when the store closes at exit (a warm cycle of a thousand sources: ~5 ms).
        async let checkpointed: Void = parts.store.checkpoint()
        let built = try await parts.digests.buildDue()
        let pending = try await parts.deliver(until: .now + .seconds(deliverTimeout))
        do {
            try await checkpointed
        } catch {
            // Nothing is lost: the log keeps the writes, and the next open or close copies them.
            logger.warning("checkpoint of the state database failed", metadata: ["error": "\(error)"])
        }
        var summary = "\(report.polled) sources polled, \(report.failed.count) failed, \(report.newItems) new items "
        summary += "(\(report.newRelevantItems) relevant), \(report.events) events"
        if !built.isEmpty { summary += ", digests built for \(built.map(\.day).joined(separator: ", "))" }
        if pending > 0 { summary += ", \(pending) deliveries still pending" }
        logger.notice("cycle done: \(summary)")
        if !report.failed.isEmpty || report.alertsFeedFailure != nil || pending > 0 { throw ExitCode(1) }
    }
}

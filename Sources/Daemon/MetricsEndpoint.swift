import Foundation
internal import Logging
internal import Metrics
internal import Prometheus
internal import ServiceLifecycle
import Synchronization

/// The optional `[metrics]` endpoint: `/metrics` in Prometheus text (fetches per source and
/// outcome, fetch durations, new and relevant items, events, outbox depth, delivery attempts) and
/// `/healthz`, served by ``EndpointServer``.
///
/// The counters are swift-metrics values, so any module can add its own; the registry behind
/// them is bootstrapped once per process, by `exportwatch run` when `listen` is set.
enum MetricsEndpoint {
    /// The process's registry, set by ``bootstrap()``.
    nonisolated(unsafe) private static var registry: PrometheusCollectorRegistry?

    /// Installs the Prometheus factory as the process's metrics backend; later calls do nothing.
    static func bootstrap() -> PrometheusCollectorRegistry {
        if let registry { return registry }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        self.registry = registry
        serving.store(true, ordering: .releasing)
        return registry
    }

    /// Whether ``bootstrap()`` has run. Without the endpoint no metric value is made at all:
    /// making swift-metrics' no-op counters for every poll had cost a warm cycle of a thousand
    /// sources ~0.5 ms.
    static var isServing: Bool { serving.load(ordering: .acquiring) }
    private static let serving = Atomic(false)

    /// Serves the endpoint until graceful shutdown. An address it cannot listen on (taken, or not
    /// this machine's) is logged and tried again every minute; the rest of the daemon runs on, so
    /// an unserved `/healthz` is what tells monitoring. Port 0 takes a free port; the address
    /// served is logged either way.
    struct ServiceRunner: Service {
        let address: MetricsSettings.Address
        let registry: PrometheusCollectorRegistry
        /// Nil when healthy, else why not.
        let unhealthy: @Sendable () async -> String?
        let logger: Logger

        func run() async throws {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                do {
                    try await cancelWhenGracefulShutdown { try await serve() }
                    return
                } catch  where Task.isShuttingDownGracefully || Task.isCancelled {
                    // Stopping the server on shutdown ends its run with an error; that is the stop, not a failure.
                    return
                } catch {
                    logger.error(
                        "metrics endpoint cannot listen; trying again in a minute",
                        metadata: ["listen": "\(address.host):\(address.port)", "error": "\(error)"])
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
                }
            }
        }

        /// Runs one server until it stops; logs its address once it listens.
        private func serve() async throws {
            let (registry, unhealthy, logger) = (self.registry, self.unhealthy, self.logger)
            let server = EndpointServer { request in
                switch request.path {
                case "/metrics":
                    var buffer: [UInt8] = []
                    registry.emit(into: &buffer)
                    return .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: buffer)
                case "/healthz":
                    if let reason = await unhealthy() { return .init(status: 503, text: reason + "\n") }
                    return .init(status: 200, text: "ok\n")
                default:
                    return .init(status: 404, text: "not found: /metrics and /healthz are served\n")
                }
            }
            try await server.run(host: address.host, port: address.port) { url in
                logger.notice("metrics endpoint listening", metadata: ["url": "\(url)/metrics"])
            }
        }
    }
}

/// The daemon's metrics, named once.
enum DaemonMetrics {
    static func fetched(source: String, outcome: String, status: Int?, duration: Duration?) {
        guard MetricsEndpoint.isServing else { return }
        Counter(
            label: "exportwatch_fetches_total",
            dimensions: [("source", source), ("outcome", outcome), ("status", status.map(String.init) ?? "none")]
        ).increment()
        if let duration {
            Timer(label: "exportwatch_fetch_duration_seconds", dimensions: [("source", source)]).record(
                duration: duration)
        }
    }

    static func items(source: String, new: Int, relevant: Int, events: Int) {
        guard MetricsEndpoint.isServing else { return }
        if new > 0 {
            Counter(label: "exportwatch_items_new_total", dimensions: [("source", source)]).increment(by: new)
        }
        if relevant > 0 {
            Counter(label: "exportwatch_items_relevant_total", dimensions: [("source", source)]).increment(by: relevant)
        }
        if events > 0 {
            Counter(label: "exportwatch_events_total", dimensions: [("source", source)]).increment(by: events)
        }
    }

    /// Rows waiting for configured webhooks, and rows parked for webhooks taken out of the
    /// configuration (which an alert on a growing outbox should not count).
    static func outbox(pending: Int, parked: Int) {
        guard MetricsEndpoint.isServing else { return }
        Gauge(label: "exportwatch_outbox_pending").record(pending)
        Gauge(label: "exportwatch_outbox_parked").record(parked)
    }

    static func deliveries(sent: Int, retried: Int, dead: Int) {
        guard MetricsEndpoint.isServing else { return }
        for (result, count) in [("sent", sent), ("retried", retried), ("dead", dead)] where count > 0 {
            Counter(label: "exportwatch_delivery_attempts_total", dimensions: [("result", result)]).increment(by: count)
        }
    }
}

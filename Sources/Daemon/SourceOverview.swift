internal import Fetching
public import Foundation
internal import Store

/// What `exportwatch sources list` shows: each configured source with the health the store
/// recorded, when it last succeeded and when it is due next.
public enum SourceOverview {
    /// One source's line.
    public struct Row: Sendable, Equatable {
        /// The source's id.
        public var id: String
        /// `feed` or `html`.
        public var kind: String
        /// The poll interval, e.g. `15m` (the daemon's default when the source has none).
        public var interval: String
        /// `new` (never polled), `ok`, `failing (…)` or `retired (…)`.
        public var health: String
        /// When a poll of the source last succeeded; nil when none has.
        public var lastSuccess: Date?
        /// When the daemon polls it next; nil for a source never polled or retired.
        public var nextDue: Date?
        /// The URL polled now (where a permanent redirect moved it, if it did).
        public var url: String
    }

    /// The rows for every configured source, in file order.
    ///
    /// Reads the state database in `state_dir` when it exists; a configuration that has never
    /// run shows every source as `new` and creates nothing.
    /// - Throws: ``StoreError`` when the database exists but cannot be opened.
    public static func rows(for configuration: Configuration) async throws -> [Row] {
        var states: [String: SourceFetchState] = [:]
        if let store = try configuration.existingStore() {
            states = try await store.sources().mapValues(\.state)
        }
        return configuration.sources.map { source in
            // A source whose configured URL changed starts afresh, as the poller will treat it.
            let state = states[source.id].map { $0.reconciled(withConfiguredURL: source.url) }
            return Row(
                id: source.id,
                kind: source.kind.rawValue,
                interval: format(source.interval ?? configuration.daemon.pollInterval),
                health: state.flatMap { $0.lastAttemptAt == nil ? nil : describe($0) } ?? "new",
                lastSuccess: state?.lastSuccessAt,
                nextDue: state?.health.isRetired == true ? nil : state?.nextDueAt,
                url: (state?.currentURL ?? source.url).absoluteString
            )
        }
    }

    /// `sources revive ID`: a source a 410 retired made healthy and due now, at the same URL (a
    /// site that answered 410 by mistake; a new `url` revives it too). A running daemon polls it
    /// within a minute, `run --once` at its next run.
    /// - Throws: ``ReviveRefused`` for a source that is not configured or not retired.
    public static func revive(_ configuration: Configuration, sourceID: String) async throws {
        guard configuration.sources.contains(where: { $0.id == sourceID }) else {
            throw ReviveRefused.unknownSource(sourceID)
        }
        guard let store = try configuration.existingStore() else {
            throw ReviveRefused.notRetired(sourceID, health: "never polled")
        }
        guard try await store.reviveRetiredSource(sourceID, at: Date()) else {
            let health = try await store.source(sourceID).map { describe($0.state) } ?? "never polled"
            throw ReviveRefused.notRetired(sourceID, health: health)
        }
    }

    /// Why `sources revive` did nothing.
    public enum ReviveRefused: Error, Sendable, CustomStringConvertible {
        /// No source has that id in the configuration (a usage mistake).
        case unknownSource(String)
        /// The source is not retired; its health.
        case notRetired(String, health: String)

        public var description: String {
            switch self {
            case .unknownSource(let id):
                "no source \"\(id)\" in the configuration (`exportwatch sources list` names them)"
            case .notRetired(let id, let health): "source \"\(id)\" is not retired (health: \(health)); nothing to do"
            }
        }
    }

    /// The rows as aligned text columns under a header, times in `zone` to the minute (`due` for
    /// a next poll already due, `-` for no time).
    public static func table(_ rows: [Row], zone: TimeZone, now: Date = Date()) -> String {
        columns(
            ["ID", "KIND", "INTERVAL", "HEALTH", "LAST OK", "NEXT POLL", "URL"],
            rows.map { row in
                let next = row.nextDue.map { $0 <= now ? "due" : stamp($0, zone) }
                return [
                    row.id, row.kind, row.interval, row.health,
                    row.lastSuccess.map { stamp($0, zone) } ?? "-",
                    next ?? "-", row.url,
                ]
            })
    }

    /// Cells as aligned text columns under a header, aligned in terminal columns (a Chinese
    /// character takes two); the last column is not padded.
    static func columns(_ header: [String], _ rows: [[String]]) -> String {
        let cells = [header] + rows
        let widths = (0..<header.count - 1).map { column in cells.map { $0[column].terminalWidth }.max() ?? 0 }
        return cells.map { row in
            zip(row.dropLast(), widths).map { $0.padded(toTerminalColumns: $1 + 2) }.joined() + row.last!
        }.joined(separator: "\n")
    }

    /// `2024-05-10 14:05`: the date to the minute in `zone`.
    static func stamp(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }

    /// `900s` → `15m`, `5400s` → `1h30m`.
    static func format(_ duration: Duration) -> String {
        var seconds = Int(duration.components.seconds)
        if seconds == 0 { return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms" }
        var text = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }

    private static func describe(_ state: SourceFetchState) -> String {
        switch state.health.state {
        case .ok where state.health.consecutiveFailures > 0: "ok (\(state.health.consecutiveFailures) failed in a row)"
        case .ok: "ok"
        case .failing(let reason): "failing (\(state.health.consecutiveFailures) in a row: \(reason))"
        case .empty(let reason): "empty (\(reason))"
        case .retired(let reason): "retired (\(reason))"
        }
    }
}

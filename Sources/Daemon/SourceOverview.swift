internal import Foundation
internal import Store

/// What `exportwatch sources list` shows: each configured source with the health the store recorded.
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
        /// The URL polled now (where a permanent redirect moved it, if it did).
        public var url: String
    }

    /// The rows for every configured source, in file order.
    ///
    /// Reads the state database in `state_dir` when it exists; a configuration that has never
    /// run shows every source as `new` and creates nothing.
    /// - Throws: ``StoreError`` when the database exists but cannot be opened.
    public static func rows(for configuration: Configuration) async throws -> [Row] {
        let databasePath = configuration.daemon.stateDirectory.appending(path: SQLiteEventStore.fileName).path
        var states: [String: SourceState] = [:]
        if FileManager.default.fileExists(atPath: databasePath) {
            let store = try SQLiteEventStore(stateDirectory: configuration.daemon.stateDirectory)
            for state in try await store.sourceStates() { states[state.id] = state }
        }
        return configuration.sources.map { source in
            let state = states[source.id]
            return Row(
                id: source.id,
                kind: source.kind.rawValue,
                interval: format(source.interval ?? configuration.daemon.pollInterval),
                health: state.map(describe) ?? "new",
                url: state?.currentURL ?? source.url.absoluteString
            )
        }
    }

    /// The rows as aligned text columns under a header.
    public static func table(_ rows: [Row]) -> String {
        let header = ["ID", "KIND", "INTERVAL", "HEALTH", "URL"]
        let cells = [header] + rows.map { [$0.id, $0.kind, $0.interval, $0.health, $0.url] }
        let widths = (0..<header.count - 1).map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { row in
            zip(row.dropLast(), widths).map { $0.padding(toLength: $1 + 2, withPad: " ", startingAt: 0) }.joined()
                + row.last!
        }.joined(separator: "\n")
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

    private static func describe(_ state: SourceState) -> String {
        switch state.health {
        case .ok: "ok"
        case .failing: "failing (\(state.failureStreak) in a row\(state.healthReason.map { ": \($0)" } ?? ""))"
        case .retired: "retired\(state.healthReason.map { " (\($0))" } ?? "")"
        }
    }
}

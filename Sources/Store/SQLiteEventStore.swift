public import Fetching
public import Foundation
internal import GRDB

/// The embedded ``EventStore``: one SQLite database in WAL mode, through GRDB.
///
/// The database file is created with mode 0600 inside a state folder of mode 0700, since it holds
/// webhook payloads and the user's sources. Opening migrates a database written by an older
/// exportwatch and refuses one written by a newer one.
public final class SQLiteEventStore: EventStore {
    /// The name of the database file inside the state folder.
    public static let fileName = "exportwatch.sqlite"

    /// The database file.
    public let databaseURL: URL
    // DatabasePool is Sendable: GRDB serialises writes and gives each read its own connection.
    let pool: DatabasePool
    /// Polls' records, written in shared transactions.
    let groupCommit: GroupCommit

    /// Opens (creating if needed) the database in `stateDirectory` and brings its schema up to date.
    ///
    /// - Parameter stateDirectory: the folder that holds the database; created with mode 0700
    ///   when missing.
    /// - Throws: ``StoreError`` naming the path: `.stateDirectory` when the folder or file cannot
    ///   be made, `.open` when SQLite cannot open it, `.damaged`, `.diskFull` or `.locked` when the
    ///   file is damaged, its disk full or another process holds it, `.newerSchema` when a newer
    ///   exportwatch wrote it, `.migration` when a migration fails (the database is then left
    ///   unchanged).
    /// - Parameter busyTimeout: how long a write waits for another process's write (an
    ///   exportwatch command, an sqlite3 shell, a backup) before it fails as `.locked`.
    public init(stateDirectory: URL, busyTimeout: Duration = .seconds(10)) throws(StoreError) {
        databaseURL = stateDirectory.appending(path: Self.fileName)
        try Self.prepareFiles(directory: stateDirectory, database: databaseURL)

        var configuration = Configuration()
        configuration.busyMode = .timeout(
            Double(busyTimeout.components.seconds) + Double(busyTimeout.components.attoseconds) / 1e18)
        configuration.label = "exportwatch"
        configuration.prepareDatabase { db in
            guard !db.configuration.readonly else { return }
            // Checkpoints every 32 MB of WAL rather than every 4 MB: a cold start writes ~150 MB
            // of items into a dozen indexes, and each checkpoint copies every page it touched
            // and syncs; fewer, larger ones wrote the same index pages fewer times (cold start
            // ~15% faster in Benchmarks/daemon.sh). The WAL file is cut back to 32 MB afterwards.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8000")
            try db.execute(sql: "PRAGMA journal_size_limit = 33554432")
        }
        do {
            pool = try DatabasePool(path: databaseURL.path, configuration: configuration)
        } catch {
            throw StoreError(recognizing: error, path: databaseURL.path)
                ?? StoreError(.open, "cannot open the state database \(databaseURL.path): \(Self.reason(error))")
        }
        try Self.migrate(pool, path: databaseURL.path)
        groupCommit = GroupCommit(pool: pool, write: Self.write(_:in:))
    }

    /// `pool.read`, with the failures a user fixes outside exportwatch (a damaged file, a full
    /// disk, another process's lock) reported as such; every read and write of the store goes
    /// through this, ``write(_:)`` or ``recognizingFailures(_:)``.
    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        try await recognizingFailures { try await pool.read(value) }
    }

    /// `pool.write`, with failures reported as ``read(_:)`` reports them.
    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        try await recognizingFailures { try await pool.write(updates) }
    }

    /// Runs `access`, turning the SQLite failures ``StoreError/init(recognizing:path:)`` knows
    /// into the errors that say what to do.
    private func recognizingFailures<T>(_ access: () async throws -> T) async throws -> T {
        do {
            return try await access()
        } catch {
            throw StoreError(recognizing: error, path: databaseURL.path) ?? error
        }
    }

    public func sources(reusing knownURLs: [URL]) async throws -> [String: StoredSource] {
        // Parsing a URL is most of what a row costs (~4,000 instructions), and the daemon's
        // scheduler reads every source on each pass: a configured one is looked up instead.
        let known = Dictionary(knownURLs.map { ($0.absoluteString, $0) }, uniquingKeysWith: { first, _ in first })
        return try await read { db in
            // Sized first, and filled from a cursor that reads each row in place: every caller
            // wants the sources by id, and an array turned into a dictionary afterwards cost a
            // warm cycle of a thousand sources ~0.7 ms of copies.
            var sources: [String: StoredSource] = [:]
            sources.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM source") ?? 0)
            let rows = try Row.fetchCursor(db, sql: FetchStateColumn.allSources)
            while let row = try rows.next() {
                let source = Self.storedSource(from: row, knownURLs: known)
                sources[source.id] = source
            }
            return sources
        }
    }

    public func sources(_ ids: [String], reusing knownURLs: [URL]) async throws -> [String: StoredSource] {
        let known = Dictionary(knownURLs.map { ($0.absoluteString, $0) }, uniquingKeysWith: { first, _ in first })
        return try await read { db in
            var sources: [String: StoredSource] = [:]
            sources.reserveCapacity(ids.count)
            try db.forEachRow(in: ids, sql: { "\(FetchStateColumn.allSources) WHERE source.id IN (\($0))" }) { row in
                let source = Self.storedSource(from: row, knownURLs: known)
                sources[source.id] = source
            }
            return sources
        }
    }

    public func source(_ id: String) async throws -> StoredSource? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: FetchStateColumn.oneSource), arguments: [id])
                .map { Self.storedSource(from: $0, knownURLs: [:]) }
        }
    }

    public func saveFetchState(
        _ state: SourceFetchState, ofSource id: String, kind: String, transitions: [SourceHealth.Transition], at: Date
    ) async throws {
        try await write { db in
            try Self.write(state, ofSource: id, kind: kind, transitions: transitions, at: at, in: db)
        }
    }

    /// The columns of `source` that a fetch state sets, in the order ``write`` binds them. The
    /// upsert's SET and its WHERE (did any of them change?) are both made from this list, so that
    /// no column can be set without being compared.
    private static let ownColumns = [
        "configured_url", "current_url", "kind", "etag", "last_modified", "body_sha256", "health", "health_reason",
        "failure_streak", "last_error", "redirect_target", "redirect_streak", "last_item_count",
    ]
    private static let upsertSource = """
        INSERT INTO source (id, \(ownColumns.joined(separator: ", ")), created_at)
        VALUES (?, \(ownColumns.map { _ in "?" }.joined(separator: ", ")), ?)
        ON CONFLICT (id) DO UPDATE SET \(ownColumns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        WHERE \(ownColumns.map { "\($0) IS NOT excluded.\($0)" }.joined(separator: " OR "))
        """

    /// Upserts a source's fetch state and appends its health transitions; with `poll`, records the
    /// poll's day and outcome (a trigger archives the day before when the day changes).
    ///
    /// What every poll changes goes to `source_poll`; the `source` row is rewritten only when
    /// something else in the state differs from it, so that a cycle of unchanged sources leaves
    /// the pages of `source` untouched (see the v9 migration). With `stored` (the source as read
    /// before the poll), an unchanged row is not even offered to SQLite: building and binding its
    /// fifteen values was ~2 ms of a warm cycle of a thousand sources.
    static func write(
        _ state: SourceFetchState, ofSource id: String, kind: String, transitions: [SourceHealth.Transition], at: Date,
        poll: PollOutcome? = nil, stored: StoredSource? = nil, in db: Database
    ) throws {
        let (health, reason) = (state.health.state.name, state.health.state.reason)
        // Cached: a cycle runs these once per source, and compiling them each time cost more than running them.
        if !leavesSourceRow(state, kind: kind, as: stored) {
            try db.cachedStatement(sql: upsertSource).execute(
                arguments: [
                    id, state.configuredURL.absoluteString, state.currentURL.absoluteString, kind, state.etag,
                    state.lastModified, state.bodySHA256, health, reason, state.health.consecutiveFailures,
                    state.lastError, state.redirectTarget?.absoluteString, state.redirectStreak, state.lastItemCount,
                    at.storageText,
                ])
        }
        // On the day and with the outcome last logged (most polls), only the times move: an
        // update of them alone costs SQLite half what the upsert does, which tries the insert
        // first and rewrites the day, running the day-end trigger. Without a row yet, the upsert
        // writes it.
        if let stored, poll == nil || poll == stored.lastPoll {
            try db.cachedStatement(sql: updatePollTimes).execute(
                arguments: [
                    state.nextDueAt?.storageText, state.lastAttemptAt?.storageText, state.lastSuccessAt?.storageText,
                    state.lastStatus, id,
                ])
            if db.changesCount == 1 {
                try insert(transitions, ofSource: id, reason: reason, at: at, in: db)
                return
            }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO source_poll (
                    source_id, next_due_at, last_attempt_at, last_success_at, last_status, polled_day, polled_day_ok)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET
                    next_due_at = excluded.next_due_at, last_attempt_at = excluded.last_attempt_at,
                    last_success_at = excluded.last_success_at, last_status = excluded.last_status,
                    polled_day = coalesce(excluded.polled_day, polled_day),
                    polled_day_ok = iif(excluded.polled_day IS NULL, polled_day_ok, excluded.polled_day_ok)
                """
        ).execute(
            arguments: [
                id, state.nextDueAt?.storageText, state.lastAttemptAt?.storageText, state.lastSuccessAt?.storageText,
                state.lastStatus, poll?.day, poll?.succeeded,
            ])
        try insert(transitions, ofSource: id, reason: reason, at: at, in: db)
    }

    private static let updatePollTimes = """
        UPDATE source_poll SET next_due_at = ?, last_attempt_at = ?, last_success_at = ?, last_status = ?
        WHERE source_id = ?
        """

    private static func insert(
        _ transitions: [SourceHealth.Transition], ofSource id: String, reason: String?, at: Date, in db: Database
    ) throws {
        for transition in transitions {
            try db.execute(
                sql: "INSERT INTO source_event (source_id, type, reason, occurred_at) VALUES (?, ?, ?, ?)",
                arguments: [id, transition.rawValue, reason, at.storageText])
        }
    }

    /// Whether writing `state` as a source of `kind` would leave the `source` row as `stored`
    /// was read from it: they differ at most in what every poll moves, which `source_poll` keeps.
    /// Any other field of the state, a field added later included, counts as a change.
    static func leavesSourceRow(_ state: SourceFetchState, kind: String, as stored: StoredSource?) -> Bool {
        guard let stored, stored.kind == kind else { return false }
        var withStoredPollTimes = state
        withStoredPollTimes.nextDueAt = stored.state.nextDueAt
        withStoredPollTimes.lastAttemptAt = stored.state.lastAttemptAt
        withStoredPollTimes.lastSuccessAt = stored.state.lastSuccessAt
        withStoredPollTimes.lastStatus = stored.state.lastStatus
        return withStoredPollTimes == stored.state
    }

    public func reviveRetiredSource(_ id: String, at now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE source SET health = 'ok', health_reason = NULL, failure_streak = 0, last_error = NULL
                    WHERE id = ? AND health = 'retired'
                    """,
                arguments: [id])
            guard db.changesCount == 1 else { return false }
            try db.execute(
                sql: "UPDATE source_poll SET next_due_at = ? WHERE source_id = ?", arguments: [now.storageText, id])
            return true
        }
    }

    public func healthEvents(ofSource id: String) async throws -> [SourceHealthEvent] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM source_event WHERE source_id = ? ORDER BY id", arguments: [id]
            ).compactMap { row in
                SourceHealth.Transition(rawValue: row["type"]).map {
                    SourceHealthEvent(transition: $0, reason: row["reason"], occurredAt: row["occurred_at"])
                }
            }
        }
    }

    public func pruneHealthEvents(before cutoff: Date) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM source_event WHERE occurred_at < ?
                        AND id NOT IN (SELECT max(id) FROM source_event GROUP BY source_id)
                    """,
                arguments: [cutoff.storageText])
            return db.changesCount
        }
    }

    /// A source from a row selected by ``FetchStateColumn``'s queries.
    private static func storedSource(from row: Row, knownURLs: [String: URL]) -> StoredSource {
        StoredSource(
            id: row.text(.id) ?? "", kind: row.text(.kind) ?? "", state: fetchState(from: row, knownURLs: knownURLs),
            lastPoll: row.text(.polledDay).map { PollOutcome(day: $0, succeeded: row.integer(.polledDayOK) == 1) })
    }

    /// The fetch state in a row selected by ``FetchStateColumn``'s queries.
    private static func fetchState(from row: Row, knownURLs: [String: URL]) -> SourceFetchState {
        let configuredText = row.text(.configuredURL) ?? ""
        let currentText = row.text(.currentURL) ?? configuredText
        let configured = knownURLs[configuredText] ?? URL(string: configuredText) ?? URL(filePath: "/")
        let reason = row.text(.healthReason) ?? ""
        let health: SourceHealth.State =
            switch row.text(.health) {
            case "failing": .failing(reason: reason)
            case "empty": .empty(reason: reason)
            case "retired": .retired(reason: reason)
            default: .ok
            }
        return SourceFetchState(
            configuredURL: configured,
            // Parsed once when the source has not moved (URL parsing is most of a row's cost).
            currentURL: currentText == configuredText
                ? configured : knownURLs[currentText] ?? URL(string: currentText) ?? configured,
            etag: row.text(.etag), lastModified: row.text(.lastModified), bodySHA256: row.text(.bodySHA256),
            health: SourceHealth(state: health, consecutiveFailures: row.integer(.failureStreak) ?? 0),
            redirectTarget: row.text(.redirectTarget).flatMap(URL.init(string:)),
            redirectStreak: row.integer(.redirectStreak) ?? 0, nextDueAt: row.date(.nextDueAt),
            lastAttemptAt: row.date(.lastAttemptAt), lastSuccessAt: row.date(.lastSuccessAt),
            lastStatus: row.integer(.lastStatus), lastError: row.text(.lastError),
            lastItemCount: row.integer(.lastItemCount))
    }

    /// Copies what the write-ahead log holds into the database file and syncs both, as closing the
    /// store would: a caller about to close the store runs this beside its last work, so that the
    /// close finds nothing left to copy. Readers go on meanwhile; writers wait for it.
    public func checkpoint() async throws {
        _ = try await recognizingFailures {
            try await pool.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
    }

    /// The migrations this database has had applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The migration that a database written by this version ends with.
    public static var currentSchemaVersion: String { Schema.latestMigration }

    /// The oldest SQLite (major, minor) whose SQL the store uses: `RETURNING` and `ALTER TABLE …
    /// DROP COLUMN` came in 3.35 (2021). An older one (Ubuntu 20.04 has 3.31, RHEL 9 3.34) is
    /// refused at open with a message, rather than failing on the first poll or migration that
    /// needs it.
    static let oldestSQLite = (3, 35)

    /// Whether an SQLite version (`3.40.1`) is at least ``oldestSQLite``.
    static func isSupported(sqliteVersion: String) -> Bool {
        let parts = sqliteVersion.split(separator: ".").map { Int($0) ?? 0 }
        return (parts.first ?? 0, parts.dropFirst().first ?? 0) >= oldestSQLite
    }

    private static func migrate(_ pool: DatabasePool, path: String) throws(StoreError) {
        let migrator = Schema.migrator
        let (unknown, sqliteVersion, hasJSON): ([String], String, Bool)
        do {
            (unknown, sqliteVersion, hasJSON) = try pool.read { db in
                (
                    try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted(),
                    try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "",
                    // The known-item lookups read their keys with json_each: built in from 3.38, a
                    // compile-time option before (Debian's and Ubuntu's builds have it).
                    (try? Bool.fetchOne(db, sql: "SELECT json_valid('[]')")) == true
                )
            }
        } catch {
            throw StoreError(recognizing: error, path: path)
                ?? StoreError(.open, "cannot read the schema of \(path): \(reason(error))")
        }
        guard isSupported(sqliteVersion: sqliteVersion) else {
            throw StoreError(
                .unsupportedSQLite,
                "exportwatch needs SQLite \(oldestSQLite.0).\(oldestSQLite.1) or newer, and this system's is "
                    + "\(sqliteVersion); install a newer libsqlite3 (\(path) is untouched)")
        }
        guard hasJSON else {
            throw StoreError(
                .unsupportedSQLite,
                "exportwatch needs SQLite's JSON functions, and this system's SQLite \(sqliteVersion) was built "
                    + "without them; install a libsqlite3 built with them (3.38 or newer has them unless left out) "
                    + "(\(path) is untouched)")
        }
        guard unknown.isEmpty else {
            throw StoreError(
                .newerSchema,
                "\(path) was written by a newer exportwatch (schema \(unknown.joined(separator: ", ")) is unknown "
                    + "to this version, which ends at \(Schema.latestMigration)); "
                    + "run the newer exportwatch, or move the file aside to start afresh"
            )
        }
        do {
            try migrator.migrate(pool)
        } catch {
            throw StoreError(.migration, "migrating \(path) failed, the database is unchanged: \(reason(error))")
        }
    }

    /// Creates the state folder (0700) and the database file (0600) before SQLite touches them, so
    /// that neither is ever readable by others, whatever the umask. SQLite gives its `-wal` and
    /// `-shm` files the database file's mode.
    private static func prepareFiles(directory: URL, database: URL) throws(StoreError) {
        try prepareFolder(directory)
        let descriptor = open(database.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(
                .stateDirectory,
                "cannot create the state database \(database.path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    /// Creates the state folder (0700) when it is missing.
    static func prepareFolder(_ directory: URL) throws(StoreError) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if !manager.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            do {
                try Folders.create(directory.path, permissions: 0o700)
            } catch {
                throw StoreError(.stateDirectory, "cannot create the state folder \(directory.path): \(error)")
            }
        } else if !isDirectory.boolValue {
            throw StoreError(.stateDirectory, "the state folder \(directory.path) is a file, not a folder")
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return (error as? any LocalizedError)?.errorDescription ?? "\(error)"
    }
}

/// The columns of `source` and `source_poll` that a fetch state is read from, in the order they
/// are selected, and the queries that select them.
///
/// A cycle reads every source's state before its first fetch, so this is on a warm start's path:
/// rows are read by index (GRDB's lookup by name lowercases every name) and from SQLite's storage
/// (``Row/text(_:)``), and dates arrive as milliseconds that SQLite computes from the stored text
/// (GRDB decodes a date through Foundation's calendar). Reading 1,005 states fell from ~9 to
/// ~4 ms.
private enum FetchStateColumn: Int, CaseIterable {
    case id, kind, configuredURL, currentURL, etag, lastModified, bodySHA256, health, healthReason
    case failureStreak, redirectTarget, redirectStreak, nextDueAt, lastAttemptAt, lastSuccessAt
    case lastStatus, lastError, lastItemCount, polledDay, polledDayOK

    static let allSources = "SELECT \(selection) FROM \(tables)"
    static let oneSource = "SELECT \(selection) FROM \(tables) WHERE source.id = ?"
    private static let tables = "source LEFT JOIN source_poll ON source_poll.source_id = source.id"
    private static let selection = allCases.map(\.selected).joined(separator: ", ")

    /// What is selected for the column: its value, or for a date its milliseconds since 1970.
    private var selected: String {
        switch self {
        case .nextDueAt, .lastAttemptAt, .lastSuccessAt:
            storageMilliseconds(of: name)
        default: name
        }
    }

    var name: String {
        switch self {
        case .id: "source.id"
        case .kind: "kind"
        case .configuredURL: "configured_url"
        case .currentURL: "current_url"
        case .etag: "etag"
        case .lastModified: "last_modified"
        case .bodySHA256: "body_sha256"
        case .health: "health"
        case .healthReason: "health_reason"
        case .failureStreak: "failure_streak"
        case .redirectTarget: "redirect_target"
        case .redirectStreak: "redirect_streak"
        case .nextDueAt: "next_due_at"
        case .lastAttemptAt: "last_attempt_at"
        case .lastSuccessAt: "last_success_at"
        case .lastStatus: "last_status"
        case .lastError: "last_error"
        case .lastItemCount: "last_item_count"
        case .polledDay: "polled_day"
        case .polledDayOK: "polled_day_ok"
        }
    }
}

/// The values of a row selected by ``FetchStateColumn``'s queries, read from SQLite in place
/// through GRDB's inlinable path for statement columns: its non-inlinable generic path, even to a
/// `DatabaseValue`, looked up runtime type metadata on every column (most of a row's cost).
extension Row {
    fileprivate func text(_ column: FetchStateColumn) -> String? {
        self[column.rawValue] as String?
    }

    fileprivate func integer(_ column: FetchStateColumn) -> Int? {
        (self[column.rawValue] as Int64?).map { Int($0) }
    }

    /// The date in a date `column` (selected as milliseconds since 1970).
    fileprivate func date(_ column: FetchStateColumn) -> Date? {
        (self[column.rawValue] as Int64?).map(Date.init(storageMilliseconds:))
    }
}

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
    private let pool: DatabasePool

    /// Opens (creating if needed) the database in `stateDirectory` and brings its schema up to date.
    ///
    /// - Parameter stateDirectory: the folder that holds the database; created with mode 0700
    ///   when missing.
    /// - Throws: ``StoreError`` naming the path: `.stateDirectory` when the folder or file cannot
    ///   be made, `.open` when SQLite cannot open it, `.newerSchema` when a newer exportwatch
    ///   wrote it, `.migration` when a migration fails (the database is then left unchanged).
    public init(stateDirectory: URL) throws(StoreError) {
        databaseURL = stateDirectory.appending(path: Self.fileName)
        try Self.prepareFiles(directory: stateDirectory, database: databaseURL)

        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "exportwatch"
        do {
            pool = try DatabasePool(path: databaseURL.path, configuration: configuration)
        } catch {
            throw StoreError(.open, "cannot open the state database \(databaseURL.path): \(Self.reason(error))")
        }
        try Self.migrate(pool, path: databaseURL.path)
    }

    public func sourceStates() async throws -> [SourceState] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM source ORDER BY id").map { row in
                SourceState(
                    id: row["id"],
                    currentURL: row["current_url"],
                    health: SourceState.Health(rawValue: row["health"]) ?? .ok,
                    healthReason: row["health_reason"],
                    failureStreak: row["failure_streak"],
                    lastAttemptAt: row["last_attempt_at"],
                    lastSuccessAt: row["last_success_at"],
                    nextDueAt: row["next_due_at"]
                )
            }
        }
    }

    /// The migrations this database has had applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The migration that a database written by this version ends with.
    public static var currentSchemaVersion: String { Schema.latestMigration }

    private static func migrate(_ pool: DatabasePool, path: String) throws(StoreError) {
        let migrator = Schema.migrator
        let unknown: [String]
        do {
            unknown = try pool.read { db in
                try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            }
        } catch {
            throw StoreError(.open, "cannot read the schema of \(path): \(reason(error))")
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
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if !manager.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            do {
                try manager.createDirectory(
                    at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError(.stateDirectory, "cannot create the state folder \(directory.path): \(reason(error))")
            }
        } else if !isDirectory.boolValue {
            throw StoreError(.stateDirectory, "the state folder \(directory.path) is a file, not a folder")
        }
        let descriptor = open(database.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(
                .stateDirectory,
                "cannot create the state database \(database.path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return (error as? any LocalizedError)?.errorDescription ?? "\(error)"
    }
}

internal import GRDB

/// A failure of the state database, with a message that names the file and what to do.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the kind of failure, for tests and for callers that react to it.
    public enum Code: String, Sendable {
        /// The state folder or the database file could not be created or given safe permissions.
        case stateDirectory
        /// The database could not be opened or read.
        case open
        /// The database file is damaged (SQLite found it malformed, or not a database at all).
        case damaged
        /// The disk that holds the database is full.
        case diskFull
        /// Another process held the database for writing longer than the busy timeout.
        case locked
        /// Another `exportwatch run` holds the state folder (see ``StateLock``).
        case inUse
        /// The database was written by a newer exportwatch whose schema this version does not know.
        case newerSchema
        /// A schema migration failed; the database is left as it was before it.
        case migration
        /// The system's SQLite is older than the store's SQL needs (3.35), or built without its JSON
        /// functions; the database is untouched.
        case unsupportedSQLite
    }

    /// What kind of failure this is.
    public let code: Code
    /// The message for the user: the path, what failed, and what to do.
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

extension StoreError {
    /// SQLite's failures that a user fixes outside exportwatch, as errors that say how: a damaged
    /// file ("database disk image is malformed", "file is not a database": what, not what to do),
    /// a full disk, and a write lock another process holds. Nil for any other error.
    init?(recognizing error: any Error, path: String) {
        guard let error = error as? DatabaseError else { return nil }
        let sqlite = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            self.init(
                .damaged,
                "the state database \(path) is damaged (\(sqlite)): restore it from a backup, or move it and its "
                    + "-wal and -shm files aside to start afresh (its sources then start as new ones)")
        case .SQLITE_FULL:
            self.init(
                .diskFull,
                "the state database \(path) cannot grow: its disk is full (\(sqlite)); nothing is recorded until "
                    + "there is space again")
        case .SQLITE_BUSY:
            self.init(
                .locked,
                "the state database \(path) is held by another process (\(sqlite)): another exportwatch, an sqlite3 "
                    + "shell or a backup is writing to it; exportwatch goes on once it lets go")
        default:
            return nil
        }
    }
}

/// A failure of the state database, with a message that names the file and what to do.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the kind of failure, for tests and for callers that react to it.
    public enum Code: String, Sendable {
        /// The state folder or the database file could not be created or given safe permissions.
        case stateDirectory
        /// The database could not be opened or read.
        case open
        /// The database was written by a newer exportwatch whose schema this version does not know.
        case newerSchema
        /// A schema migration failed; the database is left as it was before it.
        case migration
        /// The system's SQLite is older than the store's SQL needs (3.35); the database is untouched.
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

import Foundation
internal import Store

extension Configuration {
    /// The state database in `state_dir`.
    var stateDatabasePath: String {
        daemon.stateDirectory.appending(path: SQLiteEventStore.fileName).path
    }

    /// The state database, when a run has created it; nil for a configuration never run. What
    /// only reads the state (`items`, `sources`, `webhooks`) opens it this way, creating nothing.
    /// - Throws: ``StoreError`` when the database exists but cannot be opened.
    func existingStore() throws -> SQLiteEventStore? {
        guard FileManager.default.fileExists(atPath: stateDatabasePath) else { return nil }
        return try SQLiteEventStore(stateDirectory: daemon.stateDirectory)
    }
}

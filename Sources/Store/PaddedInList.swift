internal import GRDB

extension Database {
    /// Calls `body` with each row `sql` selects for `values` (each looked up once), where `sql`
    /// makes a query from the placeholder list of its `IN (…)`; `leading` is bound before the list.
    /// The row is the statement's current one, valid only during the call (nothing is copied).
    ///
    /// The values are looked up in chunks well under SQLite's limit on bound parameters, each with
    /// a statement for a power of two of values, the rest bound to NULL (which `IN` never
    /// matches): a handful of statements, prepared once per connection, serve every count. GRDB
    /// prepares an uncached statement on every call, and preparing one costs more than most
    /// lookups (~250,000 instructions).
    func forEachRow(
        in values: [String], after leading: [(any DatabaseValueConvertible)?] = [], sql: (String) -> String,
        _ body: (Row) throws -> Void
    ) throws {
        for chunk in Array(Set(values)).chunked(into: 512) {
            let slots = 1 << (Int.bitWidth - (chunk.count - 1).leadingZeroBitCount)
            let statement = try cachedStatement(sql: sql(databaseQuestionMarks(count: slots)))
            var arguments = leading
            arguments.reserveCapacity(leading.count + slots)
            arguments += chunk.map { $0 }
            arguments += repeatElement(nil, count: slots - chunk.count)
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
            while let row = try rows.next() { try body(row) }
        }
    }
}

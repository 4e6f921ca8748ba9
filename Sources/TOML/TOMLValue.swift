/// A value of a TOML document.
public enum TOMLValue: Sendable, Equatable {
    /// A string, escapes resolved.
    case string(String)
    /// A 64-bit integer (TOML's range).
    case integer(Int64)
    /// A double, `inf` and `nan` included.
    case float(Double)
    /// `true` or `false`.
    case boolean(Bool)
    /// An offset date-time, local date-time, local date or local time, as written, with a `T`
    /// between date and time and an upper-case `Z`.
    case dateTime(String)
    /// An array; TOML 1.0 allows elements of different kinds.
    case array([TOMLValue])
    /// A table: a `[table]`, an inline table, or an element of an array of tables.
    case table(TOMLTable)

    /// The kinds of value, for messages such as "expected a string, found an array".
    public enum Kind: Sendable, Equatable {
        case string, integer, float, boolean, dateTime, array, table
    }

    /// Which kind of value this is.
    public var kind: Kind {
        switch self {
        case .string: .string
        case .integer: .integer
        case .float: .float
        case .boolean: .boolean
        case .dateTime: .dateTime
        case .array: .array
        case .table: .table
        }
    }

    /// The string, when the value is one.
    public var string: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The integer, when the value is one that fits an `Int`.
    public var integer: Int? {
        if case .integer(let value) = self { Int(exactly: value) } else { nil }
    }

    /// The float, when the value is one.
    public var float: Double? {
        if case .float(let value) = self { value } else { nil }
    }

    /// The boolean, when the value is one.
    public var boolean: Bool? {
        if case .boolean(let value) = self { value } else { nil }
    }

    /// The elements, when the value is an array.
    public var array: [TOMLValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    /// The table, when the value is one (a `[table]`, an inline table, or an element of an
    /// array of tables).
    public var table: TOMLTable? {
        if case .table(let value) = self { value } else { nil }
    }
}

/// A TOML table: its keys in the order the document gives them, their values, and the lines
/// that set them (for messages about a value: `exportwatch.toml:12: source "bis": url: …`).
public struct TOMLTable: Sendable, Equatable {
    private var index = KeyIndex()
    private var values: [TOMLValue] = []
    private var lines: [Int] = []
    /// The line where the table begins: its `[header]`, the first dotted key that made it, or
    /// its inline `{`; nil for a table not read from a document.
    public internal(set) var line: Int?

    public init() {}

    /// The keys, in document order.
    public var keys: [String] { index.keys }

    /// The value under `key`, nil when the table has none.
    public subscript(key: String) -> TOMLValue? {
        index.position(of: key).map { values[$0] }
    }

    /// The line that sets `key` (for a table, where it begins), nil when the table has no such
    /// key or was not read from a document.
    public func line(of key: String) -> Int? {
        index.position(of: key).flatMap { lines[$0] > 0 ? lines[$0] : nil }
    }

    /// Adds `value` under a key the table does not have yet, set on `line` (0: none).
    mutating func append(_ key: String, _ value: TOMLValue, line: Int = 0) {
        index.append(key)
        values.append(value)
        lines.append(line)
    }

    /// Tables are equal when they have the same keys, in the same order, with equal values
    /// (wherever they were written).
    public static func == (left: TOMLTable, right: TOMLTable) -> Bool {
        left.keys == right.keys && left.values == right.values
    }
}

/// The keys of a table in document order, and where each one is.
struct KeyIndex: Sendable {
    private(set) var keys: [String] = []
    /// A hash index, once the table is large enough that searching `keys` costs more than
    /// hashing (most tables have a handful of keys: comparing them beats hashing them).
    private var positions: [String: Int]?

    func position(of key: String) -> Int? {
        positions.map { $0[key] } ?? keys.firstIndex(of: key)
    }

    mutating func append(_ key: String) {
        keys.append(key)
        if positions != nil {
            positions![key] = keys.count - 1
        } else if keys.count > 12 {
            positions = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        }
    }
}

/// Why a document is not valid TOML, and where.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line (from 1) and column (from 1, in characters) where the mistake was found.
    public var line: Int
    public var column: Int
    /// What is wrong, in words.
    public var message: String

    /// `line 3, column 7: expected "=" after the key "interval", found "1"`.
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// Reads TOML 1.0 documents.
///
/// ```swift
/// let root = try TOMLDocument.parse("[daemon]\npoll_interval = \"15m\"\n")
/// root["daemon"]?.table?["poll_interval"]?.string  // "15m"
/// ```
public enum TOMLDocument {
    /// The root table of `text`.
    /// - Throws: ``TOMLSyntaxError`` at the first mistake, with its line and column.
    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var text = text
        let result = text.withUTF8 { bytes in
            var parser = TOMLParser(bytes: bytes)
            return Result { () throws(TOMLSyntaxError) in try parser.document() }
        }
        return try result.get()
    }
}

/// A table while the document is read: tables stay open to later headers and dotted keys until
/// the whole document is read, then become ``TOMLTable`` values.
private final class OpenTable {
    /// How the table came to be, which decides what may still add to it.
    enum Origin {
        /// Named on the way to another table (`a` of `[a.b]`): a `[a]` header may still define it.
        case implicit
        /// Defined by a `[header]` or as an element of an array of tables.
        case header
        /// Made by dotted keys (`a.b = 1` makes `a`): more dotted keys may add to it, a header not.
        case dottedKeys
    }

    enum Entry {
        case value(TOMLValue)
        case table(OpenTable)
        /// An array of tables (`[[name]]`), which later `[[name]]` headers extend in place.
        case tables(OpenTableArray)
    }

    var origin: Origin
    /// Where the table begins; a `[header]` that defines an implicit table moves it there.
    var line: Int
    private var index = KeyIndex()
    private var entries: [Entry] = []
    private var lines: [Int] = []

    init(_ origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    subscript(key: String) -> Entry? {
        index.position(of: key).map { entries[$0] }
    }

    /// Adds an entry under a key the table does not have yet, set on `line`.
    func add(_ key: String, _ entry: Entry, line: Int) {
        index.append(key)
        entries.append(entry)
        lines.append(line)
    }

    var value: TOMLTable {
        var table = TOMLTable()
        table.line = line
        for (position, key) in index.keys.enumerated() {
            let line = lines[position]
            switch entries[position] {
            case .value(let value): table.append(key, value, line: line)
            case .table(let open): table.append(key, .table(open.value), line: open.line)
            case .tables(let open): table.append(key, .array(open.elements.map { .table($0.value) }), line: line)
            }
        }
        return table
    }
}

/// The elements of an array of tables so far.
private final class OpenTableArray {
    var elements: [OpenTable]

    init(_ first: OpenTable) { elements = [first] }
}

private struct TOMLParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var line = 1
    var lineStart = 0
    /// How many arrays and inline tables enclose the value being read.
    var depth = 0
    /// Deeper nesting (and longer dotted keys) are refused rather than read by ever deeper
    /// recursion (a file of a million `[` would otherwise overflow the stack).
    static let maximumDepth = 100

    /// A place in the document, for a mistake found after reading past it.
    struct Mark {
        var index: Int
        var line: Int
        var lineStart: Int
    }

    var mark: Mark { Mark(index: index, line: line, lineStart: lineStart) }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {  // a byte order mark, before the first column
            index = 3
            lineStart = 3
        }
    }

    // MARK: The document

    mutating func document() throws(TOMLSyntaxError) -> TOMLTable {
        let root = OpenTable(.header, line: 1)
        var current = root
        while true {
            skipBlanks()
            guard let byte = peek() else { break }
            switch byte {
            case ascii("\n"), ascii("\r"):
                try newline()
                continue
            case ascii("#"):
                break
            case ascii("["):
                current = try header(root: root)
            default:
                try keyValue(into: current)
            }
            try endOfLine()
        }
        return root.value
    }

    /// `[a.b]` or `[[a.b]]`: returns the table that the following keys fill.
    private mutating func header(root: OpenTable) throws(TOMLSyntaxError) -> OpenTable {
        let start = mark
        index += 1
        let isArray = peek() == ascii("[")
        if isArray { index += 1 }
        skipBlanks()
        let path = try key()
        skipBlanks()
        try expect("]", "expected \"]\" at the end of the table header")
        if isArray { try expect("]", "expected \"]]\" at the end of the array-of-tables header") }
        var name: String { path.joined(separator: ".") }
        var table = root
        for (position, key) in path.enumerated() {
            let isLast = position == path.count - 1
            switch table[key] {
            case nil:
                if isLast && isArray {
                    let element = OpenTable(.header, line: start.line)
                    table.add(key, .tables(OpenTableArray(element)), line: start.line)
                    return element
                }
                let created = OpenTable(isLast ? .header : .implicit, line: start.line)
                table.add(key, .table(created), line: start.line)
                table = created
            case .table(let existing):
                if isLast {
                    guard !isArray, existing.origin == .implicit else {
                        throw error(at: start, "[\(name)] is defined twice")
                    }
                    existing.origin = .header
                    existing.line = start.line
                }
                table = existing
            case .tables(let array):
                if isLast {
                    guard isArray else {
                        throw error(at: start, "[\(name)] is already an array of tables ([[\(name)]])")
                    }
                    let element = OpenTable(.header, line: start.line)
                    array.elements.append(element)
                    return element
                }
                table = array.elements[array.elements.count - 1]
            case .value:
                throw error(at: start, "[\(name)]: \"\(path[...position].joined(separator: "."))\" is already a value")
            }
        }
        return table
    }

    /// `key = value`, into `table` (the current table, or an inline table being read).
    private mutating func keyValue(into table: OpenTable) throws(TOMLSyntaxError) {
        let start = mark
        let path = try key()
        skipBlanks()
        try expect("=", "expected \"=\" after the key \"\(path.joined(separator: "."))\"")
        skipBlanks()
        let value = try value()
        var target = table
        for (position, key) in path.dropLast().enumerated() {
            switch target[key] {
            case nil:
                let created = OpenTable(.dottedKeys, line: start.line)
                target.add(key, .table(created), line: start.line)
                target = created
            case .table(let existing) where existing.origin != .header:
                existing.origin = .dottedKeys
                target = existing
            default:
                let prefix = path[...position].joined(separator: ".")
                throw error(at: start, "\"\(path.joined(separator: "."))\": \"\(prefix)\" is already defined elsewhere")
            }
        }
        let last = path[path.count - 1]
        guard target[last] == nil else {
            throw error(at: start, "the key \"\(path.joined(separator: "."))\" is defined twice")
        }
        target.add(last, .value(value), line: start.line)
    }

    /// After a statement: blanks, a comment, then the end of the line or of the document.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipBlanks()
        if peek() == ascii("#") { try comment() }
        guard let byte = peek() else { return }
        guard byte == ascii("\n") || byte == ascii("\r") else {
            throw error(at: index, "expected the end of the line, found \(describe(at: index))")
        }
        try newline()
    }

    // MARK: Keys

    /// A dotted key: `a`, `a.b`, `"quoted key".'literal'`.
    private mutating func key() throws(TOMLSyntaxError) -> [String] {
        var path = [try simpleKey()]
        while true {
            let save = index
            skipBlanks()
            guard peek() == ascii(".") else {
                index = save
                return path
            }
            index += 1
            skipBlanks()
            // Each part is a table: the same bound as for nesting, for the same reason.
            guard path.count < Self.maximumDepth else {
                throw error(at: index, "a key of more than \(Self.maximumDepth) dotted parts")
            }
            path.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws(TOMLSyntaxError) -> String {
        switch peek() {
        case ascii("\""): return try basicString()
        case ascii("'"): return try literalString()
        default:
            let start = index
            while let byte = peek(), isBareKeyByte(byte) { index += 1 }
            guard index > start else { throw error(at: index, "expected a key, found \(describe(at: index))") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }

    // MARK: Values

    private mutating func value() throws(TOMLSyntaxError) -> TOMLValue {
        guard let byte = peek() else { throw error(at: index, "expected a value, found the end of the document") }
        if byte == ascii("[") || byte == ascii("{") {
            guard depth < Self.maximumDepth else {
                throw error(at: index, "arrays and inline tables nested more than \(Self.maximumDepth) deep")
            }
            depth += 1
        }
        defer { if byte == ascii("[") || byte == ascii("{") { depth -= 1 } }
        switch byte {
        case ascii("\""):
            return .string(try startsWith("\"\"\"") ? multilineString(quote: byte) : basicString())
        case ascii("'"):
            return .string(try startsWith("'''") ? multilineString(quote: byte) : literalString())
        case ascii("["): return try array()
        case ascii("{"): return try inlineTable()
        case ascii("t"), ascii("f"):
            let value = byte == ascii("t")
            let length = value ? 4 : 5
            let end = index + length
            guard startsWith(value ? "true" : "false"), end == bytes.count || !isBareKeyByte(bytes[end]) else {
                throw error(at: index, "expected a value, found \(describe(at: index))")
            }
            index = end
            return .boolean(value)
        default:
            return try numberOrDate()
        }
    }

    private mutating func array() throws(TOMLSyntaxError) -> TOMLValue {
        index += 1
        var elements: [TOMLValue] = []
        while true {
            try skipBlanksNewlinesAndComments()
            if peek() == ascii("]") {
                index += 1
                return .array(elements)
            }
            elements.append(try value())
            try skipBlanksNewlinesAndComments()
            switch peek() {
            case ascii(","): index += 1
            case ascii("]"):
                index += 1
                return .array(elements)
            default: throw error(at: index, "expected \",\" or \"]\" in the array, found \(describe(at: index))")
            }
        }
    }

    /// `{ a = 1, b.c = 2 }`: on one line, no comma after the last value; complete once read.
    private mutating func inlineTable() throws(TOMLSyntaxError) -> TOMLValue {
        index += 1
        let table = OpenTable(.header, line: line)
        skipBlanks()
        if peek() == ascii("}") {
            index += 1
            return .table(table.value)
        }
        while true {
            skipBlanks()
            try keyValue(into: table)
            skipBlanks()
            switch peek() {
            case ascii(","): index += 1
            case ascii("}"):
                index += 1
                return .table(table.value)
            default:
                throw error(at: index, "expected \",\" or \"}\" in the inline table, found \(describe(at: index))")
            }
        }
    }

    // MARK: Strings

    private mutating func basicString() throws(TOMLSyntaxError) -> String {
        index += 1
        // Most strings have no escape: they are copied in one piece.
        let start = index
        while let byte = peek(), byte != ascii("\""), byte != ascii("\\"), byte >= 0x20 || byte == ascii("\t"),
            byte != 0x7F
        {
            index += 1
        }
        if peek() == ascii("\"") {
            index += 1
            return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
        }
        var text = Array(bytes[start..<index])
        while true {
            guard let byte = peek(), byte != ascii("\n"), byte != ascii("\r") else {
                throw error(at: index, "unterminated string (a \" string ends on its line; use \"\"\" for several)")
            }
            switch byte {
            case ascii("\""):
                index += 1
                return String(decoding: text, as: UTF8.self)
            case ascii("\\"):
                try escape(into: &text)
            default:
                try checkAllowed(byte)
                text.append(byte)
                index += 1
            }
        }
    }

    private mutating func literalString() throws(TOMLSyntaxError) -> String {
        index += 1
        let start = index
        while true {
            guard let byte = peek(), byte != ascii("\n"), byte != ascii("\r") else {
                throw error(at: index, "unterminated string (a ' string ends on its line; use ''' for several)")
            }
            if byte == ascii("'") {
                defer { index += 1 }
                return String(decoding: bytes[start..<index], as: UTF8.self)
            }
            try checkAllowed(byte)
            index += 1
        }
    }

    /// A `"""` string (escapes resolved) or a `'''` string (no escapes): newlines are kept as
    /// `\n`, except one right after the opening delimiter.
    private mutating func multilineString(quote: UInt8) throws(TOMLSyntaxError) -> String {
        let escapes = quote == ascii("\"")
        index += 3
        try skipFirstNewline()
        var text: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error(at: index, "unterminated \(escapes ? "\"\"\"" : "'''") string")
            }
            switch byte {
            case quote:
                if let quotes = try closingQuotes(quote) {
                    text.append(contentsOf: repeatElement(quote, count: quotes))
                    return String(decoding: text, as: UTF8.self)
                }
                text.append(byte)
                index += 1
            case ascii("\\") where escapes:
                if try lineEndingBackslash() { continue }
                try escape(into: &text)
            case ascii("\n"), ascii("\r"):
                try newline()
                text.append(ascii("\n"))
            default:
                try checkAllowed(byte)
                text.append(byte)
                index += 1
            }
        }
    }

    /// At a quote inside a multi-line string: when three or more quotes close it, consumes them
    /// and returns how many belong to the content (up to two); nil for quotes inside the content.
    private mutating func closingQuotes(_ quote: UInt8) throws(TOMLSyntaxError) -> Int? {
        var count = 0
        while index + count < bytes.count && bytes[index + count] == quote { count += 1 }
        guard count >= 3 else { return nil }
        guard count <= 5 else { throw error(at: index + 5, "too many quotes at the end of a multi-line string") }
        index += count
        return count - 3
    }

    /// A newline right after the opening delimiter of a multi-line string is not part of it.
    private mutating func skipFirstNewline() throws(TOMLSyntaxError) {
        if peek() == ascii("\n") || peek() == ascii("\r") { try newline() }
    }

    /// `\` at the end of a line in a `"""` string: it, the newline and the blanks and newlines
    /// after it are left out. Returns false when the backslash starts an ordinary escape.
    private mutating func lineEndingBackslash() throws(TOMLSyntaxError) -> Bool {
        var probe = index + 1
        while probe < bytes.count && (bytes[probe] == ascii(" ") || bytes[probe] == ascii("\t")) { probe += 1 }
        guard probe < bytes.count, bytes[probe] == ascii("\n") || bytes[probe] == ascii("\r") else { return false }
        index = probe
        while let byte = peek() {
            if byte == ascii(" ") || byte == ascii("\t") {
                index += 1
            } else if byte == ascii("\n") || byte == ascii("\r") {
                try newline()
            } else {
                break
            }
        }
        return true
    }

    private mutating func escape(into text: inout [UInt8]) throws(TOMLSyntaxError) {
        let start = index
        index += 1
        guard let byte = peek() else { throw error(at: start, "unterminated string") }
        index += 1
        let simple: UInt8? =
            switch byte {
            case ascii("b"): 0x08
            case ascii("t"): 0x09
            case ascii("n"): 0x0A
            case ascii("f"): 0x0C
            case ascii("r"): 0x0D
            case ascii("\""): ascii("\"")
            case ascii("\\"): ascii("\\")
            default: nil
            }
        if let simple {
            text.append(simple)
            return
        }
        let digits = byte == ascii("u") ? 4 : byte == ascii("U") ? 8 : 0
        guard digits > 0 else { throw error(at: start, "unknown escape \\\(describeByte(byte))") }
        guard index + digits <= bytes.count, bytes[index..<index + digits].allSatisfy(isHexDigit),
            let code = UInt32(String(decoding: bytes[index..<index + digits], as: UTF8.self), radix: 16),
            let scalar = Unicode.Scalar(code)
        else {
            throw error(at: start, "\\\(describeByte(byte)) needs \(digits) hex digits of a Unicode scalar value")
        }
        index += digits
        text.append(contentsOf: String(Character(scalar)).utf8)
    }

    /// Control characters other than tab may not appear raw in strings and comments.
    @inline(__always)
    private func checkAllowed(_ byte: UInt8) throws(TOMLSyntaxError) {
        if (byte < 0x20 && byte != ascii("\t")) || byte == 0x7F {
            throw error(at: index, "control character U+\(String(byte, radix: 16, uppercase: true)) must be escaped")
        }
    }

    // MARK: Numbers, dates and times

    private mutating func numberOrDate() throws(TOMLSyntaxError) -> TOMLValue {
        let start = index
        while let byte = peek(), isValueByte(byte) { index += 1 }
        // A date and a time may be separated by a space: `1979-05-27 07:32:00Z`.
        if index - start == 10, peek() == ascii(" "), index + 3 < bytes.count, isDigit(bytes[index + 1]),
            isDigit(bytes[index + 2]), bytes[index + 3] == ascii(":")
        {
            index += 1
            while let byte = peek(), isValueByte(byte) { index += 1 }
        }
        guard index > start else { throw error(at: start, "expected a value, found \(describe(at: start))") }
        let token = Array(bytes[start..<index])
        if token.count >= 5, token[0..<4].allSatisfy(isDigit), token[4] == ascii("-") {
            guard let text = DateTimeText.normalized(token) else {
                throw error(at: start, "not a valid date or date-time: \(String(decoding: token, as: UTF8.self))")
            }
            return .dateTime(text)
        }
        if token.count >= 3, isDigit(token[0]), isDigit(token[1]), token[2] == ascii(":") {
            guard let text = DateTimeText.normalizedTime(token[...]) else {
                throw error(at: start, "not a valid time: \(String(decoding: token, as: UTF8.self))")
            }
            return .dateTime(text)
        }
        guard let number = NumberText.value(token) else {
            throw error(at: start, "not a valid value: \(String(decoding: token, as: UTF8.self))")
        }
        return number
    }

    // MARK: Blanks, newlines, comments

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private func startsWith(_ text: String) -> Bool {
        var probe = index
        for byte in text.utf8 {
            guard probe < bytes.count, bytes[probe] == byte else { return false }
            probe += 1
        }
        return true
    }

    private mutating func expect(_ character: Unicode.Scalar, _ message: @autoclosure () -> String)
        throws(TOMLSyntaxError)
    {
        guard peek() == UInt8(character.value) else {
            throw error(at: index, "\(message()), found \(describe(at: index))")
        }
        index += 1
    }

    private mutating func skipBlanks() {
        while let byte = peek(), byte == ascii(" ") || byte == ascii("\t") { index += 1 }
    }

    private mutating func skipBlanksNewlinesAndComments() throws(TOMLSyntaxError) {
        while let byte = peek() {
            switch byte {
            case ascii(" "), ascii("\t"): index += 1
            case ascii("\n"), ascii("\r"): try newline()
            case ascii("#"): try comment()
            default: return
            }
        }
    }

    /// From `#` to the end of the line (the newline itself is left).
    private mutating func comment() throws(TOMLSyntaxError) {
        while let byte = peek(), byte != ascii("\n"), byte != ascii("\r") {
            try checkAllowed(byte)
            index += 1
        }
    }

    /// `\n` or `\r\n`; a lone `\r` is a mistake.
    private mutating func newline() throws(TOMLSyntaxError) {
        if peek() == ascii("\r") {
            guard index + 1 < bytes.count, bytes[index + 1] == ascii("\n") else {
                throw error(at: index, "a carriage return must be followed by a line feed")
            }
            index += 1
        }
        index += 1
        line += 1
        lineStart = index
    }

    // MARK: Errors

    /// A mistake at `position` on the current line; the column is counted in characters.
    private func error(at position: Int, _ message: String) -> TOMLSyntaxError {
        error(at: Mark(index: position, line: line, lineStart: min(lineStart, position)), message)
    }

    private func error(at mark: Mark, _ message: String) -> TOMLSyntaxError {
        let column = String(decoding: bytes[mark.lineStart..<mark.index], as: UTF8.self).count + 1
        return TOMLSyntaxError(line: mark.line, column: column, message: message)
    }

    private func describe(at position: Int) -> String {
        guard position < bytes.count else { return "the end of the document" }
        return describeByte(bytes[position])
    }

    private func describeByte(_ byte: UInt8) -> String {
        switch byte {
        case ascii("\n"), ascii("\r"): "the end of the line"
        case 0x21...0x7E: "\"\(Character(Unicode.Scalar(byte)))\""
        default: "a byte 0x\(String(byte, radix: 16, uppercase: true))"
        }
    }
}

// MARK: Byte classes

private func ascii(_ scalar: Unicode.Scalar) -> UInt8 { UInt8(scalar.value) }

private func isDigit(_ byte: UInt8) -> Bool { byte >= ascii("0") && byte <= ascii("9") }

private func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte | 0x20 >= ascii("a") && byte | 0x20 <= ascii("f"))
}

private func isBareKeyByte(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte | 0x20 >= ascii("a") && byte | 0x20 <= ascii("z")) || byte == ascii("_")
        || byte == ascii("-")
}

/// What a number, date or time may be made of.
private func isValueByte(_ byte: UInt8) -> Bool {
    isBareKeyByte(byte) || byte == ascii("+") || byte == ascii(".") || byte == ascii(":")
}

/// Integers and floats as TOML writes them.
private enum NumberText {
    static func value(_ token: [UInt8]) -> TOMLValue? {
        var body = token[...]
        var negative = false
        if let sign = body.first, sign == ascii("+") || sign == ascii("-") {
            negative = sign == ascii("-")
            body = body.dropFirst()
        }
        let text = String(decoding: body, as: UTF8.self)
        switch text {
        case "inf": return .float(negative ? -.infinity : .infinity)
        case "nan": return .float(negative ? -.nan : .nan)
        default: break
        }
        if body.count > 2, body.first == ascii("0"), let radix = radix(body[body.startIndex + 1]) {
            // 0x, 0o, 0b: no sign allowed.
            guard body.count == token.count, let digits = digits(body.dropFirst(2), radix: radix),
                let value = Int64(digits, radix: radix)
            else { return nil }
            return .integer(value)
        }
        // [int] [. digits] [e [+-] digits]
        var parts = body
        let exponentAt = parts.firstIndex { $0 == ascii("e") || $0 == ascii("E") }
        var exponent: String?
        if let exponentAt {
            var tail = parts[(exponentAt + 1)...]
            var sign = ""
            if let first = tail.first, first == ascii("+") || first == ascii("-") {
                sign = String(Character(Unicode.Scalar(first)))
                tail = tail.dropFirst()
            }
            guard let digits = digits(tail, radix: 10) else { return nil }
            exponent = sign + digits
            parts = parts[..<exponentAt]
        }
        var fraction: String?
        if let dot = parts.firstIndex(of: ascii(".")) {
            guard let digits = digits(parts[(dot + 1)...], radix: 10) else { return nil }
            fraction = digits
            parts = parts[..<dot]
        }
        guard let integer = digits(parts, radix: 10), integer == "0" || !integer.hasPrefix("0") else { return nil }
        let sign = negative ? "-" : ""
        if fraction == nil && exponent == nil {
            return Int64(sign + integer).map(TOMLValue.integer)
        }
        var literal = sign + integer
        if let fraction { literal += "." + fraction }
        if let exponent { literal += "e" + exponent }
        return Double(literal).map(TOMLValue.float)
    }

    private static func radix(_ byte: UInt8) -> Int? {
        switch byte {
        case ascii("x"): 16
        case ascii("o"): 8
        case ascii("b"): 2
        default: nil
        }
    }

    /// The digits of `text` in `radix` without their `_` separators, each of which must stand
    /// between two digits; nil for anything else (or no digits).
    private static func digits(_ text: ArraySlice<UInt8>, radix: Int) -> String? {
        var result = ""
        var previousWasDigit = false
        for byte in text {
            if byte == ascii("_") {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
                continue
            }
            let digit: Int =
                switch byte {
                case ascii("0")...ascii("9"): Int(byte - ascii("0"))
                case ascii("a")...ascii("f"): Int(byte - ascii("a")) + 10
                case ascii("A")...ascii("F"): Int(byte - ascii("A")) + 10
                default: radix
                }
            guard digit < radix else { return nil }
            result.unicodeScalars.append(Unicode.Scalar(byte))
            previousWasDigit = true
        }
        return previousWasDigit ? result : nil
    }
}

/// Dates and times as RFC 3339 writes them (TOML's four kinds), checked and normalized.
private enum DateTimeText {
    /// `YYYY-MM-DD`, optionally followed by `T` (or `t`, or a space) and a time with an optional
    /// offset (`Z`, `z`, `+HH:MM`, `-HH:MM`).
    static func normalized(_ token: [UInt8]) -> String? {
        guard token.count >= 10 else { return nil }
        let date = token[0..<10]
        guard number(date, 0, 4) != nil, date[4] == ascii("-"), let month = number(date, 5, 2), date[7] == ascii("-"),
            let day = number(date, 8, 2), let year = number(date, 0, 4), (1...12).contains(month),
            day >= 1, day <= days(inMonth: month, year: year)
        else { return nil }
        var text = String(decoding: date, as: UTF8.self)
        guard token.count > 10 else { return text }
        guard [ascii("T"), ascii("t"), ascii(" ")].contains(token[10]) else { return nil }
        var rest = token[11...]
        var offset = ""
        if let last = rest.last, last == ascii("Z") || last == ascii("z") {
            offset = "Z"
            rest = rest.dropLast()
        } else if rest.count > 6 {
            let sign = rest[rest.endIndex - 6]
            if sign == ascii("+") || sign == ascii("-") {
                let zone = rest[(rest.endIndex - 5)...]
                guard let hours = number(zone, 0, 2), zone[zone.startIndex + 2] == ascii(":"),
                    let minutes = number(zone, 3, 2), hours < 24, minutes < 60
                else { return nil }
                offset = String(decoding: rest[(rest.endIndex - 6)...], as: UTF8.self)
                rest = rest[..<(rest.endIndex - 6)]
            }
        }
        guard let time = normalizedTime(rest) else { return nil }
        text += "T" + time + offset
        return text
    }

    /// `HH:MM:SS` with optional fractional seconds.
    static func normalizedTime(_ token: ArraySlice<UInt8>) -> String? {
        guard token.count >= 8, let hour = number(token, 0, 2), token[token.startIndex + 2] == ascii(":"),
            let minute = number(token, 3, 2), token[token.startIndex + 5] == ascii(":"),
            let second = number(token, 6, 2), hour < 24, minute < 60, second < 60
        else { return nil }
        if token.count > 8 {
            let fraction = token[(token.startIndex + 8)...]
            guard fraction.first == ascii("."), fraction.count > 1, fraction.dropFirst().allSatisfy(isDigit) else {
                return nil
            }
        }
        return String(decoding: token, as: UTF8.self)
    }

    private static func number(_ text: ArraySlice<UInt8>, _ offset: Int, _ count: Int) -> Int? {
        let start = text.startIndex + offset
        guard start + count <= text.endIndex else { return nil }
        var value = 0
        for byte in text[start..<(start + count)] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - ascii("0"))
        }
        return value
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

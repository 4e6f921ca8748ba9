import Foundation

/// Finds the line on which a key or table of a TOML document is written.
///
/// The parsed tables carry no line numbers, so this reads the text once and records,
/// for each key path (`daemon.poll_interval`, `source[2].url`, `source[0].html.item`), the line
/// that sets it. Arrays of tables are numbered from 0 in file order, as the decoded arrays are.
struct TOMLKeyLocator {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var tablePath = ""
        var arrayCounts: [String: Int] = [:]
        var inMultilineString: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if let delimiter = inMultilineString {
                if line.contains(delimiter) { inMultilineString = nil }
                continue
            }
            if line.hasPrefix("[[") {
                let name = Self.keyPath(line.dropFirst(2).prefix { $0 != "]" })
                let count = arrayCounts[name, default: 0]
                arrayCounts[name] = count + 1
                tablePath = "\(name)[\(count)]"
                record(tablePath, lineNumber)
            } else if line.hasPrefix("[") {
                let name = Self.keyPath(line.dropFirst().prefix { $0 != "]" })
                // A sub-table of an array of tables belongs to its latest element.
                let first = name.split(separator: ".").first.map(String.init) ?? name
                if let count = arrayCounts[first] {
                    tablePath = "\(first)[\(count - 1)]" + name.dropFirst(first.count)
                } else {
                    tablePath = name
                }
                record(tablePath, lineNumber)
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = Self.keyPath(line[..<equals])
                guard !key.isEmpty else { continue }
                var path = tablePath.isEmpty ? "" : tablePath + "."
                for part in key.split(separator: ".") {
                    path += part
                    record(path, lineNumber)
                    path += "."
                }
                let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                    if !value.dropFirst(3).contains(delimiter) { inMultilineString = delimiter }
                }
            }
        }
    }

    /// The line that sets `path`, or nil when the document does not spell it out.
    func line(of path: String) -> Int? { lines[path] }

    private mutating func record(_ path: String, _ line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    /// `a . "b"` → `a.b`: the key path as the parsed tables name it.
    private static func keyPath(_ raw: Substring) -> String {
        raw.split(separator: ".")
            .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
            .joined(separator: ".")
    }
}

import Foundation

/// The normalized feed JSON of DESIGN.md §5, one object per line, every key always present.
public enum FeedJSON {
    /// The line for a parsed document (without a newline).
    public static func line(for feed: ParsedFeed, file: String) -> String {
        var bytes: [UInt8] = []
        append(feed, file: file, to: &bytes)
        bytes.removeLast()
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the line for a parsed document, and a newline, to `output`: what `exportwatch parse`
    /// writes, without building a `String` of it first.
    public static func append(_ feed: ParsedFeed, file: String, to output: inout [UInt8]) {
        var out = Writer(bytes: output)
        output = []
        out.open()
        out.key("file", file)
        out.key("format", feed.format.rawValue)
        out.key("id", feed.id)
        out.key("title", feed.title)
        out.key("link", feed.link)
        out.key("feed_link", feed.feedLink)
        out.key("links", feed.links)
        out.key("description", feed.description)
        out.key("language", feed.language)
        out.key("updated", feed.updated?.rfc3339)
        out.key("published", feed.published?.rfc3339)
        out.key("authors", feed.authors)
        out.key("categories", feed.categories)
        out.key("generator", feed.generator)
        out.key("rights", feed.rights)
        out.key("image", feed.image)
        out.key("items")
        out.raw(UInt8(ascii: "["))
        for (index, item) in feed.items.enumerated() {
            if index > 0 { out.raw(UInt8(ascii: ",")) }
            out.open()
            out.key("id", item.id)
            out.key("title", item.title)
            out.key("link", item.link)
            out.key("links", item.links)
            out.key("summary", item.summary)
            out.key("content", item.content)
            out.key("published", item.published?.rfc3339)
            out.key("updated", item.updated?.rfc3339)
            out.key("authors", item.authors)
            out.key("categories", item.categories)
            out.key("enclosures")
            out.raw(UInt8(ascii: "["))
            for (position, enclosure) in item.enclosures.enumerated() {
                if position > 0 { out.raw(UInt8(ascii: ",")) }
                out.open()
                out.key("url", enclosure.url)
                out.key("type", enclosure.type)
                out.key("length", integer: enclosure.length)
                out.close()
            }
            out.raw(UInt8(ascii: "]"))
            out.close()
        }
        out.raw(UInt8(ascii: "]"))
        out.key("warnings", feed.warnings)
        out.close()
        out.raw(UInt8(ascii: "\n"))
        output = out.bytes
    }

    /// The line for a document that holds no feed.
    public static func errorLine(file: String, error: String) -> String {
        var out = Writer(bytes: [])
        out.open()
        out.key("file", file)
        out.key("error", error)
        out.close()
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// A minimal JSON writer: keys in the order written, non-ASCII text kept as UTF-8. A value with
    /// plain mutating methods, so that writing costs no reference counting or exclusivity checks.
    private struct Writer {
        var bytes: [UInt8]
        /// Whether the next key needs a comma before it.
        private var afterValue = false

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func raw(_ byte: UInt8) {
            bytes.append(byte)
            afterValue = byte != UInt8(ascii: "[") && byte != UInt8(ascii: "{")
        }

        mutating func open() {
            bytes.append(UInt8(ascii: "{"))
            afterValue = false
        }

        mutating func close() {
            bytes.append(UInt8(ascii: "}"))
            afterValue = true
        }

        mutating func key(_ name: StaticString) {
            if afterValue { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
            afterValue = false
        }

        mutating func key(_ name: StaticString, _ value: String?) {
            key(name)
            if let value { string(value) } else { bytes.append(contentsOf: "null".utf8) }
            afterValue = true
        }

        mutating func key(_ name: StaticString, integer value: Int?) {
            key(name)
            bytes.append(contentsOf: (value.map(String.init) ?? "null").utf8)
            afterValue = true
        }

        mutating func key(_ name: StaticString, _ values: [String]) {
            key(name)
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(value)
            }
            bytes.append(UInt8(ascii: "]"))
            afterValue = true
        }

        mutating func key(_ name: StaticString, _ links: [Link]) {
            key(name)
            bytes.append(UInt8(ascii: "["))
            for (index, link) in links.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                open()
                key("rel", link.rel)
                key("type", link.type)
                key("href", link.href)
                close()
            }
            bytes.append(UInt8(ascii: "]"))
            afterValue = true
        }

        mutating func key(_ name: StaticString, _ people: [Person]) {
            key(name)
            bytes.append(UInt8(ascii: "["))
            for (index, person) in people.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                open()
                key("name", person.name)
                key("email", person.email)
                key("uri", person.uri)
                close()
            }
            bytes.append(UInt8(ascii: "]"))
            afterValue = true
        }

        mutating func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            if value.utf8.withContiguousStorageIfAvailable({ append(escaping: $0) }) == nil {
                Array(value.utf8).withUnsafeBufferPointer { append(escaping: $0) }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        /// Whether any of the eight bytes at `word` is below 0x20, `"` or `\\` (SWAR: a byte-wise
        /// subtraction borrows into a byte's top bit only where that byte was smaller).
        private static func needsEscape(_ word: UnsafeRawPointer) -> Bool {
            let bytes = word.loadUnaligned(as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & high != 0 }
            let control = (bytes &- ones &* 0x20) & ~bytes & high != 0
            return control || hasZeroByte(bytes ^ (ones &* 0x22)) || hasZeroByte(bytes ^ (ones &* 0x5C))
        }

        /// Appends UTF-8 text, escaping what JSON requires, copying unescaped runs in one go.
        private mutating func append(escaping utf8: UnsafeBufferPointer<UInt8>) {
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
                // Eight bytes at a time while none is a control character, `"` or `\\`.
                if index + 8 <= count, !Self.needsEscape(UnsafeRawPointer(utf8.baseAddress! + index)) {
                    index += 8
                    continue
                }
                let byte = utf8[index]
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                    index += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                bytes.append(0x5C)
                switch byte {
                case 0x22, 0x5C: bytes.append(byte)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(hex.utf8Start[Int(byte >> 4)])
                    bytes.append(hex.utf8Start[Int(byte & 0xF)])
                }
                index += 1
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
    }
}

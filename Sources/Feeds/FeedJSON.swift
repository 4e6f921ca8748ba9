import Foundation

/// The normalized feed JSON of DESIGN.md §5, one object per line, every key always present.
public enum FeedJSON {
    /// The line for a parsed document (without a newline).
    public static func line(for feed: ParsedFeed, file: String) -> String {
        var bytes: [UInt8] = []
        append(feed, file: file, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the line for a parsed document, and a newline, to `output`: what `exportwatch parse`
    /// writes, without building a `String` of it first.
    public static func append(_ feed: ParsedFeed, file: String, to output: inout [UInt8]) {
        let out = Writer(output: output)
        output = []
        defer {
            out.bytes.append(UInt8(ascii: "\n"))
            output = out.bytes
        }
        out.open()
        out.key("file", string: file)
        out.key("format", string: feed.format.rawValue)
        out.key("id", string: feed.id)
        out.key("title", string: feed.title)
        out.key("link", string: feed.link)
        out.key("feed_link", string: feed.feedLink)
        out.key("links") { out.links(feed.links) }
        out.key("description", string: feed.description)
        out.key("language", string: feed.language)
        out.key("updated", string: feed.updated?.rfc3339)
        out.key("published", string: feed.published?.rfc3339)
        out.key("authors") { out.people(feed.authors) }
        out.key("categories") { out.strings(feed.categories) }
        out.key("generator", string: feed.generator)
        out.key("rights", string: feed.rights)
        out.key("image", string: feed.image)
        out.key("items") {
            out.array(feed.items) { item in
                out.open()
                out.key("id", string: item.id)
                out.key("title", string: item.title)
                out.key("link", string: item.link)
                out.key("links") { out.links(item.links) }
                out.key("summary", string: item.summary)
                out.key("content", string: item.content)
                out.key("published", string: item.published?.rfc3339)
                out.key("updated", string: item.updated?.rfc3339)
                out.key("authors") { out.people(item.authors) }
                out.key("categories") { out.strings(item.categories) }
                out.key("enclosures") {
                    out.array(item.enclosures) { enclosure in
                        out.open()
                        out.key("url", string: enclosure.url)
                        out.key("type", string: enclosure.type)
                        out.key("length", integer: enclosure.length)
                        out.close()
                    }
                }
                out.close()
            }
        }
        out.key("warnings") { out.strings(feed.warnings) }
        out.close()
    }

    /// The line for a document that holds no feed.
    public static func errorLine(file: String, error: String) -> String {
        let out = Writer(output: [])
        out.open()
        out.key("file", string: file)
        out.key("error", string: error)
        out.close()
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// A minimal JSON writer: keys in the order written, non-ASCII text kept as UTF-8. A class, so that
    /// the nested closures that write arrays can share it.
    private final class Writer {
        var bytes: [UInt8]
        private var needsComma = false

        init(output: [UInt8]) { bytes = output }

        func open() {
            bytes.append(UInt8(ascii: "{"))
            needsComma = false
        }

        func close() {
            bytes.append(UInt8(ascii: "}"))
            needsComma = true
        }

        func key(_ name: StaticString, string value: String?) {
            key(name)
            if let value { string(value) } else { bytes += Array("null".utf8) }
            needsComma = true
        }

        func key(_ name: StaticString, integer value: Int?) {
            key(name)
            bytes += Array((value.map(String.init) ?? "null").utf8)
            needsComma = true
        }

        func key(_ name: StaticString, _ body: () -> Void) {
            key(name)
            body()
            needsComma = true
        }

        private func key(_ name: StaticString) {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        func array<T>(_ values: [T], _ element: (T) -> Void) {
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                element(value)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        func strings(_ values: [String]) {
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(value)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        func links(_ links: [Link]) {
            bytes.append(UInt8(ascii: "["))
            for (index, link) in links.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                open()
                key("rel", string: link.rel)
                key("type", string: link.type)
                key("href", string: link.href)
                close()
            }
            bytes.append(UInt8(ascii: "]"))
        }

        func people(_ people: [Person]) {
            bytes.append(UInt8(ascii: "["))
            for (index, person) in people.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                open()
                key("name", string: person.name)
                key("email", string: person.email)
                key("uri", string: person.uri)
                close()
            }
            bytes.append(UInt8(ascii: "]"))
        }

        func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            if value.utf8.withContiguousStorageIfAvailable({ append(escaping: $0) }) == nil {
                append(escaping: Array(value.utf8).withUnsafeBufferPointer { $0 })
            }
            bytes.append(UInt8(ascii: "\""))
        }

        /// Appends UTF-8 text, escaping what JSON requires, copying unescaped runs in one go.
        private func append(escaping utf8: UnsafeBufferPointer<UInt8>) {
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
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
                    bytes.removeLast()
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += [
                        0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                        hex[Int(byte & 0xF)],
                    ]
                }
                index += 1
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
    }
}

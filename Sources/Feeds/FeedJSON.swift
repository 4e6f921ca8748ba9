import Foundation

/// The normalized feed JSON of DESIGN.md §5, one object per line, every key always present.
public enum FeedJSON {
    /// The line for a parsed document (without a newline).
    public static func line(for feed: ParsedFeed, file: String) -> String {
        let out = Writer()
        out.open()
        out.key("file", string: file)
        out.key("format", string: feed.format.rawValue)
        out.key("id", string: feed.id)
        out.key("title", string: feed.title)
        out.key("link", string: feed.link?.absoluteString)
        out.key("feed_link", string: feed.feedLink?.absoluteString)
        out.key("links") { out.links(feed.links) }
        out.key("description", string: feed.description)
        out.key("language", string: feed.language)
        out.key("updated", string: feed.updated?.rfc3339)
        out.key("published", string: feed.published?.rfc3339)
        out.key("authors") { out.people(feed.authors) }
        out.key("categories") { out.strings(feed.categories) }
        out.key("generator", string: feed.generator)
        out.key("rights", string: feed.rights)
        out.key("image", string: feed.image?.absoluteString)
        out.key("items") {
            out.array(feed.items) { item in
                out.open()
                out.key("id", string: item.id)
                out.key("title", string: item.title)
                out.key("link", string: item.link?.absoluteString)
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
                        out.key("url", string: enclosure.url.absoluteString)
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
        return out.text
    }

    /// The line for a document that holds no feed.
    public static func errorLine(file: String, error: String) -> String {
        let out = Writer()
        out.open()
        out.key("file", string: file)
        out.key("error", string: error)
        out.close()
        return out.text
    }

    /// A minimal JSON writer: keys in the order written, non-ASCII text kept as UTF-8. A class, so that
    /// the nested closures that write arrays can share it.
    private final class Writer {
        private var bytes: [UInt8] = []
        private var needsComma = false

        var text: String { String(decoding: bytes, as: UTF8.self) }

        func open() {
            bytes.append(UInt8(ascii: "{"))
            needsComma = false
        }

        func close() {
            bytes.append(UInt8(ascii: "}"))
            needsComma = true
        }

        func key(_ name: String, string value: String?) {
            key(name)
            if let value { string(value) } else { bytes += Array("null".utf8) }
            needsComma = true
        }

        func key(_ name: String, integer value: Int?) {
            key(name)
            bytes += Array((value.map(String.init) ?? "null").utf8)
            needsComma = true
        }

        func key(_ name: String, _ body: () -> Void) {
            key(name)
            body()
            needsComma = true
        }

        private func key(_ name: String) {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            string(name)
            bytes.append(UInt8(ascii: ":"))
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
                key("href", string: link.href.absoluteString)
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
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}

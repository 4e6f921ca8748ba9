public import Foundation

/// OPML subscription lists, the format feed readers import and export.
public enum OPML {
    /// One subscription: an `<outline>` with an `xmlUrl`.
    public struct Subscription: Sendable, Equatable {
        /// The outline's `text` (or `title`).
        public var title: String
        /// The feed's URL (`xmlUrl`).
        public var feedURL: String
        /// The site (`htmlUrl`).
        public var siteURL: String?
        /// The enclosing outlines' titles, outermost first (folders in a reader).
        public var folders: [String]

        /// Creates a subscription.
        public init(title: String, feedURL: String, siteURL: String? = nil, folders: [String] = []) {
            self.title = title
            self.feedURL = feedURL
            self.siteURL = siteURL
            self.folders = folders
        }
    }

    /// Why a file is not an OPML list.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Every subscription of an OPML document, in document order, through the same safe SAX parser
    /// as feeds (no network, no entity expansion).
    /// - Throws: ``ReadError`` when the document has no `<opml>` root.
    public static func subscriptions(in data: Data) throws(ReadError) -> [Subscription] {
        let reader = Reader()
        let report = XMLEventParser.parse(data, encoding: nil, handler: reader)
        guard reader.sawRoot else {
            throw ReadError(description: "not an OPML document" + (report.errors.first.map { " (\($0))" } ?? ""))
        }
        return reader.subscriptions
    }

    /// An OPML 2.0 document listing `subscriptions`, with `title` in its head.
    public static func document(title: String, subscriptions: [Subscription]) -> String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<opml version=\"2.0\">",
            "<head><title>\(escape(title))</title></head>", "<body>",
        ]
        for subscription in subscriptions {
            var line = "<outline type=\"rss\" text=\"\(escape(subscription.title))\" "
            line += "title=\"\(escape(subscription.title))\" xmlUrl=\"\(escape(subscription.feedURL))\""
            if let site = subscription.siteURL { line += " htmlUrl=\"\(escape(site))\"" }
            lines.append(line + "/>")
        }
        lines += ["</body>", "</opml>"]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private final class Reader: XMLEventHandler {
        var subscriptions: [Subscription] = []
        var sawRoot = false
        private var folders: [String?] = []

        func startElement(_ name: XMLName, attributes: XMLAttributes) {
            if name.local == "opml" { sawRoot = true }
            guard name.local == "outline" else { return }
            func attribute(_ key: String) -> String? {
                // libxml2 hands attribute values over with character references still in them.
                attributes.first { $0.name.local.lowercased() == key.lowercased() }
                    .map { FeedText.decodeEntities($0.value).trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            let title = attribute("text") ?? attribute("title") ?? ""
            if let feed = attribute("xmlUrl"), !feed.isEmpty {
                subscriptions.append(
                    Subscription(
                        title: title.isEmpty ? feed : title, feedURL: feed, siteURL: attribute("htmlUrl"),
                        folders: folders.compactMap { $0 }))
                folders.append(nil)
            } else {
                folders.append(title.isEmpty ? nil : title)
            }
        }

        func endElement(_ name: XMLName) {
            if name.local == "outline", !folders.isEmpty { folders.removeLast() }
        }

        func characters(_ text: UnsafeBufferPointer<UInt8>) {}
        func undefinedEntity(_ name: String) {}
    }
}

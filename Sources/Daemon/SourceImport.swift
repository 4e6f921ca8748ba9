public import Feeds
import Foundation

/// `sources import-opml` and `export-opml`: a reader's subscription list to `[[source]]` tables
/// and back.
public enum SourceImport {
    /// `[[source]]` tables for the subscriptions of an OPML file, with ids made from their titles
    /// (or hosts) that clash neither with each other nor with the ids of the `existing` sources.
    /// Non-http(s) URLs, and URLs that an existing source or an earlier subscription already has
    /// (a reader's export lists a feed once per folder it is in), are skipped with a comment
    /// saying so.
    public static func toml(for subscriptions: [OPML.Subscription], existing: [SourceSettings]) -> String {
        var used = Set(existing.map(\.id))
        var sourceOfURL = Dictionary(existing.map { ($0.url.absoluteString, $0.id) }) { first, _ in first }
        var text = "# Imported from OPML: \(subscriptions.count) subscriptions.\n"
        for subscription in subscriptions {
            guard let url = URL(string: subscription.feedURL),
                ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            else {
                text +=
                    "\n# skipped \(comment(subscription.title)): \(comment(subscription.feedURL)) is not an http(s) URL\n"
                continue
            }
            // As the configuration will hold it: characters a URL cannot have percent-encoded.
            let address = url.absoluteString
            if let source = sourceOfURL[address] {
                text += "\n# skipped \(comment(subscription.title)): \(address) is source \"\(source)\" already\n"
                continue
            }
            var id = slug(subscription.title)
            if id.isEmpty || id.count < 3 { id = slug(url.host ?? "source") }
            var unique = id
            var counter = 2
            while used.contains(unique) {
                unique = "\(id)-\(counter)"
                counter += 1
            }
            used.insert(unique)
            sourceOfURL[address] = unique
            let folder = subscription.folders.isEmpty ? "" : " (\(subscription.folders.joined(separator: " / ")))"
            text += "\n# \(comment(subscription.title))\(comment(folder))\n"
            text += "[[source]]\nid = \"\(unique)\"\nurl = \"\(escape(address))\"\n"
        }
        return text
    }

    /// The configured feed sources as OPML (HTML pages are left out: feed readers cannot read them).
    public static func opml(for configuration: Configuration) -> String {
        OPML.document(
            title: "exportwatch sources",
            subscriptions: configuration.sources.filter { $0.kind == .feed }.map {
                OPML.Subscription(title: $0.id, feedURL: $0.url.absoluteString)
            })
    }

    /// Lower-case ASCII letters and digits, other runs as one `-`, at most 40 characters.
    static func slug(_ text: String) -> String {
        var slug = ""
        for scalar in text.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return String(slug.prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// `text` fit for a TOML comment: one line, no control characters (which TOML refuses there).
    private static func comment(_ text: String) -> String {
        String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

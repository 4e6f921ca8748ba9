public import Foundation
public import Store

/// `alerts.atom`: an Atom 1.0 feed of the newest relevant stories, so users can follow
/// exportwatch in any feed reader. Entry ids are the stories' ids, stable across rebuilds.
public enum AtomRenderer {
    /// The feed's text; `updated` is the newest entry's time (or `now` when there is none).
    public static func render(_ alerts: [AlertRecord], topicNames: [String: String], now: Date) -> String {
        let updated = alerts.map(\.item.firstSeen).max() ?? now
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <title>exportwatch alerts</title>
            <subtitle>New relevant stories on export controls of AI chips and models</subtitle>
            <id>urn:exportwatch:alerts</id>
            <updated>\(stamp(updated))</updated>
            <author><name>exportwatch</name></author>
            <generator>exportwatch</generator>

            """
        for alert in alerts {
            let item = alert.item
            xml += "<entry>\n"
            xml += "<id>urn:exportwatch:story:\(escape(alert.storyPublicID))</id>\n"
            xml += "<title type=\"text\">\(escape(item.title))</title>\n"
            if let link = item.link, link.hasPrefix("http://") || link.hasPrefix("https://") {
                xml += "<link rel=\"alternate\" href=\"\(escape(link))\"/>\n"
            }
            xml += "<updated>\(stamp(item.firstSeen))</updated>\n"
            if let published = item.published { xml += "<published>\(stamp(published))</published>\n" }
            for topic in item.topics {
                xml +=
                    "<category term=\"\(escape(topic.id))\" label=\"\(escape(topicNames[topic.id] ?? topic.id))\"/>\n"
            }
            var summary = "Sources: \(alert.sources.joined(separator: ", ")). "
            summary +=
                "Topics: "
                + item.topics.map { "\(topicNames[$0.id] ?? $0.id) (\(String(format: "%.2f", $0.score)))" }
                .joined(separator: ", ") + "."
            if !item.identifiers.isEmpty { summary += " Identifiers: \(item.identifiers.joined(separator: ", "))." }
            xml += "<summary type=\"text\">\(escape(summary))</summary>\n"
            xml += "</entry>\n"
        }
        return xml + "</feed>\n"
    }

    static func stamp(_ date: Date) -> String {
        // RFC 3339 in UTC: 2024-05-10T08:00:00Z.
        date.formatted(.iso8601)
    }

    static func escape(_ text: String) -> String { MarkupText.escape(text) }
}

/// Feed text made safe inside HTML and XML text and attribute values: `&`, `<`, `>`, `"` and `'`
/// escaped, and the characters XML 1.0 forbids (control characters other than tab and line
/// breaks, C1 controls, U+FFFE/U+FFFF) replaced by a space.
enum MarkupText {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _
            where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar.value >= 0xFFFE
                    && scalar.value <= 0xFFFF:
                escaped += " "
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}

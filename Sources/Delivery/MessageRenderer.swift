public import Foundation
internal import Store

/// Renders an event into a webhook's format: the event's own JSON, Slack's incoming-webhook
/// `text` + `blocks`, Discord's `content` + `embeds` (within Discord's limits), a Teams message
/// carrying an Adaptive Card, or a user's Mustache template. Feed text is escaped for each
/// format's markup; Chinese text passes through intact.
public enum MessageRenderer {
    /// A rendered request body.
    public struct Rendered: Sendable {
        public var body: Data
        public var contentType: String
    }

    /// Renders `message` (whose JSON is `payload`) for `format`.
    /// - Throws: when a template cannot be rendered or JSON cannot be made.
    public static func render(_ message: DeliveryMessage, payload: Data, format: Webhook.Format) throws -> Rendered {
        switch format {
        case .json:
            return Rendered(body: payload, contentType: "application/json")
        case .slack:
            return try json(slack(Card(message)))
        case .discord:
            return try json(discord(Card(message)))
        case .teams:
            // A Teams webhook refuses a message over 28 KB. Bytes depend on the script and on JSON's
            // escapes, so the card is made smaller until it fits rather than sized ahead.
            let card = Card(message)
            var rendered = try json(teams(card, scale: 1))
            for scale in [0.5, 0.25, 0.1] where rendered.body.count > teamsMaximumBytes {
                rendered = try json(teams(card, scale: scale))
            }
            return rendered
        case .template(let template):
            return try Rendered(body: Data(template.render(payload).utf8), contentType: template.contentType)
        }
    }

    /// What every chat format shows, taken from an event once.
    struct Card {
        /// One line: what happened.
        var heading: String
        /// The item's title, linked.
        var title: String?
        var link: String?
        /// The summary as plain text.
        var text: String?
        /// Label / value pairs (topics, source, identifiers).
        var facts: [(String, String)] = []
        /// For a batch, its events' titles and links.
        var entries: [(title: String, link: String?)] = []
        var timestamp: Date

        init(_ message: DeliveryMessage) {
            switch message {
            case .policy(let event):
                heading = event.type == "policy_item.updated" ? "Updated policy item" : "New policy item"
                title = event.item.title
                // Discord refuses a link over 2,048, and a Teams card has no text to cut but the link:
                // a longer one (no real page has one) is left out rather than have the message refused.
                link = event.item.link.flatMap { $0.utf8.count <= 2048 ? $0 : nil }
                text = event.item.summary.map { PlainText.from(html: $0, limit: 500) }
                let topics = event.topics.map { "\($0.id) \(String(format: "%.2f", $0.score))" }
                facts.append(("Topics", topics.joined(separator: ", ")))
                let matched = Array(Set(event.topics.flatMap(\.matched))).sorted().prefix(8)
                if !matched.isEmpty { facts.append(("Matched", matched.joined(separator: ", "))) }
                facts.append(("Source", event.story.sources.joined(separator: ", ")))
                if !event.item.identifiers.isEmpty {
                    facts.append(("Identifiers", event.item.identifiers.joined(separator: ", ")))
                }
                if !event.changes.isEmpty {
                    facts.append(("Changed", event.changes.map(\.field).joined(separator: ", ")))
                }
                timestamp = event.occurredAt
            case .source(let event):
                let what =
                    switch event.type {
                    case "source.down": "is down"
                    case "source.recovered": "has recovered"
                    case "source.retired": "is retired (the server says it is gone)"
                    case "source.parse_empty": "gives no items any more (its page may have changed)"
                    default: event.type
                    }
                heading = "Source \(event.source.id) \(what)"
                link = event.source.url
                text = event.source.reason
                timestamp = event.occurredAt
            case .notice(let type, _, let occurredAt, let text):
                heading = type
                self.text = text
                timestamp = occurredAt
            case .batch(_, let occurredAt, let events):
                heading = "\(events.count) policy events"
                for event in events {
                    let card = Card(event)
                    entries.append((card.title ?? card.heading, card.link))
                }
                timestamp = occurredAt
            }
        }
    }

    /// `text` cut to at most `limit` UTF-16 code units, whole characters only, ending in "…" when
    /// cut. The platforms count their limits in code units or code points, never in Swift's
    /// Characters, each of which can be many of them (a family emoji is one Character and 11
    /// units): a title cut by Characters could still be refused, and its notification lost.
    static func clipped(_ text: String, to limit: Int) -> String {
        text.clipped(to: limit, in: .utf16)
    }

    /// The size a Teams incoming webhook accepts (28 KB), less room for the request's own framing.
    static let teamsMaximumBytes = 27 * 1024

    private static func json(_ object: Any) throws -> Rendered {
        Rendered(
            body: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
            contentType: "application/json")
    }

    // MARK: Slack: mrkdwn escapes &, < and >; a link is <url|text>.

    static func slack(_ card: Card) -> [String: Any] {
        func escape(_ text: String) -> String {
            text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
        }
        /// The title as a link's label, cut to `limit` before it is linked, so that a cut never
        /// falls inside the link.
        func linked(_ title: String, _ link: String?, limit: Int) -> String {
            // A "|" inside the text would end Slack's link label.
            let label = clipped(escape(title), to: limit).replacing("|", with: "｜")
            guard let link, let url = URL(string: link), url.scheme?.hasPrefix("http") == true else { return label }
            return "<\(escape(link))|\(label)>"
        }
        var blocks: [[String: Any]] = [
            ["type": "header", "text": ["type": "plain_text", "text": clipped(card.heading, to: 150)]]
        ]
        var section = card.title.map { "*\(linked($0, card.link, limit: 1000))*" } ?? ""
        if let text = card.text, !text.isEmpty { section += (section.isEmpty ? "" : "\n") + escape(text) }
        for entry in card.entries.prefix(40) { section += "\n• " + linked(entry.title, entry.link, limit: 200) }
        if card.entries.count > 40 { section += "\n… and \(card.entries.count - 40) more" }
        if !section.isEmpty {
            blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": clipped(section, to: 3000)]])
        }
        if !card.facts.isEmpty {
            let elements = card.facts.prefix(10).map {
                ["type": "mrkdwn", "text": "*\(escape($0.0))*: \(escape(clipped($0.1, to: 300)))"]
            }
            blocks.append(["type": "context", "elements": elements])
        }
        let fallback = [card.heading, card.title].compactMap { $0 }.joined(separator: ": ")
        return ["text": clipped(escape(fallback), to: 3000), "blocks": blocks]
    }

    // MARK: Discord: Markdown in content and descriptions; limits per embed and message.

    static func discord(_ card: Card) -> [String: Any] {
        func escape(_ text: String) -> String {
            var escaped = ""
            for character in text {
                if "\\*_~`|>[]()#-".contains(character) { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped
        }
        let title = clipped(escape(card.title ?? card.heading), to: 256)
        var embed: [String: Any] = ["title": title, "timestamp": card.timestamp.formatted(.iso8601)]
        if let link = card.link, link.hasPrefix("http") { embed["url"] = link }
        let fields = card.facts.prefix(10).map {
            (name: clipped(escape($0.0), to: 256), value: clipped(escape($0.1), to: 1024))
        }
        if !fields.isEmpty { embed["fields"] = fields.map { ["name": $0.name, "value": $0.value, "inline": false] } }
        // Discord refuses an embed whose texts add up to more than 6,000: the description gets what
        // the title and fields leave.
        let used = title.utf16.count + fields.reduce(0) { $0 + $1.name.utf16.count + $1.value.utf16.count }
        let room = min(4096, 6000 - used)
        var description = escape(card.text ?? "")
        for entry in card.entries {
            let label = clipped(escape(entry.title), to: 200)
            let line = "• " + (entry.link.map { "[\(label)](\($0))" } ?? label)
            // 12 keeps room for the "… and more" that ends a cut list.
            if description.utf16.count + line.utf16.count + 1 > room - 12 {
                description += "\n… and more"
                break
            }
            description += (description.isEmpty ? "" : "\n") + line
        }
        if !description.isEmpty, room > 0 { embed["description"] = clipped(description, to: room) }
        return ["content": clipped(escape(card.heading), to: 2000), "embeds": [embed]]
    }

    // MARK: Teams: a message with one Adaptive Card (1.4); TextBlocks read a little Markdown.

    /// - Parameter scale: how much of each text's room is used (1: all of it), for a card that
    ///   comes out too large at full size.
    static func teams(_ card: Card, scale: Double) -> [String: Any] {
        func room(_ full: Int) -> Int { max(16, Int(Double(full) * scale)) }
        func escape(_ text: String) -> String {
            var escaped = ""
            for character in text {
                if "\\*_~`[]()#>-".contains(character) { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped
        }
        var body: [[String: Any]] = [
            ["type": "TextBlock", "text": escape(card.heading), "weight": "Bolder", "size": "Medium", "wrap": true]
        ]
        if let title = card.title {
            body.append([
                "type": "TextBlock", "text": escape(clipped(title, to: room(1000))), "weight": "Bolder", "wrap": true,
            ])
        }
        if let text = card.text, !text.isEmpty {
            body.append(["type": "TextBlock", "text": escape(clipped(text, to: room(1000))), "wrap": true])
        }
        let shown = card.entries.prefix(room(40))
        for entry in shown {
            let text = "• " + escape(clipped(entry.title, to: room(200)))
            body.append(["type": "TextBlock", "text": text, "wrap": true, "spacing": "None"])
        }
        if card.entries.count > shown.count {
            body.append(["type": "TextBlock", "text": "… and \(card.entries.count - shown.count) more", "wrap": true])
        }
        if !card.facts.isEmpty {
            let facts = card.facts.map { ["title": escape($0.0), "value": escape(clipped($0.1, to: room(1000)))] }
            body.append(["type": "FactSet", "facts": facts])
        }
        var content: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body,
        ]
        if let link = card.link, link.hasPrefix("http") {
            content["actions"] = [["type": "Action.OpenUrl", "title": "Open", "url": link]]
        }
        return [
            "type": "message",
            "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "content": content]],
        ]
    }
}

/// Plain text from a feed's HTML summary: tags dropped, the common entities decoded, whitespace collapsed.
enum PlainText {
    static func from(html: String, limit: Int) -> String {
        var text = ""
        var inTag = false
        for character in html {
            if character == "<" {
                inTag = true
                text.append(" ")
            } else if character == ">" {
                inTag = false
            } else if !inTag {
                text.append(character)
            }
        }
        for (entity, value) in [
            ("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&apos;", "'"),
            ("&amp;", "&"),
        ] {
            text = text.replacing(entity, with: value)
        }
        let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.count > limit ? String(collapsed.prefix(limit - 1)) + "…" : collapsed
    }
}

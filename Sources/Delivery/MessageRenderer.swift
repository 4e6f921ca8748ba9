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
            return try json(teams(Card(message)))
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
                link = event.item.link
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
        func linked(_ title: String, _ link: String?) -> String {
            // A "|" inside the text would end Slack's link label.
            let label = escape(title).replacing("|", with: "｜")
            guard let link, let url = URL(string: link), url.scheme?.hasPrefix("http") == true else { return label }
            return "<\(escape(link))|\(label)>"
        }
        var blocks: [[String: Any]] = [
            ["type": "header", "text": ["type": "plain_text", "text": String(card.heading.prefix(150))]]
        ]
        var section = card.title.map { "*\(linked($0, card.link))*" } ?? ""
        if let text = card.text, !text.isEmpty { section += (section.isEmpty ? "" : "\n") + escape(text) }
        for entry in card.entries.prefix(40) { section += "\n• " + linked(entry.title, entry.link) }
        if card.entries.count > 40 { section += "\n… and \(card.entries.count - 40) more" }
        if !section.isEmpty {
            blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": String(section.prefix(3000))]])
        }
        if !card.facts.isEmpty {
            let elements = card.facts.prefix(10).map {
                ["type": "mrkdwn", "text": "*\(escape($0.0))*: \(escape(String($0.1.prefix(300))))"]
            }
            blocks.append(["type": "context", "elements": elements])
        }
        let fallback = [card.heading, card.title].compactMap { $0 }.joined(separator: ": ")
        return ["text": escape(fallback), "blocks": blocks]
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
        var embed: [String: Any] = [
            "title": String(escape(card.title ?? card.heading).prefix(256)),
            "timestamp": card.timestamp.formatted(.iso8601),
        ]
        if let link = card.link, link.hasPrefix("http") { embed["url"] = link }
        var description = escape(card.text ?? "")
        for entry in card.entries {
            let line = "• " + (entry.link.map { "[\(escape(entry.title))](\($0))" } ?? escape(entry.title))
            if description.count + line.count + 1 > 3900 {
                description += "\n… and more"
                break
            }
            description += (description.isEmpty ? "" : "\n") + line
        }
        if !description.isEmpty { embed["description"] = String(description.prefix(4096)) }
        let fields = card.facts.prefix(10).map {
            ["name": String(escape($0.0).prefix(256)), "value": String(escape($0.1).prefix(1024)), "inline": false]
        }
        if !fields.isEmpty { embed["fields"] = fields }
        return ["content": String(escape(card.heading).prefix(2000)), "embeds": [embed]]
    }

    // MARK: Teams: a message with one Adaptive Card (1.4); TextBlocks read a little Markdown.

    static func teams(_ card: Card) -> [String: Any] {
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
            body.append(["type": "TextBlock", "text": escape(title), "weight": "Bolder", "wrap": true])
        }
        if let text = card.text, !text.isEmpty {
            body.append(["type": "TextBlock", "text": escape(text), "wrap": true])
        }
        for entry in card.entries.prefix(40) {
            body.append(["type": "TextBlock", "text": "• " + escape(entry.title), "wrap": true, "spacing": "None"])
        }
        if !card.facts.isEmpty {
            body.append([
                "type": "FactSet", "facts": card.facts.map { ["title": escape($0.0), "value": escape($0.1)] },
            ])
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

import Delivery
import Foundation
import Store
import TestSupport
import Testing

@Suite("Webhook formats and routing")
struct MessageRendererTests {
    static func event(
        title: String = "美国商务部将37家中国实体列入实体清单 & more",
        summary: String = "<p>The <b>Bureau</b> added entities &amp; affiliates.</p>",
        link: String = "https://www.mofcom.gov.cn/a?b=1&c=2",
        topics: [String: Double] = ["entity-list-sanctions": 0.9],
        new: Bool = true, type: String = "policy_item.created"
    ) -> PolicyEventBody {
        PolicyEventBody(
            type: type, id: "evt_1", occurredAt: Date(timeIntervalSince1970: 1_715_300_000),
            item: .init(
                id: "itm_1", source: "mofcom", title: title, link: link,
                summary: summary, published: nil, language: "zh", identifiers: ["cn-announcement:商务部公告2024年第33号"],
                provenance: .init(finalURL: nil, fetchedAt: nil, sha256: nil)),
            topics: topics.map { .init(id: $0.key, score: $0.value, matched: ["实体清单"]) },
            story: .init(id: "sty_1", sources: ["mofcom"], new: new))
    }

    static func render(_ body: PolicyEventBody, _ format: Webhook.Format) throws -> [String: Any] {
        let rendered = try MessageRenderer.render(.policy(body), payload: try body.encoded(), format: format)
        #expect(rendered.contentType.hasPrefix("application/json"))
        return try #require(try JSONSerialization.jsonObject(with: rendered.body) as? [String: Any])
    }

    @Test("json sends the event's own JSON, byte for byte")
    func json() throws {
        let body = Self.event()
        let payload = try body.encoded()
        #expect(try MessageRenderer.render(.policy(body), payload: payload, format: .json).body == payload)
        let object = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        #expect(Set(object.keys) == ["version", "type", "id", "occurred_at", "item", "topics", "story", "changes"])
    }

    @Test("slack: text and blocks, with &, < and > escaped and the Chinese title intact")
    func slack() throws {
        let hostile = Self.event(title: "<!channel> 芯片 <https://evil|click> & co")
        let object = try Self.render(hostile, .slack)
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        let section = try #require(blocks.first { $0["type"] as? String == "section" })
        let text = try #require((section["text"] as? [String: Any])?["text"] as? String)
        #expect(text.contains("&lt;!channel&gt; 芯片 &lt;https://evil｜click&gt; &amp; co"))
        #expect(text.contains("<https://www.mofcom.gov.cn/a?b=1&amp;c=2|"))
        #expect(!text.contains("<!channel>"))
        #expect((object["text"] as? String)?.contains("芯片") == true)
    }

    @Test("discord: content and one embed within Discord's limits, Markdown escaped")
    func discord() throws {
        let long = String(repeating: "出口管制 **bold** ", count: 600)
        let object = try Self.render(Self.event(title: "*Entity* _List_ " + long, summary: long), .discord)
        #expect((object["content"] as? String ?? "").count <= 2000)
        let embed = try #require((object["embeds"] as? [[String: Any]])?.first)
        #expect((embed["title"] as? String ?? "").count <= 256)
        #expect((embed["title"] as? String ?? "").hasPrefix("\\*Entity\\* \\_List\\_"))
        #expect((embed["description"] as? String ?? "").count <= 4096)
        #expect(embed["url"] as? String == "https://www.mofcom.gov.cn/a?b=1&c=2")
    }

    @Test("teams: a message carrying one Adaptive Card")
    func teams() throws {
        let object = try Self.render(Self.event(), .teams)
        #expect(object["type"] as? String == "message")
        let attachment = try #require((object["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard" && card["version"] as? String == "1.4")
        let texts = (card["body"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(texts.contains { $0.contains("美国商务部将37家中国实体列入实体清单") })
    }

    @Test("a template renders the event's JSON, values escaped for its content type")
    func template() throws {
        let template = try WebhookTemplate(
            text: #"{"msg": "{{item.title}}", "topics": [{{#topics}}"{{id}}"{{/topics}}]}"#,
            contentType: "application/json")
        let body = Self.event(title: #"Quote " and \ backslash 中文"#)
        let rendered = try MessageRenderer.render(
            .policy(body), payload: try body.encoded(), format: .template(template))
        let object = try #require(try JSONSerialization.jsonObject(with: rendered.body) as? [String: Any])
        #expect(object["msg"] as? String == #"Quote " and \ backslash 中文"#)
        #expect(object["topics"] as? [String] == ["entity-list-sanctions"])

        let html = try WebhookTemplate(text: "<p>{{item.title}}</p>", contentType: "text/html")
        let page = try MessageRenderer.render(
            .policy(Self.event(title: "<script>x</script>")),
            payload: try Self.event(title: "<script>x</script>").encoded(),
            format: .template(html))
        #expect(String(decoding: page.body, as: UTF8.self) == "<p>&lt;script&gt;x&lt;/script&gt;</p>")
        #expect(throws: WebhookTemplate.TemplateError.self) {
            try WebhookTemplate(text: "{{#open}}", contentType: "text/plain")
        }
    }

    @Test(
        "a webhook filtered to chip-controls takes only those, at its min_score; further sources only with every_source"
    )
    func routing() throws {
        let hook = Webhook(
            id: "chips", url: URL(string: "https://example.org/h")!, format: .json,
            signer: WebhookSigner(scheme: .none),
            events: ["policy_item.created"], topics: ["chip-controls"], minScore: 0.5)
        #expect(hook.wants(Self.event(topics: ["chip-controls": 0.8])))
        #expect(!hook.wants(Self.event(topics: ["chip-controls": 0.3])))
        #expect(!hook.wants(Self.event(topics: ["entity-list-sanctions": 0.9])))
        #expect(!hook.wants(Self.event(topics: ["chip-controls": 0.8], type: "policy_item.updated")))
        #expect(!hook.wants(Self.event(topics: ["chip-controls": 0.8], new: false)))
        var every = hook
        every.everySource = true
        #expect(every.wants(Self.event(topics: ["chip-controls": 0.8], new: false)))
        #expect(!hook.wants(eventType: "source.down"))
    }

    @Test("a Standard Webhooks secret must be whsec_ and base64 of at least 16 bytes; the error never shows it")
    func secrets() throws {
        #expect(try WebhookSigner.standardKey(from: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").count == 24)
        do {
            _ = try WebhookSigner.standardKey(from: "whsec_not*base64!")
            Issue.record("accepted a secret that is not base64")
        } catch {
            #expect(!"\(error)".contains("not*base64"))
        }
        #expect(throws: WebhookSigner.SecretError.self) { try WebhookSigner.standardKey(from: "whsec_c2hvcnQ=") }
    }

    /// Text that is long, and whose characters are many code units each: a family emoji is one
    /// Character and 11 UTF-16 units, an accent written as a combining mark one Character and 2.
    static let composedTitle =
        String(repeating: "👨‍👩‍👧‍👦", count: 400) + String(repeating: "出口管制 **bold** ", count: 3000)
    static let composedSummary = String(repeating: "e\u{301}xport ", count: 3000)

    /// What the platforms count: UTF-16 code units (Discord and Slack document limits in
    /// "characters"; no Character count is ever more than this one).
    static func length(_ value: Any?) -> Int { (value as? String ?? "").utf16.count }

    /// Checks a Discord message against Discord's limits.
    static func expectWithinDiscordLimits(_ object: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(length(object["content"]) <= 2000, sourceLocation: sourceLocation)
        let embeds = object["embeds"] as? [[String: Any]] ?? []
        #expect(embeds.count == 1, sourceLocation: sourceLocation)
        for embed in embeds {
            let fields = embed["fields"] as? [[String: Any]] ?? []
            #expect(
                length(embed["title"]) <= 256 && length(embed["description"]) <= 4096, sourceLocation: sourceLocation)
            #expect(
                fields.allSatisfy { length($0["name"]) <= 256 && length($0["value"]) <= 1024 },
                sourceLocation: sourceLocation)
            let total =
                [embed["title"], embed["description"]].map(length).reduce(0, +)
                + fields.map { length($0["name"]) + length($0["value"]) }.reduce(0, +)
            #expect(total <= 6000, sourceLocation: sourceLocation)
            #expect((embed["url"] as? String)?.utf8.count ?? 0 <= 2048, sourceLocation: sourceLocation)
        }
    }

    /// Checks a Slack message against Slack's block limits.
    static func expectWithinSlackLimits(_ object: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(length(object["text"]) <= 3000, sourceLocation: sourceLocation)
        for block in object["blocks"] as? [[String: Any]] ?? [] {
            let text = block["text"] as? [String: Any]
            switch block["type"] as? String {
            case "header": #expect(length(text?["text"]) <= 150, sourceLocation: sourceLocation)
            case "section": #expect(length(text?["text"]) <= 3000, sourceLocation: sourceLocation)
            default:
                let elements = block["elements"] as? [[String: Any]] ?? []
                #expect(elements.allSatisfy { length($0["text"]) <= 3000 }, sourceLocation: sourceLocation)
            }
        }
    }

    /// The 28 KB a Teams incoming webhook accepts.
    static let teamsLimit = 28 * 1024

    @Test("discord stays within every embed limit, counted in UTF-16 units, however composed the feed's text")
    func discordLimitsHoldForComposedText() throws {
        let object = try Self.render(Self.event(title: Self.composedTitle, summary: Self.composedSummary), .discord)
        Self.expectWithinDiscordLimits(object)
        let embed = try #require((object["embeds"] as? [[String: Any]])?.first)
        #expect((embed["title"] as? String ?? "").hasPrefix("👨‍👩‍👧‍👦"))
        let longLink = "https://example.org/?q=" + String(repeating: "x", count: 3000)
        let linked = try Self.render(Self.event(link: longLink), .discord)
        #expect((linked["embeds"] as? [[String: Any]])?.first?["url"] == nil)
    }

    @Test("slack stays within its block limits, counted in UTF-16 units, however composed the feed's text")
    func slackLimitsHoldForComposedText() throws {
        Self.expectWithinSlackLimits(
            try Self.render(Self.event(title: Self.composedTitle, summary: Self.composedSummary), .slack))
    }

    @Test("teams stays under the 28 KB a Teams webhook accepts, for one long item and for a batch of long titles")
    func teamsStaysUnderItsSizeLimit() throws {
        let single = try MessageRenderer.render(
            .policy(Self.event(title: Self.composedTitle, summary: Self.composedSummary)),
            payload: Data(), format: .teams)
        #expect(single.body.count <= Self.teamsLimit)
        let longLink = "https://example.org/?q=" + String(repeating: "x", count: 40_000)
        let linked = try MessageRenderer.render(.policy(Self.event(link: longLink)), payload: Data(), format: .teams)
        #expect(linked.body.count <= Self.teamsLimit)
        let events = try (0..<60).map { try Self.event(title: "\($0) " + Self.composedTitle).encoded() }
        let payload = try DeliveryMessage.batchPayload(id: "bat_1", occurredAt: Date(), events: events)
        let batch = try MessageRenderer.render(
            try DeliveryMessage.read(type: "batch", payload: payload), payload: payload, format: .teams)
        #expect(batch.body.count <= Self.teamsLimit)
        let text = String(decoding: batch.body, as: UTF8.self)
        #expect(text.contains("60 policy events") && text.contains("more"))
    }

    @Test("texts made at random from every kind of character keep every format within its limits, singly and batched")
    func limitsHoldForRandomTexts() throws {
        var random = SplitMix64(seed: 2026_11_30)
        // Many code units per character, markup of each format, Chinese, controls, long words.
        let pieces = [
            "👨‍👩‍👧‍👦", "🇨🇳", "e\u{301}", "𝔘", "出口管制", "實體清單", "商务部公告2024年第33号", "*", "_", "|", "<", ">", "&",
            "[", "]", "(", ")", "#", "-", "`", "~", "\\", "\"", " ", "\n", "\u{200B}", "\u{0}", "\u{7F}",
            "Entity List ",
            String(repeating: "x", count: 500),
        ]
        func text(upTo count: Int) -> String {
            (0..<Int.random(in: 0...count, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
        }
        for _ in 0..<60 {
            let link = "https://example.org/" + String(repeating: "p", count: Int.random(in: 0...3000, using: &random))
            let event = Self.event(title: text(upTo: 400), summary: text(upTo: 2000), link: link)
            Self.expectWithinDiscordLimits(try Self.render(event, .discord))
            Self.expectWithinSlackLimits(try Self.render(event, .slack))
            let teams = try MessageRenderer.render(.policy(event), payload: Data(), format: .teams)
            #expect(teams.body.count <= Self.teamsLimit)
        }
        let events = try (0..<50).map { _ in try Self.event(title: text(upTo: 200)).encoded() }
        let payload = try DeliveryMessage.batchPayload(id: "bat_1", occurredAt: Date(), events: events)
        let batch = try DeliveryMessage.read(type: "batch", payload: payload)
        Self.expectWithinDiscordLimits(try Self.renderObject(batch, payload: payload, .discord))
        Self.expectWithinSlackLimits(try Self.renderObject(batch, payload: payload, .slack))
        #expect(try MessageRenderer.render(batch, payload: payload, format: .teams).body.count <= Self.teamsLimit)
    }

    static func renderObject(_ message: DeliveryMessage, payload: Data, _ format: Webhook.Format) throws -> [String:
        Any]
    {
        let rendered = try MessageRenderer.render(message, payload: payload, format: format)
        return try #require(try JSONSerialization.jsonObject(with: rendered.body) as? [String: Any])
    }

    @Test("a batch renders as one message listing its titles")
    func batch() throws {
        let events = try (0..<3).map { try Self.event(title: "Rule \($0)").encoded() }
        let payload = try DeliveryMessage.batchPayload(id: "bat_1", occurredAt: Date(), events: events)
        let message = try DeliveryMessage.read(type: "batch", payload: payload)
        let slack = try MessageRenderer.render(message, payload: payload, format: .slack)
        let text = String(decoding: slack.body, as: UTF8.self)
        #expect(text.contains("3 policy events") && text.contains("Rule 0") && text.contains("Rule 2"))
    }
}

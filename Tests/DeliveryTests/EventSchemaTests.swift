import Delivery
import Foundation
import Store
import Testing

/// The JSON Schema in docs/webhooks.md against the events exportwatch sends.
@Suite("Webhook event schema")
struct EventSchemaTests {
    static let repository = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..").standardized

    /// The schema's `$defs`, read from the one ```json block after "### JSON Schema".
    static func definitions() throws -> [String: Any] {
        let text = try String(contentsOf: repository.appending(path: "docs/webhooks.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### JSON Schema").last)
        let block = try #require(
            section.components(separatedBy: "```json").dropFirst().first?.components(separatedBy: "```").first)
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(block.utf8)) as? [String: Any])
        return try #require(schema["$defs"] as? [String: Any])
    }

    /// Checks `value` against the parts of the schema this test reads: `required`, `properties`,
    /// `type` (object, array, string, number, integer, boolean, null), `const`, `enum`, `pattern`
    /// prefixes, array `items`, and `$ref` to `$defs`.
    static func check(_ value: Any, against schema: [String: Any], defs: [String: Any], path: String = "$") -> [String]
    {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            return check(value, against: defs[name] as? [String: Any] ?? [:], defs: defs, path: path)
        }
        if let options = (schema["anyOf"] ?? schema["oneOf"]) as? [[String: Any]] {
            return options.contains { check(value, against: $0, defs: defs, path: path).isEmpty }
                ? [] : ["\(path): matches none of the alternatives"]
        }
        var problems: [String] = []
        let types = (schema["type"] as? String).map { [$0] } ?? schema["type"] as? [String] ?? []
        if !types.isEmpty {
            let actual: String =
                switch value {
                case is NSNull: "null"
                case is String: "string"
                case let number as NSNumber where String(cString: number.objCType) == "c": "boolean"
                case let number as NSNumber: number.doubleValue == number.doubleValue.rounded() ? "integer" : "number"
                case is [Any]: "array"
                case is [String: Any]: "object"
                default: "unknown"
                }
            if !(types.contains(actual) || (actual == "integer" && types.contains("number"))) {
                problems.append("\(path): \(actual), expected \(types)")
            }
        }
        if let options = schema["enum"] as? [String], !options.contains(value as? String ?? "") {
            problems.append("\(path): \(value) not in \(options)")
        }
        if let pattern = schema["pattern"] as? String, pattern.hasPrefix("^"), let string = value as? String {
            let prefix = pattern.dropFirst().prefix { $0.isLetter || $0 == "_" }
            if !string.hasPrefix(prefix) { problems.append("\(path): \"\(string)\" does not start with \(prefix)") }
        }
        if let object = value as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(path): missing \(key)")
            }
            for (key, property) in schema["properties"] as? [String: [String: Any]] ?? [:] {
                if let child = object[key] {
                    problems += check(child, against: property, defs: defs, path: "\(path).\(key)")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() {
                problems += check(element, against: items, defs: defs, path: "\(path)[\(index)]")
            }
        }
        return problems
    }

    @Test("created, updated, source-health and batch events match the documented schema")
    func eventsMatchTheSchema() throws {
        let defs = try Self.definitions()
        var updated = MessageRendererTests.event(type: "policy_item.updated")
        updated.changes = [.init(field: "summary", before: "a", after: "b")]
        let source = SourceEventBody(
            type: "source.down", id: "evt_2", occurredAt: Date(),
            source: .init(
                id: "fr-bis", url: "https://example.org", health: "failing", reason: nil, consecutiveFailures: 3))
        let events = [try MessageRendererTests.event().encoded(), try updated.encoded()]
        let batch = try DeliveryMessage.batchPayload(
            id: "bat_1", occurredAt: Date(), events: events + [try source.encoded()])
        for (payload, definition) in [
            (events[0], "policyItem"), (events[1], "policyItem"), (try source.encoded(), "sourceHealth"),
            (batch, "batch"),
        ] {
            let object = try JSONSerialization.jsonObject(with: payload)
            let problems = Self.check(object, against: try #require(defs[definition] as? [String: Any]), defs: defs)
            #expect(problems.isEmpty, "\(definition): \(problems)")
        }
        let missing = try JSONSerialization.jsonObject(with: Data(#"{"version": 1, "type": "source.down"}"#.utf8))
        #expect(!Self.check(missing, against: try #require(defs["sourceHealth"] as? [String: Any]), defs: defs).isEmpty)
    }

    @Test("an event carries a bounded share of a megabyte item, cut at whole characters; short texts whole")
    func eventsAreBounded() throws {
        let summary = "<p>" + String(repeating: "美国商务部 👨‍👩‍👧‍👦 export controls ", count: 30_000) + "</p>"
        let title = String(repeating: "出口管制 ", count: 2_000)
        var body = PolicyEventBody(
            type: "policy_item.updated", id: "evt_1", occurredAt: Date(),
            item: .init(
                id: "itm_1", source: "mofcom", title: title,
                link: "https://example.org/" + String(repeating: "a", count: 9_000),
                summary: summary, published: nil, language: "zh",
                identifiers: (0..<500).map { "eccn:3A\($0)" },
                provenance: .init(finalURL: nil, fetchedAt: nil, sha256: nil)),
            topics: [], story: .init(id: "sty_1", sources: ["mofcom"], new: true))
        body.changes = [.init(field: "content", before: summary, after: summary + "!")]
        let payload = try body.encoded()
        #expect(summary.utf8.count > 1_000_000 && payload.count < 40 * 1024)

        let item = try PolicyEventBody.decode(payload).item
        for (text, whole, bound) in [
            (item.title, title, PolicyEventBody.Bounds.titleBytes),
            (item.summary ?? "", summary, PolicyEventBody.Bounds.summaryBytes),
            (body.changes[0].after, summary + "!", PolicyEventBody.Bounds.changeBytes),
        ] {
            #expect(text.utf8.count <= bound && text.utf8.count > bound - 64)
            #expect(text.hasSuffix("…") && whole.hasPrefix(text.dropLast()))
        }
        #expect(item.link == nil && item.identifiers.count == PolicyEventBody.Bounds.identifiers)

        // A family emoji is one character of 25 bytes: one that straddles the bound is left out, not split.
        let before = String(repeating: "a", count: PolicyEventBody.Bounds.summaryBytes - 13)
        let straddling = PolicyEventBody.Item(
            id: "itm_2", source: "mofcom", title: "t", link: nil, summary: before + "👨‍👩‍👧‍👦 and more", published: nil,
            language: nil, identifiers: [], provenance: .init(finalURL: nil, fetchedAt: nil, sha256: nil))
        #expect(straddling.summary == before + "…")

        let short = MessageRendererTests.event()
        #expect(try PolicyEventBody.decode(short.encoded()) == short)
        #expect(short.item.summary?.hasSuffix("…") == false)
    }
}

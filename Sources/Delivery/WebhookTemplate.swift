import Foundation
internal import Mustache

/// A user's Mustache template (`format = "template"`), rendered with the event's JSON as its
/// context (`{{item.title}}`, `{{#topics}}{{id}}{{/topics}}`).
///
/// Values are escaped for the content type: JSON string escaping for `application/json` (and
/// `+json`), HTML escaping for HTML and XML, none for plain text. A template may choose its own
/// with the `{{% CONTENT_TYPE: JSON }}` pragma (`JSON`, `HTML`, `TEXT`); triple braces never escape.
public struct WebhookTemplate: Sendable, Equatable {
    /// The `Content-Type` header sent.
    public let contentType: String
    /// The template's text, as written.
    public let text: String
    private let template: MustacheTemplate

    public static func == (lhs: WebhookTemplate, rhs: WebhookTemplate) -> Bool {
        lhs.contentType == rhs.contentType && lhs.text == rhs.text
    }

    /// Why a template cannot be used.
    public struct TemplateError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a template.
    /// - Throws: ``TemplateError`` with the parser's message.
    public init(text: String, contentType: String) throws(TemplateError) {
        Self.registerJSON
        self.contentType = contentType
        self.text = text
        let lowered = contentType.lowercased()
        let pragma =
            lowered.contains("json")
            ? "{{% CONTENT_TYPE: JSON }}"
            : lowered.contains("html") || lowered.contains("xml")
                ? "{{% CONTENT_TYPE: HTML }}" : "{{% CONTENT_TYPE: TEXT }}"
        do {
            template = try MustacheTemplate(string: pragma + text)
        } catch {
            throw TemplateError(description: "the template cannot be parsed: \(error)")
        }
    }

    /// The template rendered with `payload` (an event's JSON) as its context.
    func render(_ payload: Data) throws -> String {
        let context = try JSONSerialization.jsonObject(with: payload)
        return template.render(context)
    }

    private static let registerJSON: Void = MustacheContentTypes.register(JSONContentType(), named: "JSON")

    /// Escapes a value for the inside of a JSON string.
    struct JSONContentType: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped
        }
    }
}

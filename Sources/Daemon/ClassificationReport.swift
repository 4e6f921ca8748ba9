public import Classification
internal import Foundation

/// How `exportwatch classify` prints a ``Classification``.
public enum ClassificationReport {
    /// `{"id","relevant","topics":[{"id","score","matched"}],"identifiers":[{"kind","value"}]}`, the
    /// topics being those that reach their threshold.
    public static func jsonLine(_ result: Classification, id: String?) -> String {
        let line = Line(
            id: id, relevant: result.relevant,
            topics: result.topics.filter(\.passes).map { .init(id: $0.id, score: $0.score, matched: $0.matched) },
            identifiers: result.identifiers.map { .init(kind: $0.kind.rawValue, value: $0.value) })
        return String(decoding: (try? lineEncoder.encode(line)) ?? Data(), as: UTF8.self)
    }

    /// One encoder for every line (an encoder rather than JSONSerialization's sorted keys, which
    /// compare them with ICU collation: a third of classifying 46,000 items).
    private static let lineEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One line of `classify`; `id` is written as null when absent.
    private struct Line: Encodable {
        struct Topic: Encodable {
            var id: String
            var score: Double
            var matched: [String]
        }

        struct Identifier: Encodable {
            var kind: String
            var value: String
        }

        private enum Key: CodingKey { case id, relevant, topics, identifiers }

        var id: String?
        var relevant: Bool
        var topics: [Topic]
        var identifiers: [Identifier]

        func encode(to encoder: any Encoder) throws {
            var line = encoder.container(keyedBy: Key.self)
            try line.encode(id, forKey: .id)
            try line.encode(relevant, forKey: .relevant)
            try line.encode(topics, forKey: .topics)
            try line.encode(identifiers, forKey: .identifiers)
        }
    }

    /// The normalized text with each counted match in brackets, then every topic's score; for a
    /// result classified with `explaining: true`.
    public static func explanation(_ result: Classification, id: String?) -> String {
        var marked = ""
        let bytes = Array((result.explanation?.normalizedText ?? "").utf8)
        var position = 0
        for span in (result.explanation?.spans ?? []).sorted(by: { $0.start < $1.start }) where span.start >= position {
            marked += String(decoding: bytes[position..<span.start], as: UTF8.self)
            marked += "[" + String(decoding: bytes[span.start..<span.end], as: UTF8.self) + "]"
            position = span.end
        }
        marked += String(decoding: bytes[position...], as: UTF8.self)
        var lines = ["\(id ?? "-"): \(result.relevant ? "relevant" : "not relevant")", "  text: \(marked)"]
        for topic in result.topics {
            lines.append(
                "  \(topic.passes ? "+" : "-") \(topic.id) \(topic.score): \(topic.matched.joined(separator: ", "))")
        }
        if !result.identifiers.isEmpty {
            lines.append(
                "  identifiers: " + result.identifiers.map { "\($0.kind.rawValue) \($0.value)" }.joined(separator: ", ")
            )
        }
        return lines.joined(separator: "\n")
    }
}

public import Classification
internal import Foundation

/// How `exportwatch classify` prints a ``Classification``.
public enum ClassificationReport {
    /// `{"id","relevant","topics":[{"id","score","matched"}],"identifiers":[{"kind","value"}]}`, the
    /// topics being those that reach their threshold.
    public static func jsonLine(_ result: Classification, id: String?) -> String {
        let object: [String: Any] = [
            "id": id ?? NSNull(),
            "relevant": result.relevant,
            "topics": result.topics.filter(\.passes).map { ["id": $0.id, "score": $0.score, "matched": $0.matched] },
            "identifiers": result.identifiers.map { ["kind": $0.kind.rawValue, "value": $0.value] },
        ]
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
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

public import Foundation
public import Store

/// An outbox row's event, read back from its JSON for rendering.
public enum DeliveryMessage: Sendable {
    /// `policy_item.created` or `policy_item.updated`.
    case policy(PolicyEventBody)
    /// `source.down`, `source.recovered`, `source.retired`, `source.parse_empty`.
    case source(SourceEventBody)
    /// Any other event (`digest.created`): its type, id and a line of text.
    case notice(type: String, id: String, occurredAt: Date, text: String)
    /// Several events sent as one message past a webhook's rate limit.
    case batch(id: String, occurredAt: Date, events: [DeliveryMessage])

    /// Why a row's payload cannot be read.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads an event of `type` from its JSON.
    /// - Throws: ``ReadError`` naming the type when the JSON is not that event.
    public static func read(type: String, payload: Data) throws(ReadError) -> DeliveryMessage {
        do {
            if type.hasPrefix("policy_item.") { return .policy(try PolicyEventBody.decode(payload)) }
            if type.hasPrefix("source.") { return .source(try SourceEventBody.decode(payload)) }
            guard let object = try JSONSerialization.jsonObject(with: payload) as? [String: Any] else {
                throw ReadError(description: "\(type): the payload is not a JSON object")
            }
            let id = object["id"] as? String ?? ""
            let occurredAt = (object["occurred_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } ?? Date()
            if type == "batch" {
                let events = try (object["events"] as? [[String: Any]] ?? []).map { event in
                    let data = try JSONSerialization.data(withJSONObject: event)
                    return try read(type: event["type"] as? String ?? "", payload: data)
                }
                return .batch(id: id, occurredAt: occurredAt, events: events)
            }
            return .notice(type: type, id: id, occurredAt: occurredAt, text: object["text"] as? String ?? type)
        } catch let error as ReadError {
            throw error
        } catch {
            throw ReadError(description: "\(type): the payload cannot be read (\(error))")
        }
    }

    /// The JSON of a batch of events (format `json`): `{"version": 1, "type": "batch", "id",
    /// "occurred_at", "events": [...]}`, each event as its own JSON.
    public static func batchPayload(id: String, occurredAt: Date, events: [Data]) throws -> Data {
        let members = try events.map { try JSONSerialization.jsonObject(with: $0) }
        let object: [String: Any] = [
            "version": 1, "type": "batch", "id": id,
            "occurred_at": occurredAt.formatted(.iso8601), "events": members,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}

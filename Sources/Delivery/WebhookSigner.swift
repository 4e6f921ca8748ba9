internal import COpenSSL
public import Foundation

/// Signs webhook requests: Standard Webhooks (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`, one signature per secret
/// while secrets rotate) or GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
/// Both send `webhook-id` and `webhook-timestamp`, so a receiver can drop a retry it already took.
public struct WebhookSigner: Sendable {
    /// How requests are signed, with the keys.
    public enum Scheme: Sendable {
        /// Standard Webhooks, with each secret's decoded key.
        case standard(keys: [Data])
        /// `X-Hub-Signature-256` with the first secret's bytes.
        case hub(secret: Data)
        /// No signature (no secret configured); the id and timestamp headers are still sent.
        case none
    }

    private let scheme: Scheme

    /// A signer.
    public init(scheme: Scheme) {
        self.scheme = scheme
    }

    /// Why a Standard Webhooks secret is unusable.
    public struct SecretError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The key of a Standard Webhooks secret, `whsec_` then base64 (the prefix is optional, as in
    /// the reference libraries).
    /// - Throws: ``SecretError`` when the rest is not base64 or decodes to fewer than 16 bytes; the
    ///   message never contains the secret.
    public static func standardKey(from secret: String) throws(SecretError) -> Data {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        let encoded = trimmed.hasPrefix("whsec_") ? String(trimmed.dropFirst(6)) : trimmed
        guard let key = Data(base64Encoded: encoded) else {
            throw SecretError(description: "a signing secret must be whsec_ followed by base64 (it is not base64)")
        }
        guard key.count >= 16 else {
            throw SecretError(description: "a signing secret must decode to at least 16 bytes (it has \(key.count))")
        }
        return key
    }

    /// The headers that sign `body` sent as event `id` at `timestamp` (Unix seconds).
    public func headers(id: String, timestamp: Int, body: Data) -> [(name: String, value: String)] {
        var headers = [(name: "webhook-id", value: id), (name: "webhook-timestamp", value: String(timestamp))]
        switch scheme {
        case .standard(let keys):
            let content = Data("\(id).\(timestamp).".utf8) + body
            let signatures = keys.map { "v1," + Self.hmac(key: $0, data: content).base64EncodedString() }
            headers.append((name: "webhook-signature", value: signatures.joined(separator: " ")))
        case .hub(let secret):
            let digest = Self.hmac(key: secret, data: body).map { String(format: "%02x", $0) }.joined()
            headers.append((name: "X-Hub-Signature-256", value: "sha256=" + digest))
        case .none:
            break
        }
        return headers
    }

    /// HMAC-SHA256 through libcrypto.
    static func hmac(key: Data, data: Data) -> Data {
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { keyBytes in
            data.withUnsafeBytes { dataBytes in
                _ = ew_hmac_sha256(keyBytes.baseAddress, keyBytes.count, dataBytes.baseAddress, dataBytes.count, &out)
            }
        }
        return Data(out)
    }
}

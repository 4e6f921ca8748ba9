import Foundation

/// Absolute URLs from what feeds write: most links are already absolute and pass through as
/// written; a relative one is resolved against its base.
enum FeedURL {
    /// `text` made absolute against `base`; as written when it is absolute or there is no base;
    /// nil when empty and there is no base.
    static func resolve(_ text: String, against base: URL?) -> String? {
        let trimmed = FeedText.trim(text)
        if trimmed.isEmpty { return base?.absoluteString }
        if hasScheme(trimmed) { return trimmed }
        guard let base else { return trimmed }
        let encoded =
            trimmed.addingPercentEncoding(withAllowedCharacters: .urlFragmentAllowed.union(["#", "%"])) ?? trimmed
        return URL(string: encoded, relativeTo: base)?.absoluteString ?? trimmed
    }

    /// `scheme:` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
    static func hasScheme(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ":") { return count > 0 }
            let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let other =
                count > 0
                && (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == 0x2B || byte == 0x2D
                    || byte == 0x2E)
            guard letter || other else { return false }
            count += 1
        }
        return false
    }
}

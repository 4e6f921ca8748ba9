/// The units a length limit counts: UTF-8 bytes (a body's size) or UTF-16 code units (what chat
/// platforms count, never fewer than they do).
package enum TextUnits: Sendable {
    case utf8, utf16
}

extension StringProtocol {
    /// The text's length in `units`.
    package func count(in units: TextUnits) -> Int {
        switch units {
        case .utf8: utf8.count
        case .utf16: utf16.count
        }
    }
}

extension String {
    /// The text cut to at most `limit` `units`, whole characters only, ending in "…" (counted) when
    /// cut; the text itself when it fits. A Character can be many units (a family emoji is 11
    /// UTF-16 units, 25 bytes): a cut by Characters alone could still exceed the limit.
    package func clipped(to limit: Int, in units: TextUnits) -> String {
        guard count(in: units) > limit else { return self }
        let ellipsis = "…"
        var length = ellipsis.count(in: units)
        var end = startIndex
        while end < endIndex {
            let next = index(after: end)
            let size = self[end..<next].count(in: units)
            guard length + size <= limit else { break }
            length += size
            end = next
        }
        return self[..<end] + ellipsis
    }
}

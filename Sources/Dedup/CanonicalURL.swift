import Foundation

/// The one spelling of a link that publishers' variations of it share: lower-case scheme and
/// host, no default port, no fragment, no tracking parameters, query parameters sorted, and
/// percent-encoding normalised (RFC 3986 §6.2.2).
///
/// Only `http` and `https` links are rewritten; anything else is returned trimmed, as given.
public enum CanonicalURL {
    /// Query parameters that identify a campaign or a click rather than a document, matched
    /// without regard to case. A parameter whose name starts with one of ``trackingPrefixes`` is
    /// removed too.
    public static let trackingParameters: Set<String> = [
        // Ad and social click ids.
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
        "igshid", "igsh", "epik",
        // Mail and marketing platforms.
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "vero_id", "vero_conv", "oly_anon_id",
        "oly_enc_id", "rb_clickid", "s_cid", "sc_cid", "cmpid", "ncid", "ocid", "wt.mc_id", "wt_mc_id",
        "sr_share", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "soc_src", "soc_trk", "ref_src", "ref_url", "smid", "smtyp", "trk", "trkcampaign", "guccounter",
        "guce_referrer", "guce_referrer_sig",
        // Chinese platforms: Alibaba's spm/scm, WeChat's share parameters, and "from" (where a click came from).
        "spm", "scm", "from", "share_token", "sharer_sharetime", "sharer_shareid", "share_source", "share_medium",
        "isappinstalled", "wfr", "tt_from",
    ]

    /// Name prefixes of tracking parameters (`utm_source`, `utm_medium`, `pk_campaign`, …).
    public static let trackingPrefixes = ["utm_", "pk_", "mtm_", "hmsr", "ga_", "_ga", "itm_"]

    /// The canonical form of `link`, or nil when it is empty.
    public static func canonicalize(_ link: String) -> String? {
        let trimmed = link.trimmingWhitespace
        guard !trimmed.isEmpty else { return nil }
        guard let parts = Parts(trimmed) else { return trimmed }
        var result = parts.scheme + "://"
        if let userInfo = parts.userInfo { result += normalizePercentEncoding(userInfo) + "@" }
        result += parts.host
        if let port = parts.port, port != (parts.scheme == "https" ? "443" : "80") { result += ":" + port }
        result += removeDotSegments(normalizePercentEncoding(parts.path.isEmpty ? "/" : parts.path))
        let parameters = parts.query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
            .map { normalizePercentEncoding(String(Substring($0))) }
            .filter { !isTracking($0) }
            .sorted()
        if !parameters.isEmpty { result += "?" + parameters.joined(separator: "&") }
        return result
    }

    /// The canonical link without its scheme (`//host/path?query`): the key items are matched by,
    /// so that a site moving from http to https does not make every item new again.
    public static func matchingKey(_ link: String) -> String? {
        canonicalize(link).map { matchingKey(canonical: $0) }
    }

    /// ``matchingKey(_:)`` of a link already in canonical form.
    static func matchingKey(canonical: String) -> String {
        guard let separator = Substring(canonical).firstRangeOfBytes("://") else { return canonical }
        return "//" + canonical[separator.upperBound...]
    }

    static func isTracking(_ parameter: String) -> Bool {
        let name = parameter[..<(parameter.utf8.firstIndex(of: UInt8(ascii: "=")) ?? parameter.endIndex)].lowercased()
        return trackingParameters.contains(name) || trackingPrefixes.contains { name.hasPrefix($0) }
    }

    /// The pieces of an absolute http(s) URL, scheme and host lower-cased. The delimiters are
    /// ASCII, so they are found among the UTF-8 bytes (a search by `Character` costs more than
    /// the rest of the canonicalisation).
    private struct Parts {
        var scheme: String
        var userInfo: String?
        var host: String
        var port: String?
        var path: String
        var query: Substring

        init?(_ link: String) {
            guard let schemeEnd = Substring(link).firstRangeOfBytes("://") else { return nil }
            scheme = link[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "http" || scheme == "https" else { return nil }
            var rest = link[schemeEnd.upperBound...]
            if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
            var queryPart: Substring = ""
            if let question = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
                queryPart = rest[rest.index(after: question)...]
                rest = rest[..<question]
            }
            query = queryPart
            let authorityEnd = rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            var authority = rest[..<authorityEnd]
            path = String(rest[authorityEnd...])
            if let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) {
                userInfo = String(authority[..<at])
                authority = authority[authority.index(after: at)...]
            }
            // A port follows the last colon, unless the colon is inside an IPv6 literal.
            if let colon = authority.utf8.lastIndex(of: UInt8(ascii: ":")),
                !authority[colon...].utf8.contains(UInt8(ascii: "]"))
            {
                let digits = authority[authority.index(after: colon)...].drop { $0 == "0" }
                port = digits.isEmpty ? nil : String(digits)
                authority = authority[..<colon]
            }
            var hostName = authority.lowercased()
            if hostName.hasSuffix(".") { hostName.removeLast() }
            guard !hostName.isEmpty else { return nil }
            host = hostName
        }
    }

    /// Decodes percent-escapes of unreserved characters, upper-cases the hex of the others, and
    /// escapes bytes that may not appear raw (spaces, non-ASCII).
    static func normalizePercentEncoding(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output.append(contentsOf: percentEscape(decoded))
                }
                index += 3
                continue
            }
            if byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<")
                || byte == UInt8(ascii: ">")
            {
                output.append(contentsOf: percentEscape(byte))
            } else {
                output.append(byte)
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// RFC 3986 §5.2.4: `/a/./b/../c` → `/a/c`.
    static func removeDotSegments(_ path: String) -> String {
        guard Substring(path).firstRangeOfBytes("/.") != nil else { return path }
        var segments: [Substring] = []
        let pieces = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (offset, piece) in pieces.enumerated() {
            let isLast = offset == pieces.count - 1
            switch piece {
            case ".":
                if isLast { segments.append("") }
            case "..":
                if !segments.isEmpty { segments.removeLast() }
                if isLast { segments.append("") }
            default: segments.append(piece)
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func percentEscape(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }
}

extension String {
    var trimmingWhitespace: String {
        // Most text starts and ends with a visible ASCII character: nothing to trim.
        if let first = utf8.first, let last = utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return self
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

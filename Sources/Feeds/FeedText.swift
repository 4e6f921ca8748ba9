internal import CLibXML2
import Foundation

/// Text clean-up shared by the parsers: titles and names are plain text.
enum FeedText {
    /// HTML or text → plain text: tags removed, entities decoded, whitespace collapsed.
    static func plain(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") }) else {
            return collapse(text)
        }
        var result = ""
        var inTag = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if inTag {
                if character == ">" { inTag = false }
                index = text.index(after: index)
                continue
            }
            if character == "<", let next = text.index(index, offsetBy: 1, limitedBy: text.endIndex), next < text.endIndex,
                text[next].isLetter || text[next] == "/" || text[next] == "!" || text[next] == "?"
            {
                inTag = true
                result.append(" ")
            } else if character == "&", let (decoded, end) = entity(in: text, at: index) {
                result += decoded
                index = end
                continue
            } else {
                result.append(character)
            }
            index = text.index(after: index)
        }
        return collapse(result)
    }

    /// Decodes `&name;`, `&#123;` and `&#x1F;` only: what an escaped title still carries.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "&", let (decoded, end) = entity(in: text, at: index) {
                result += decoded
                index = end
            } else {
                result.append(text[index])
                index = text.index(after: index)
            }
        }
        return result
    }

    /// Makes the relative `href` and `src` attribute values of an HTML fragment absolute.
    static func resolvingRelativeLinks(in html: String, against base: URL) -> String {
        guard html.contains("href") || html.contains("src") else { return html }
        var result = ""
        var rest = Substring(html)
        while let match = rest.firstRange(of: #/(?i)\b(href|src)\s*=\s*(["'])/#) {
            result += rest[..<match.upperBound]
            rest = rest[match.upperBound...]
            let quote = rest.base[rest.base.index(before: match.upperBound)]
            guard let end = rest.firstIndex(of: quote) else { break }
            let value = String(rest[..<end])
            let decoded = decodeEntities(value)
            if URL(string: decoded)?.scheme == nil, !decoded.hasPrefix("#"),
                let absolute = URL(string: decoded, relativeTo: base)?.absoluteString
            {
                result += absolute.replacingOccurrences(of: "&", with: "&amp;")
            } else {
                result += value
            }
            rest = rest[end...]
        }
        return result + rest
    }

    /// Runs of whitespace become one space; the ends are trimmed.
    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The character an HTML entity names, from libxml2's HTML entity table.
    static func namedEntity(_ name: String) -> String? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard let entry = htmlEntityLookup(name), let scalar = Unicode.Scalar(entry.pointee.value) else { return nil }
            return String(Character(scalar))
        }
    }

    private static func entity(in text: String, at start: String.Index) -> (String, String.Index)? {
        guard let semicolon = text[start...].prefix(12).firstIndex(of: ";") else { return nil }
        let body = text[text.index(after: start)..<semicolon]
        guard !body.isEmpty else { return nil }
        let end = text.index(after: semicolon)
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value) else { return nil }
            return (String(Character(scalar)), end)
        }
        return namedEntity(String(body)).map { ($0, end) }
    }
}

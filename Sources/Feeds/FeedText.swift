internal import CLibXML2
import Foundation

/// Text clean-up shared by the parsers, on UTF-8 bytes: feeds carry megabytes of text, and
/// Swift's `Character`-level operations (grapheme breaking, Unicode properties) cost far more
/// than these single passes.
enum FeedText {
    /// HTML or text → plain text: tags removed, entities decoded, whitespace collapsed.
    static func plain(_ text: String) -> String {
        plain(Array(text.utf8)[...])
    }

    /// ``plain(_:)`` over bytes.
    static func plain(_ bytes: ArraySlice<UInt8>) -> String {
        // Most titles hold neither markup nor entities: collapsing whitespace is all they need.
        if !bytes.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") || $0 == 0xC2 }) {
            return collapse(bytes)
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var pendingSpace = false
        var index = bytes.startIndex
        func emit(_ byte: UInt8) {
            if pendingSpace && !output.isEmpty { output.append(0x20) }
            pendingSpace = false
            output.append(byte)
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if isSpace(byte) {
                pendingSpace = true
                index += 1
            } else if byte == 0xC2, index + 1 < bytes.endIndex, bytes[index + 1] == 0xA0 {
                // A no-break space separates words like any other in a title.
                pendingSpace = true
                index += 2
            } else if byte == UInt8(ascii: "<"), index + 1 < bytes.endIndex, startsTag(bytes[index + 1]) {
                // A tag: skip to its end; it separates words like a space.
                while index < bytes.endIndex && bytes[index] != UInt8(ascii: ">") { index += 1 }
                index += 1
                pendingSpace = true
            } else if byte == UInt8(ascii: "&"), let (decoded, end) = entity(bytes, at: index) {
                if decoded == "\u{A0}" {
                    pendingSpace = true
                } else {
                    for decodedByte in decoded.utf8 {
                        if isSpace(decodedByte) { pendingSpace = true } else { emit(decodedByte) }
                    }
                }
                index = end
            } else {
                emit(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Runs of whitespace become one space; the ends are trimmed.
    static func collapse(_ text: String) -> String {
        collapse(Array(text.utf8)[...])
    }

    /// ``collapse(_:)`` over bytes, written straight into the new string's storage.
    static func collapse(_ bytes: ArraySlice<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { collapse(bytes, into: $0) }
    }

    /// ``collapse(_:)`` over bytes, as bytes.
    static func collapsedBytes(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { $1 = collapse(bytes, into: $0) }
    }

    /// Writes `bytes` collapsed into `output` (as large as `bytes`); returns how many it wrote.
    private static func collapse(_ bytes: ArraySlice<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        var pendingSpace = false
        for byte in bytes {
            if isSpace(byte) {
                pendingSpace = true
            } else {
                if pendingSpace && count > 0 {
                    output[count] = 0x20
                    count += 1
                }
                pendingSpace = false
                output[count] = byte
                count += 1
            }
        }
        return count
    }

    /// The text without ASCII whitespace at either end (the common case, none, costs no copy).
    static func trim(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last, isSpace(first) || isSpace(last) else { return text }
        return String(decoding: trimmed(Array(utf8)[...]), as: UTF8.self)
    }

    /// The bytes without ASCII whitespace at either end.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end && isSpace(bytes[start]) { start += 1 }
        while end > start && isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// Decodes `&name;`, `&#123;` and `&#x1F;` only: what an escaped value still carries.
    static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        let bytes = Array(text.utf8)[...]
        var output: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "&"), let (decoded, end) = entity(bytes, at: index) {
                output += decoded.utf8
                index = end
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
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
            guard let entry = htmlEntityLookup(name), let scalar = Unicode.Scalar(entry.pointee.value) else {
                return nil
            }
            return String(Character(scalar))
        }
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

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    private static func startsTag(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "/")
            || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")
    }

    private static func entity(_ bytes: ArraySlice<UInt8>, at start: Int) -> (String, Int)? {
        var semicolon = start + 1
        while semicolon < bytes.endIndex, semicolon - start <= 12, bytes[semicolon] != UInt8(ascii: ";") {
            semicolon += 1
        }
        guard semicolon < bytes.endIndex, bytes[semicolon] == UInt8(ascii: ";"), semicolon > start + 1 else {
            return nil
        }
        let body = String(decoding: bytes[(start + 1)..<semicolon], as: UTF8.self)
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value =
                digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value) else { return nil }
            return (String(Character(scalar)), semicolon + 1)
        }
        return namedEntity(body).map { ($0, semicolon + 1) }
    }
}

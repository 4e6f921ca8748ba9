import Foundation

/// Brings item text to the one form the topic terms are written in, once per item: markup
/// removed and entities decoded, Unicode NFKC (full-width letters and digits become ASCII),
/// Latin case folded, traditional Chinese characters mapped to simplified ones, whitespace
/// collapsed. Terms are normalized the same way when the matcher is built.
public enum TextNormalizer {
    /// The normalized text.
    public static func normalize(_ text: String) -> String {
        var plain = stripMarkup(text)
        // NFKC is the costly step; pure ASCII needs none of it.
        if !plain.utf8.allSatisfy({ $0 < 0x80 }) {
            plain = plain.precomposedStringWithCompatibilityMapping
            plain = String(String.UnicodeScalarView(plain.unicodeScalars.map { simplified[$0] ?? $0 }))
        }
        var output = ""
        output.reserveCapacity(plain.utf8.count)
        var pendingSpace = false
        for scalar in plain.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace {
                output.unicodeScalars.append(" ")
                pendingSpace = false
            }
            if scalar.isASCII, scalar.value >= 0x41, scalar.value <= 0x5A {
                output.unicodeScalars.append(Unicode.Scalar(scalar.value + 0x20)!)
            } else if scalar.value >= 0x80, scalar.properties.changesWhenCaseFolded {
                output += String(scalar).lowercased()
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    /// Traditional → simplified, from OpenCC's character table.
    static let simplified: [Unicode.Scalar: Unicode.Scalar] = {
        let scalars = TraditionalChinese.pairs.unicodeScalars.filter { !$0.properties.isWhitespace }
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        map.reserveCapacity(scalars.count / 2)
        var iterator = scalars.makeIterator()
        while let traditional = iterator.next(), let simplified = iterator.next() {
            map[traditional] = simplified
        }
        return map
    }()

    /// Tags removed (each a space), the common entities decoded.
    static func stripMarkup(_ text: String) -> String {
        guard text.contains("<") || text.contains("&") else { return text }
        var output = ""
        var inTag = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if inTag {
                if character == ">" { inTag = false }
            } else if character == "<" {
                inTag = true
                output.append(" ")
            } else if character == "&", let semicolon = text[index...].prefix(10).firstIndex(of: ";") {
                let name = text[text.index(after: index)..<semicolon]
                let entities: [Substring: String] = [
                    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ",
                ]
                if let decoded = entities[name] {
                    output += decoded
                } else if name.hasPrefix("#"), let value = UInt32(name.dropFirst()), let scalar = Unicode.Scalar(value)
                {
                    output.unicodeScalars.append(scalar)
                } else {
                    output.append(character)
                    index = text.index(after: index)
                    continue
                }
                index = text.index(after: semicolon)
                continue
            } else {
                output.append(character)
            }
            index = text.index(after: index)
        }
        return output
    }
}

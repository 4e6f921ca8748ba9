internal import CLibXML2
import Foundation

/// Mends the mistakes real feeds make most, for a second parse of a document that failed the first.
///
/// Why a second parse needs this: once libxml2 has met one well-formedness error it stops
/// delivering entity references, even `&amp;`, for the rest of the document, so one `&nbsp;`
/// or one unclosed `<br>` in an early description silently eats every `&` after it. Character
/// references survive recovery, so every entity becomes one:
/// - `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` → `&#38;` …;
/// - an HTML entity (`&nbsp;`, `&mdash;`, from libxml2's HTML table) → its `&#N;`;
/// - any other `&name;` (an entity declared in a DTD, which is never expanded) → literal text;
/// - a bare `&` (`Fish & Chips`, `?a=1&b=2`) → `&#38;`;
/// - an HTML void element written unclosed (`<br>`, `<hr>`, `<img …>`, `<wbr>`) → self-closed.
///
/// CDATA sections, comments and processing instructions are left as they are.
enum XMLRepair {
    /// What a repair changed, for the feed's warnings.
    struct Notes: Equatable {
        var bareAmpersands = 0
        var htmlEntities = 0
        var unknownEntities = 0
        var voidElements = 0

        var summary: String? {
            var parts: [String] = []
            if bareAmpersands > 0 { parts.append("\(bareAmpersands) bare '&'") }
            if htmlEntities > 0 { parts.append("\(htmlEntities) HTML entities") }
            if unknownEntities > 0 { parts.append("\(unknownEntities) undefined entities kept as text") }
            if voidElements > 0 { parts.append("\(voidElements) unclosed <br>/<hr>/<img>") }
            return parts.isEmpty ? nil : "repaired before parsing: " + parts.joined(separator: ", ")
        }
    }

    /// The mended document and what was mended.
    static func repaired(_ data: Data) -> (Data, Notes) {
        let bytes = [UInt8](data)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 16)
        var notes = Notes()
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                if let end = skipVerbatim(bytes, at: index) {
                    output += bytes[index..<end]
                    index = end
                    continue
                }
                if let (tagEnd, selfClose) = unclosedVoidElement(bytes, at: index) {
                    output += bytes[index..<tagEnd]
                    if selfClose {
                        output += Array("/>".utf8)
                        notes.voidElements += 1
                    } else {
                        output.append(UInt8(ascii: ">"))
                    }
                    index = tagEnd + 1
                    continue
                }
                output.append(byte)
                index += 1
            } else if byte == UInt8(ascii: "&") {
                index = rewriteReference(bytes, at: index, into: &output, notes: &notes)
            } else {
                output.append(byte)
                index += 1
            }
        }
        return (Data(output), notes)
    }

    /// The end of a CDATA section, comment, processing instruction or DOCTYPE starting at `index`.
    private static func skipVerbatim(_ bytes: [UInt8], at index: Int) -> Int? {
        for (open, close) in [("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?", "?>")] where starts(bytes, open, at: index)
        {
            return find(bytes, close, from: index + open.utf8.count).map { $0 + close.utf8.count } ?? bytes.count
        }
        return nil
    }

    private static let voidElements: [[UInt8]] = ["br", "hr", "img", "wbr"].map { Array($0.utf8) }

    /// For `<br>`, `<img src=…>` and friends: the index of the tag's `>` and whether it needs closing.
    private static func unclosedVoidElement(_ bytes: [UInt8], at index: Int) -> (Int, Bool)? {
        for name in voidElements where index + name.count + 1 < bytes.count {
            let candidate = bytes[(index + 1)...].prefix(name.count).map { $0 | 0x20 }
            guard candidate.elementsEqual(name) else { continue }
            let after = bytes[index + name.count + 1]
            guard after == UInt8(ascii: ">") || after == UInt8(ascii: "/") || FeedText.isSpace(after) else { continue }
            guard let close = bytes[(index + 1)...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
            return (close, bytes[close - 1] != UInt8(ascii: "/"))
        }
        return nil
    }

    /// Writes the reference (or bare `&`) at `index` as a character reference; returns where to go on.
    private static func rewriteReference(
        _ bytes: [UInt8], at index: Int, into output: inout [UInt8], notes: inout Notes
    ) -> Int {
        var cursor = index + 1
        while cursor < bytes.count, cursor - index <= 32, isNameByte(bytes[cursor]) { cursor += 1 }
        guard cursor > index + 1, cursor < bytes.count, bytes[cursor] == UInt8(ascii: ";") else {
            output += Array("&#38;".utf8)
            notes.bareAmpersands += 1
            return index + 1
        }
        let name = String(decoding: bytes[(index + 1)..<cursor], as: UTF8.self)
        if name.hasPrefix("#") {
            output += bytes[index...cursor]
        } else if let scalar = FeedText.namedEntity(name)?.unicodeScalars.first {
            output += Array("&#\(scalar.value);".utf8)
            if !["amp", "lt", "gt", "quot", "apos"].contains(name) { notes.htmlEntities += 1 }
        } else {
            output += Array("&#38;".utf8) + bytes[(index + 1)...cursor]
            notes.unknownEntities += 1
        }
        return cursor + 1
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            || byte >= UInt8(ascii: "0")
                && byte <= UInt8(ascii: "9")
            || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func starts(_ bytes: [UInt8], _ literal: String, at index: Int) -> Bool {
        let pattern = Array(literal.utf8)
        return index + pattern.count <= bytes.count && bytes[index..<(index + pattern.count)].elementsEqual(pattern)
    }

    private static func find(_ bytes: [UInt8], _ literal: String, from start: Int) -> Int? {
        let pattern = Array(literal.utf8)
        var cursor = start
        while cursor + pattern.count <= bytes.count {
            if bytes[cursor] == pattern[0], bytes[cursor..<(cursor + pattern.count)].elementsEqual(pattern) {
                return cursor
            }
            cursor += 1
        }
        return nil
    }
}

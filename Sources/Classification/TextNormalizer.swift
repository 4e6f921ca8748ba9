import Foundation

/// Brings item text to the one form the topic terms are written in, once per item: markup
/// removed and entities decoded, Unicode NFKC (full-width letters and digits become ASCII),
/// Latin case folded, traditional Chinese characters mapped to simplified ones, whitespace
/// collapsed. Terms are normalized the same way when the matcher is built.
public enum TextNormalizer {
    /// The normalized text.
    public static func normalize(_ text: String) -> String {
        normalize(parts: [text])
    }

    /// The normalized text of several fields (a title and a summary), joined by a space, without
    /// building the joined text first.
    public static func normalize(parts: [String]) -> String {
        var parts = parts
        return normalizeCommonScripts(&parts) ?? normalizeAnyScript(parts)
    }

    /// The general path: markup stripped, then Foundation's full NFKC, for text holding anything
    /// outside ASCII, Latin-1, CJK ideographs, full-width forms and common punctuation.
    static func normalizeAnyScript(_ parts: [String]) -> String {
        let stripped = stripMarkup(Array(parts.joined(separator: " ").utf8))
        var unicode = String(decoding: stripped, as: UTF8.self).precomposedStringWithCompatibilityMapping
        unicode = String(String.UnicodeScalarView(unicode.unicodeScalars.map { simplified[$0] ?? $0 }))
        if unicode.unicodeScalars.contains(where: { $0.value >= 0x80 && $0.properties.changesWhenLowercased }) {
            unicode = unicode.lowercased()
        }
        return collapse(Array(unicode.utf8))
    }

    /// NFKC, folding, the traditional → simplified map, markup removal and entity decoding in one
    /// pass over UTF-8, for text made only of scalars whose NFKC form is known here: ASCII, Latin-1
    /// letters, CJK unified ideographs (NFKC leaves them as they are), full-width ASCII (→ ASCII),
    /// the ideographic and no-break spaces (→ space), the ellipsis (→ "..."), and CJK and general
    /// punctuation that NFKC leaves alone. Nil when the text holds anything else.
    static func normalizeCommonScripts(_ parts: inout [String]) -> String? {
        let capacity = parts.reduce(parts.count) { $0 + $1.utf8.count }
        var complete = true
        // The output is never longer than the input: every mapping here keeps or shortens a character.
        let result = String(unsafeUninitializedCapacity: capacity) { output in
            var writer = Writer(output: output.baseAddress!)
            table.withUnsafeBufferPointer { simplified in
                for part in parts.indices where complete {
                    writer.separate()
                    parts[part].withUTF8 { bytes in
                        complete = writer.append(bytes, simplified: simplified)
                    }
                }
            }
            return complete ? writer.finish() : 0
        }
        return complete ? result : nil
    }

    /// Writes normalized UTF-8 into a string's uninitialized storage. A value with mutating methods,
    /// so that its position lives in a register rather than in a captured box.
    ///
    /// Whitespace, tags and field boundaries write one space at once unless the output is empty or
    /// already ends in one (no other mapping writes a space), and ``finish()`` drops a trailing one:
    /// that is whitespace collapsed and trimmed, and it lets a run of plain ASCII be copied eight
    /// bytes at a time.
    private struct Writer {
        let output: UnsafeMutablePointer<UInt8>
        var length = 0

        init(output: UnsafeMutablePointer<UInt8>) { self.output = output }

        /// The length of the normalized text.
        func finish() -> Int { length > 0 && output[length - 1] == 0x20 ? length - 1 : length }

        /// Appends one field; false when it holds a scalar outside the common scripts.
        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, simplified: UnsafeBufferPointer<UInt16>) -> Bool {
            let count = bytes.count
            guard let base = bytes.baseAddress else { return true }
            var index = 0
            while index < count {
                // Eight bytes of ASCII text with no markup, no control characters and no doubled
                // space go through at once, lower-cased.
                if index &+ 8 <= count {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    if let lowered = plainASCII(word) {
                        UnsafeMutableRawPointer(output + length).storeBytes(of: lowered, as: UInt64.self)
                        length &+= 8
                        index &+= 8
                        continue
                    }
                }
                let lead = bytes[index]
                if lead < 0x80 {
                    if lead == UInt8(ascii: "<"), index + 1 < count, startsTag(bytes[index + 1]) {
                        while index < count && bytes[index] != UInt8(ascii: ">") { index += 1 }
                        separate()
                        index += 1
                        continue
                    }
                    if lead == UInt8(ascii: "&"), let (scalar, end) = entity(bytes, at: index) {
                        guard emit(scalar, simplified: simplified) else { return false }
                        index = end
                        continue
                    }
                    if lead == 0x20 || lead == 0x0A || lead == 0x09 || lead == 0x0D {
                        separate()
                    } else {
                        output[length] = lead >= 0x41 && lead <= 0x5A ? lead + 0x20 : lead
                        length &+= 1
                    }
                    index += 1
                    continue
                }
                let scalar: UInt32
                if lead & 0xE0 == 0xC0, index + 1 < count {
                    scalar = UInt32(lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
                    index += 2
                } else if lead & 0xF0 == 0xE0, index + 2 < count {
                    scalar =
                        UInt32(lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6
                        | UInt32(bytes[index + 2] & 0x3F)
                    // CJK ideographs, most of Chinese text: copied unless they have a simplified form.
                    if scalar >= 0x4E00 && scalar <= 0x9FFF {
                        let mapped = simplified[Int(scalar &- 0x4E00)]
                        if mapped == 0 {
                            output[length] = lead
                            output[length &+ 1] = bytes[index &+ 1]
                            output[length &+ 2] = bytes[index &+ 2]
                            length &+= 3
                        } else {
                            write(UInt32(mapped))
                        }
                        index += 3
                        continue
                    }
                    index += 3
                } else {
                    return false
                }
                guard emit(scalar, simplified: simplified) else { return false }
            }
            return true
        }

        /// One space, unless the output is empty or already ends in one.
        @inline(__always)
        mutating func separate() {
            if length > 0 && output[length &- 1] != 0x20 {
                output[length] = 0x20
                length &+= 1
            }
        }

        /// `word` lower-cased when its eight bytes are ASCII other than controls, `<` and `&`, and
        /// its spaces are single and cannot double one already written; else nil.
        @inline(__always)
        func plainASCII(_ word: UInt64) -> UInt64? {
            let high: UInt64 = 0x8080_8080_8080_8080
            let ones: UInt64 = 0x0101_0101_0101_0101
            guard word & high == 0 else { return nil }
            // With every byte below 0x80, adding to a byte never carries into the next one.
            let controls = ~(word &+ ones &* 0x60) & high
            let spaces = Self.bytesEqual(word, 0x20)
            let markup = Self.bytesEqual(word, UInt8(ascii: "<")) | Self.bytesEqual(word, UInt8(ascii: "&"))
            // Little-endian: the byte after byte i is byte i + 1, eight bits up.
            guard controls | markup | (spaces & (spaces << 8)) == 0 else { return nil }
            if spaces & 0x80 != 0, length == 0 || output[length &- 1] == 0x20 { return nil }
            let atLeastA = word &+ ones &* UInt64(0x80 - 0x41)
            let aboveZ = word &+ ones &* UInt64(0x80 - 0x5B)
            let upper = (atLeastA ^ aboveZ) & high
            return word | upper >> 2
        }

        /// The high bit of each byte of `word` (all below 0x80) that equals `byte`.
        @inline(__always)
        static func bytesEqual(_ word: UInt64, _ byte: UInt8) -> UInt64 {
            let difference = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
            return ~((difference & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F | difference) & 0x8080_8080_8080_8080
        }

        @inline(__always)
        mutating func emit(_ scalar: UInt32, simplified: UnsafeBufferPointer<UInt16>) -> Bool {
            switch scalar {
            case 0x20, 0x0A, 0x09, 0x0D, 0x3000, 0x00A0:
                separate()
            case 0x00...0x7F, 0x00DF...0x00FF, 0x3001...0x3003, 0x3008...0x3011, 0x3014...0x301B, 0x2010,
                0x2013...0x2016,
                0x2018...0x201F, 0x2022, 0x2030, 0x00B7, 0x00A9, 0x00AE, 0x00B0:
                write(scalar >= 0x41 && scalar <= 0x5A ? scalar + 0x20 : scalar)
            case 0x00C0...0x00DE where scalar != 0x00D7:
                write(scalar + 0x20)  // Latin-1 capitals: NFKC leaves them, folding lowers them.
            case 0x4E00...0x9FFF:
                let mapped = simplified[Int(scalar - 0x4E00)]
                write(mapped == 0 ? scalar : UInt32(mapped))
            case 0xFF01...0xFF5E:
                let ascii = scalar - 0xFEE0
                write(ascii >= 0x41 && ascii <= 0x5A ? ascii + 0x20 : ascii)
            case 0x2026:
                write(0x2E)
                write(0x2E)
                write(0x2E)
            default:
                return false
            }
            return true
        }

        /// A scalar other than a space, as UTF-8.
        @inline(__always)
        mutating func write(_ scalar: UInt32) {
            if scalar < 0x80 {
                output[length] = UInt8(scalar)
                length += 1
            } else if scalar < 0x800 {
                output[length] = UInt8(0xC0 | (scalar >> 6))
                output[length + 1] = UInt8(0x80 | (scalar & 0x3F))
                length += 2
            } else {
                output[length] = UInt8(0xE0 | (scalar >> 12))
                output[length + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                output[length + 2] = UInt8(0x80 | (scalar & 0x3F))
                length += 3
            }
        }
    }

    @inline(__always)
    fileprivate static func startsTag(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "/")
            || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")
    }

    /// The entity at `index` (`&amp;`, `&#8217;`, `&#x2019;`) as a scalar, and where it ends.
    fileprivate static func entity(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int)? {
        var end = index + 1
        while end < bytes.count, end - index <= 10, bytes[end] != 0x3B { end += 1 }
        guard end < bytes.count, bytes[end] == 0x3B, end > index + 1 else { return nil }
        let name = UnsafeBufferPointer(rebasing: bytes[(index + 1)..<end])
        if name[0] == UInt8(ascii: "#") {
            var value: UInt32 = 0
            let hex = name.count > 1 && (name[1] | 0x20) == UInt8(ascii: "x")
            for byte in name.dropFirst(hex ? 2 : 1) {
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x61...0x66 where hex: digit = UInt32(byte - 0x61 + 10)
                case 0x41...0x46 where hex: digit = UInt32(byte - 0x41 + 10)
                default: return nil
                }
                value = value * (hex ? 16 : 10) + digit
            }
            return value > 0 && value < 0x110000 ? (value, end + 1) : nil
        }
        for (entityName, scalar) in namedEntities where name.elementsEqual(entityName) { return (scalar, end + 1) }
        return nil
    }

    private static let namedEntities: [([UInt8], UInt32)] = [
        ("amp", 0x26), ("lt", 0x3C), ("gt", 0x3E), ("quot", 0x22), ("apos", 0x27), ("nbsp", 0xA0), ("mdash", 0x2014),
        ("ndash", 0x2013), ("rsquo", 0x2019), ("lsquo", 0x2018), ("ldquo", 0x201C), ("rdquo", 0x201D),
        ("hellip", 0x2026),
    ].map { (Array($0.0.utf8), $0.1) }

    private static let table = simplifiedTable

    /// ``simplified`` as a flat table over U+4E00…U+9FFF (0 where a character maps to itself).
    static let simplifiedTable: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 0xA000 - 0x4E00)
        forEachTraditionalPair { traditional, simplified in
            guard (0x4E00...0x9FFF).contains(traditional.value), simplified.value <= 0xFFFF else { return }
            table[Int(traditional.value - 0x4E00)] = UInt16(simplified.value)
        }
        return table
    }()

    /// Runs of ASCII whitespace become one space; ASCII letters are lower-cased; the ends are trimmed.
    static func collapse(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { output in
            var count = 0
            var pendingSpace = false
            for var byte in bytes {
                if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D {
                    pendingSpace = count > 0
                    continue
                }
                if pendingSpace {
                    output[count] = 0x20
                    count += 1
                    pendingSpace = false
                }
                if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
                output[count] = byte
                count += 1
            }
            return count
        }
    }

    /// Traditional → simplified, from OpenCC's character table.
    static let simplified: [Unicode.Scalar: Unicode.Scalar] = {
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        forEachTraditionalPair { traditional, simplified in map[traditional] = simplified }
        return map
    }()

    /// Each pair of ``TraditionalChinese/pairs``, skipping the text's line breaks and indentation
    /// (ASCII: testing each character for the Unicode whitespace property cost ~1 ms at every start).
    private static func forEachTraditionalPair(_ body: (Unicode.Scalar, Unicode.Scalar) -> Void) {
        var traditional: Unicode.Scalar?
        for scalar in TraditionalChinese.pairs.unicodeScalars where scalar.value > 0x20 {
            if let first = traditional {
                body(first, scalar)
                traditional = nil
            } else {
                traditional = scalar
            }
        }
    }

    /// Tags removed (each a space), the common entities decoded, over UTF-8 bytes.
    static func stripMarkup(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") }) else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                while index < bytes.count && bytes[index] != UInt8(ascii: ">") { index += 1 }
                output.append(0x20)
                index += 1
            } else if byte == UInt8(ascii: "&"), let (decoded, end) = entityBytes(bytes, at: index) {
                output += decoded
                index = end
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// ``entity(_:at:)`` for the slow path, as UTF-8 bytes.
    private static func entityBytes(_ bytes: [UInt8], at index: Int) -> ([UInt8], Int)? {
        bytes.withUnsafeBufferPointer { buffer in
            entity(buffer, at: index).flatMap { scalar, end in
                Unicode.Scalar(scalar).map { (Array(String($0).utf8), end) }
            }
        }
    }
}

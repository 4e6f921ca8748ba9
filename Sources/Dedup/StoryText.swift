import Classification
import Foundation

/// The text a story is recognised by, and its SimHash: the headline without the outlet's name
/// and wire prefixes, then the lead of the summary, normalised (markup, NFKC, case, traditional →
/// simplified Chinese) and cut into features: word unigrams and bigrams of Latin text (function
/// words dropped), character 3-grams of Chinese text.
///
/// The headline weighs three times the lead: outlets shorten or extend a summary far more often
/// than they rewrite a wire headline, so a story is matched mostly on its headline while the lead
/// keeps two headlines of a series ("Commerce adds 12 entities…", "Commerce adds 31 entities…")
/// apart.
public enum StoryText {
    /// How many words of the summary's first sentence count.
    static let leadWords = 30
    /// How many Chinese characters of the summary's first sentence count.
    static let leadCharacters = 60
    static let headlineWeight = 3

    /// The fingerprint of an item's title and summary, or nil when neither has any text.
    public static func simHash(title: String, summary: String?) -> SimHash? {
        fingerprint(title: title, summary: summary).simHash
    }

    /// A hash of the numbers in the headline, in order (`37`; `2024 5 22`), or 0 when it has none.
    /// Wire copies of a story keep its headline's numbers; a series (daily briefings, numbered
    /// announcements, "Commerce adds 12 entities…") differs mostly in them.
    public static func headlineNumbers(_ title: String) -> UInt32 {
        headlineNumbers(normalizedHeadline: TextNormalizer.normalize(headlineCore(title)))
    }

    /// ``simHash(title:summary:)`` and ``headlineNumbers(_:)`` at once, normalising each text once.
    public static func fingerprint(title: String, summary: String?) -> (simHash: SimHash?, headlineNumbers: UInt32) {
        let normalizedHeadline = TextNormalizer.normalize(headlineCore(title))
        let headline = tokens(of: normalizedHeadline)
        let lead = cutLead(
            tokens(of: withoutDateline(firstSentence(of: TextNormalizer.normalize(leadSource(summary ?? ""))))))
        var features: [(hash: UInt64, weight: Int)] = []
        features.reserveCapacity(2 * (headline.count + lead.count))
        addFeatures(of: headline, weight: headlineWeight, to: &features)
        addFeatures(of: lead, weight: 1, to: &features)
        return (SimHash(features: features), headlineNumbers(normalizedHeadline: normalizedHeadline))
    }

    /// How much of a summary is read for its lead: the lead is at most the first 30 words of the first
    /// sentence, and normalising a whole article to find them cost more than the rest of the fingerprint.
    static let leadSourceBytes = 4096

    /// The summary's first ``leadSourceBytes`` bytes, cut at a scalar boundary.
    static func leadSource(_ summary: String) -> String {
        let utf8 = summary.utf8
        guard utf8.count > leadSourceBytes else { return summary }
        var end = utf8.index(utf8.startIndex, offsetBy: leadSourceBytes)
        while end > utf8.startIndex, UTF8.isContinuation(utf8[end]) { end = utf8.index(before: end) }
        return String(summary[..<end])
    }

    private static func headlineNumbers(normalizedHeadline: String) -> UInt32 {
        var numbers: [UInt8] = []
        var inNumber = false
        for byte in normalizedHeadline.utf8 {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if !inNumber, !numbers.isEmpty { numbers.append(UInt8(ascii: " ")) }
                numbers.append(byte)
                inNumber = true
            } else {
                inNumber = false
            }
        }
        return numbers.isEmpty ? 0 : UInt32(truncatingIfNeeded: StableHash.hash(numbers) | 1)
    }

    /// The headline with an outlet's name after a separator (` - Reuters`, `| AP News`, `_新华网`)
    /// and wire prefixes (`UPDATE 2-`, `EXCLUSIVE:`) removed.
    public static func headlineCore(_ title: String) -> String {
        var core = Substring(title.trimmingWhitespace)
        // A headline opening with an ASCII byte that starts no wire prefix (most) skips lower-casing its opening.
        if let first = core.utf8.first, first >= 0x80 || wirePrefixInitials.contains(first | 0x20) {
            let opening = core.prefix(12).lowercased()
            for prefix in wirePrefixes where opening.hasPrefix(prefix) {
                core = core.dropFirst(prefix.count).drop { $0 == " " || $0.isNumber || $0 == "-" || $0 == ":" }
                break
            }
        }
        // Only the last segment is dropped, and only when it is short and what remains is not.
        for separator in outletSeparators {
            guard let range = core.lastRangeOfBytes(separator) else { continue }
            let outlet = core[range.upperBound...]
            let rest = core[..<range.lowerBound]
            let restIsLongEnough = rest.unicodeScalars.contains { isHan($0) } ? rest.count >= 5 : rest.count >= 8
            if isShortLabel(outlet), restIsLongEnough {
                core = rest
                break
            }
        }
        return String(core).trimmingWhitespace
    }

    private static let wirePrefixes = [
        "update ", "exclusive-", "exclusive:", "breaking:", "analysis-", "factbox-", "独家：",
    ]
    /// The first bytes of the ASCII wire prefixes.
    private static let wirePrefixInitials = Set(wirePrefixes.compactMap { $0.utf8.first }.filter { $0 < 0x80 })
    private static let outletSeparators = [" - ", " | ", " — ", " – ", "｜", "|", "_", "－", " -- "]

    private static func isShortLabel(_ text: Substring) -> Bool {
        let trimmed = String(text).trimmingWhitespace
        guard !trimmed.isEmpty else { return false }
        let isChinese = trimmed.unicodeScalars.contains { isHan($0) }
        return isChinese ? trimmed.count <= 12 : trimmed.split(separator: " ").count <= 4
    }

    /// Up to the first sentence end (`.`, `!`, `?` before a space, or `。！？`) of normalised text.
    static func firstSentence(of text: String) -> String {
        // On UTF-8 bytes: the ideographic full stop and the full-width marks are E3 80 82, EF BC 81
        // and EF BC 9F.
        let utf8 = text.utf8
        var previousWasEnd = false
        var end = utf8.endIndex
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            let next = utf8.index(after: index)
            if byte == 0xE3 || byte == 0xEF, utf8.distance(from: index, to: utf8.endIndex) >= 3 {
                let second = utf8[next]
                let third = utf8[utf8.index(after: next)]
                if byte == 0xE3 && second == 0x80 && third == 0x82
                    || byte == 0xEF && second == 0xBC && (third == 0x81 || third == 0x9F)
                {
                    end = utf8.index(index, offsetBy: 3)
                    break
                }
            }
            if previousWasEnd, byte == 0x20 || byte == 0x0A {
                end = index
                break
            }
            previousWasEnd = byte == UInt8(ascii: ".") || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")
            index = next
        }
        return String(text[..<end])
    }

    /// A lead without its dateline: `washington (reuters) - `, `beijing, may 10 (xinhua) -- `,
    /// `新华社北京5月10日电（记者 张三）`. Outlets that run a wire story add or drop it.
    static func withoutDateline(_ lead: String) -> String {
        withoutASCIIDateline(lead) ?? withoutDatelineByCharacters(lead)
    }

    /// ``withoutDateline(_:)`` read as `Character`s: any lead.
    static func withoutDatelineByCharacters(_ lead: String) -> String {
        let head = lead.prefix(80)
        for separator in [" - ", " -- ", " — ", " – "] {
            if let range = head.firstRangeOfBytes(separator), head[..<range.lowerBound].split(separator: " ").count <= 6
            {
                return String(lead[range.upperBound...])
            }
        }
        // Compared as characters only when its bytes are there at all.
        if head.firstRangeOfBytes("电") != nil, let wire = head.prefix(24).firstIndex(of: "电") {
            var rest = lead[lead.index(after: wire)...]
            if rest.first == "(", let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
            return String(rest).trimmingWhitespace
        }
        return lead
    }

    /// ``withoutDateline(_:)`` of a lead whose first 81 bytes are ASCII other than a carriage
    /// return, read as bytes (each such byte is a `Character`, and none of them is `电` or a long
    /// dash); nil for any other lead. Walking the first 80 `Character`s was a fifth of a
    /// fingerprint's cost.
    static func withoutASCIIDateline(_ lead: String) -> String? {
        var lead = lead
        let end = lead.withUTF8 { bytes -> Int? in
            let head = UnsafeBufferPointer(rebasing: bytes.prefix(80))
            guard bytes.prefix(81).allSatisfy({ $0 < 0x80 && $0 != 0x0D }) else { return nil }
            for separator in asciiDatelineSeparators {
                guard
                    let start = separator.withUnsafeBufferPointer({
                        Substring.searchBytes($0, in: head, firstOnly: true)?.lowerBound
                    })
                else { continue }
                // Words before it, as `split(separator: " ")` counts them.
                var words = 0
                for index in 0..<start where head[index] != 0x20 && (index == 0 || head[index - 1] == 0x20) {
                    words += 1
                }
                if words <= 6 { return start + separator.count }
            }
            return 0
        }
        guard let end else { return nil }
        guard end > 0 else { return lead }
        let utf8 = lead.utf8
        return String(lead[utf8.index(utf8.startIndex, offsetBy: end)...])
    }

    private static let asciiDatelineSeparators: [[UInt8]] = [Array(" - ".utf8), Array(" -- ".utf8)]

    /// A word of Latin text or one Chinese character.
    struct Token: Equatable {
        var text: Substring
        var isHan: Bool
    }

    /// Latin words (letters and digits) and single Han characters of normalised text; English
    /// function words are dropped.
    static func tokens(of normalized: String, droppingFunctionWords: Bool = true) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(normalized.utf8.count / 4)
        let scalars = normalized.unicodeScalars
        var wordStart: String.Index?
        func endWord(at index: String.Index) {
            if let start = wordStart {
                let word = normalized[start..<index]
                if !droppingFunctionWords || !isStopWord(word) {
                    tokens.append(Token(text: word, isHan: false))
                }
                wordStart = nil
            }
        }
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            if scalar.isASCII {
                // Normalised text is lower-case: letters and digits make words, the rest separates them.
                let value = scalar.value
                if (0x61...0x7A).contains(value) || (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) {
                    if wordStart == nil { wordStart = index }
                } else {
                    endWord(at: index)
                }
            } else if isHan(scalar) {
                endWord(at: index)
                tokens.append(Token(text: normalized[index..<next], isHan: true))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if wordStart == nil { wordStart = index }
            } else if scalar.properties.generalCategory == .nonspacingMark, wordStart != nil {
                // A combining mark stays with its letter.
            } else {
                endWord(at: index)
            }
            index = next
        }
        endWord(at: scalars.endIndex)
        return tokens
    }

    private static func cutLead(_ tokens: [Token]) -> [Token] {
        var words = 0
        var characters = 0
        var cut: [Token] = []
        for token in tokens {
            if token.isHan { characters += 1 } else { words += 1 }
            if words > leadWords || characters > leadCharacters { break }
            cut.append(token)
        }
        return cut
    }

    /// Latin: each word and each pair of adjacent words; Han: each run's 3-grams (a shorter run as a whole).
    private static func addFeatures(of tokens: [Token], weight: Int, to features: inout [(hash: UInt64, weight: Int)]) {
        var index = 0
        while index < tokens.count {
            var end = index
            while end < tokens.count, tokens[end].isHan == tokens[index].isHan { end += 1 }
            if tokens[index].isHan {
                // Character 3-grams, or a shorter run whole, hashed as their joined UTF-8 bytes.
                let gram = min(3, end - index)
                for start in index...(end - gram) {
                    var hasher = StableHash.Hasher()
                    for token in tokens[start..<start + gram] { hasher.add(token.text.utf8) }
                    features.append((hasher.value, weight))
                }
            } else {
                // Each word, and each pair of adjacent words joined by a space.
                for offset in index..<end {
                    var hasher = StableHash.Hasher()
                    hasher.add(tokens[offset].text.utf8)
                    features.append((hasher.value, weight))
                    if offset + 1 < end {
                        hasher.add(CollectionOfOne(UInt8(ascii: " ")))
                        hasher.add(tokens[offset + 1].text.utf8)
                        features.append((hasher.value, weight))
                    }
                }
            }
            index = end
        }
    }

    static func isHan(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F: true
        default: false
        }
    }

    /// Whether `word` is an English function word, compared as bytes: every function word is
    /// ASCII and at most seven bytes, so a word is looked up as the integer its bytes and length
    /// pack into, in a sorted table (hashing each word for a set was a fifth of the tokenising).
    static func isStopWord(_ word: Substring) -> Bool {
        guard let packed = packed(word.utf8) else { return false }
        var low = 0
        var high = packedStopWords.count
        while low < high {
            let middle = (low + high) / 2
            if packedStopWords[middle] < packed { low = middle + 1 } else { high = middle }
        }
        return low < packedStopWords.count && packedStopWords[low] == packed
    }

    /// Up to seven bytes, little-endian, with their count in the top byte; nil for more.
    private static func packed(_ bytes: some Collection<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            guard shift < 56 else { return nil }
            value |= UInt64(byte) << shift
            shift += 8
        }
        return value | (shift / 8) << 56
    }

    private static let packedStopWords = stopWords.map { packed($0.utf8)! }.sorted()

    private static let stopWords: [String] = [
        "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "by", "with", "at", "as", "is", "are", "was",
        "were", "be", "been", "its", "it", "that", "this", "from", "has", "have", "had", "will", "would", "says",
        "said", "say", "s", "after", "over", "into", "amid", "new",
    ]
}

extension Substring {
    /// The first occurrence of `needle`, compared as UTF-8 bytes (the standard library's and
    /// Foundation's searches walk characters or bridge to NSString, and cost more than the rest of a
    /// fingerprint).
    func firstRangeOfBytes(_ needle: String) -> Range<Index>? {
        rangesOfBytes(needle, firstOnly: true)
    }

    /// The last of the non-overlapping occurrences of `needle` found from the start, as
    /// `ranges(of:).last` would give, compared as UTF-8 bytes.
    func lastRangeOfBytes(_ needle: String) -> Range<Index>? {
        rangesOfBytes(needle, firstOnly: false)
    }

    private func rangesOfBytes(_ needle: String, firstOnly: Bool) -> Range<Index>? {
        var needle = needle
        // A native string's bytes are read in place; others are made contiguous first. (The UTF-8
        // view's `withContiguousStorageIfAvailable` cost ~800 instructions a call, and a headline
        // is searched for nine separators.)
        var haystack = self
        let found = haystack.withUTF8 { bytes in
            needle.withUTF8 { pattern in Self.searchBytes(pattern, in: bytes, firstOnly: firstOnly) }
        }
        return found.map {
            utf8.index(startIndex, offsetBy: $0.lowerBound)..<utf8.index(startIndex, offsetBy: $0.upperBound)
        }
    }

    fileprivate static func searchBytes(
        _ pattern: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>, firstOnly: Bool
    ) -> Range<Int>? {
        guard let first = pattern.first else { return nil }
        var found: Range<Int>?
        var index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index] == first,
                UnsafeBufferPointer(rebasing: bytes[index..<(index + pattern.count)]).elementsEqual(pattern)
            {
                found = index..<(index + pattern.count)
                if firstOnly { break }
                index += pattern.count
            } else {
                index += 1
            }
        }
        return found
    }
}

/// A regulatory identifier an item cites: it ties reports of one event together across sources
/// and languages (DESIGN.md §6).
public struct RegulatoryIdentifier: Sendable, Hashable, Comparable {
    /// What kind of identifier.
    public enum Kind: String, Sendable, Hashable, Comparable {
        /// A Federal Register document number, `2024-12345`.
        case federalRegisterDocument = "fr-document"
        /// A Federal Register citation, `89 FR 12345`.
        case federalRegisterCitation = "fr-citation"
        /// A Code of Federal Regulations part, `15 CFR 744`.
        case cfrPart = "cfr"
        /// An Export Control Classification Number, `3A090`, `4A090.a`.
        case eccn
        /// A Regulation Identifier Number, `0694-AJ35`.
        case rin
        /// A Chinese ministry announcement number, `商务部公告2024年第46号`.
        case chineseAnnouncement = "cn-announcement"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var kind: Kind
    /// The identifier in a canonical spelling (`89 FR 12345`, `15 CFR 744`, `3A090.a`).
    public var value: String

    /// An identifier of `kind`, spelt canonically.
    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.kind, lhs.value) < (rhs.kind, rhs.value) }

    /// Whether the identifier is itself evidence of export controls (an ECCN, the Export
    /// Administration Regulations' parts 730–774, a Chinese export-control announcement).
    public var isExportControlEvidence: Bool {
        switch kind {
        case .eccn: return true
        case .cfrPart:
            guard let part = value.split(separator: " ").last.flatMap({ Int($0.split(separator: ".").first ?? "") })
            else {
                return false
            }
            return value.hasPrefix("15 CFR") && (730...774).contains(part)
        case .rin: return value.hasPrefix("0694-")
        case .chineseAnnouncement: return value.contains("商务部") || value.contains("海关总署")
        default: return false
        }
    }

    /// For a joint Chinese announcement (`商务部海关总署公告2023年第23号`), the same number in its
    /// lead issuer's series (`商务部公告2023年第23号`): joint announcements are numbered in the first
    /// issuer's series, and a report may name only that issuer (as English ones do: "MOFCOM
    /// Announcement No. 23 of 2023"). Nil for any other identifier.
    public var leadIssuerAnnouncement: RegulatoryIdentifier? {
        guard kind == .chineseAnnouncement, let announcement = value.firstRange(of: "公告") else { return nil }
        let issuers = value[..<announcement.lowerBound]
        guard let lead = IdentifierExtractor.chineseIssuers.first(where: { issuers.hasPrefix($0) }), issuers != lead
        else { return nil }
        return RegulatoryIdentifier(kind: kind, value: lead + value[announcement.lowerBound...])
    }
}

/// Extracts ``RegulatoryIdentifier``s from normalized text.
///
/// Each kind is looked for only when one pass of a small matcher finds its marker (` fr `, `cfr`,
/// `rin`, `公告`…), and ECCNs by a hand-written scan: most items cite nothing, and regular expressions
/// run over every item would cost more than all the rest of classification.
public enum IdentifierExtractor {
    /// Every identifier in `text` (normalized: lower-case Latin, simplified Chinese), once each, sorted.
    public static func identifiers(in text: String) -> [RegulatoryIdentifier] {
        var text = text
        return text.withUTF8 { identifiers(in: $0, markers: presentMarkers(in: $0)) }
    }

    /// ``identifiers(in:)`` when the caller's own matcher already found which ``markers`` the text holds.
    static func identifiers(in bytes: UnsafeBufferPointer<UInt8>, markers present: Set<String>)
        -> [RegulatoryIdentifier]
    {
        let eccns = eccns(in: bytes)
        guard !present.isEmpty else { return eccns.count > 1 ? Set(eccns).sorted() : eccns }
        guard bytes.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return [] }
        var found = Set(eccns)
        let string = String(decoding: bytes, as: UTF8.self)
        if present.contains("fr") {
            for match in string.matches(of: #/\b(\d{1,3}) fr (\d{3,6})\b/#) {
                found.insert(.init(kind: .federalRegisterCitation, value: "\(match.1) FR \(match.2)"))
            }
        }
        if present.contains("cfr") || present.contains("c.f.r") {
            for match in string.matches(of: #/\b(\d{1,2}) c\.?f\.?r\.?(?: part| §|§)? ?(\d{1,4}(?:\.\d+)?)\b/#) {
                found.insert(.init(kind: .cfrPart, value: "\(match.1) CFR \(match.2)"))
            }
        }
        if present.contains("fr doc") || present.contains("document number") || present.contains("document no")
            || present.contains("fr document")
            || present.contains("federalregister.gov")
        {
            let pattern =
                #/(?:fr doc\.?|document number|document no\.?|fr document)\s*:?\s*((?:19|20)\d{2}-\d{5})\b|federalregister\.gov/(?:d|documents/\d{4}/\d{2}/\d{2})/((?:19|20)\d{2}-\d{5})/#
            for match in string.matches(of: pattern) {
                found.insert(.init(kind: .federalRegisterDocument, value: String(match.1 ?? match.2 ?? "")))
            }
        }
        if present.contains("rin") || present.contains("0694-") {
            for match in string.matches(of: #/\brin:?\s*(\d{4}-[a-z]{2}\d{2})\b|\b(0694-[a-z]{2}\d{2})\b/#) {
                found.insert(.init(kind: .rin, value: (match.1 ?? match.2 ?? "").uppercased()))
            }
        }
        if present.contains("公告") {
            let pattern =
                #/((?:商务部|海关总署|国家出口管制工作协调机制办公室|不可靠实体清单工作机制)(?:\s*[、和与]?\s*(?:商务部|海关总署|国家国防科技工业局|科技部))*)\s*公告\s*(\d{4})\s*年\s*第\s*(\d{1,3})\s*号/#
            for match in string.matches(of: pattern) {
                let issuers = match.1.filter { !$0.isWhitespace }
                found.insert(.init(kind: .chineseAnnouncement, value: "\(issuers)公告\(match.2)年第\(match.3)号"))
            }
        }
        if present.contains("announcement") {
            found.formUnion(englishAnnouncements(in: string))
        }
        return found.sorted()
    }

    /// The issuers a Chinese announcement number starts with; the first of a joint announcement's
    /// is the series it is numbered in.
    static let chineseIssuers = ["商务部", "海关总署", "国家出口管制工作协调机制办公室", "不可靠实体清单工作机制"]

    /// Chinese announcements cited in English ("MOFCOM Announcement No. 21 of 2024", "Announcement
    /// [2024] No. 46 of the Ministry of Commerce", "MOFCOM and GAC Announcement No. 23 (2023)"),
    /// spelt as the Chinese ones are, so that reports in both languages cite one identifier. The
    /// issuer must stand in the same sentence just before "announcement", or just after the number:
    /// a number with no Chinese issuer beside it ("CBP announcement no. 3 of 2024") is nobody's.
    static func englishAnnouncements(in text: String) -> [RegulatoryIdentifier] {
        let pattern =
            #/announcement\s+(?:no\.?\s*(\d{1,3})\s*(?:of\s+|in\s+|\[|\()(\d{4})\b|[\[(](\d{4})[\])]\s*no\.?\s*(\d{1,3})\b|(\d{4})\s+no\.?\s*(\d{1,3})\b)/#
        var found: [RegulatoryIdentifier] = []
        for match in text.matches(of: pattern) {
            guard let number = match.1 ?? match.4 ?? match.6, let year = match.2 ?? match.3 ?? match.5 else { continue }
            let start = text.index(match.range.lowerBound, offsetBy: -60, limitedBy: text.startIndex) ?? text.startIndex
            // Only the sentence the citation is in: what follows the last full stop before it.
            var before = text[start..<match.range.lowerBound]
            if let stop = before.ranges(of: ". ").last { before = before[stop.upperBound...] }
            let end = text.index(match.range.upperBound, offsetBy: 50, limitedBy: text.endIndex) ?? text.endIndex
            let after = text[match.range.upperBound..<end].drop { $0 == "]" || $0 == ")" }
            let issuers =
                chineseIssuers(named: before)
                ?? (after.hasPrefix(" of ") || after.hasPrefix(" by ") || after.hasPrefix(" from ")
                    ? chineseIssuers(named: after.prefix { $0 != "." }) : nil)
            guard let issuers else { continue }
            found.append(.init(kind: .chineseAnnouncement, value: "\(issuers)公告\(year)年第\(number)号"))
        }
        return found
    }

    /// 商务部, 海关总署 or both (in that order) when `text` names China's commerce ministry, its
    /// customs administration, or both; 不可靠实体清单工作机制 for the Unreliable Entity List
    /// working mechanism (its office sits in the ministry, its announcements are its own); nil when
    /// it names none of them.
    private static func chineseIssuers(named text: Substring) -> String? {
        if text.contains("unreliable entity list working mechanism") { return "不可靠实体清单工作机制" }
        let commerce = ["mofcom", "ministry of commerce", "commerce ministry"].contains { text.contains($0) }
        let customs = text.contains("general administration of customs") || text.contains(#/\bgac\b/#)
        switch (commerce, customs) {
        case (true, true): return "商务部海关总署"
        case (true, false): return "商务部"
        case (false, true): return "海关总署"
        case (false, false): return nil
        }
    }

    /// ECCNs: a digit, a letter a–e, three digits, optionally `.x` and `.n`, as a whole word.
    static func eccns(in bytes: UnsafeBufferPointer<UInt8>) -> [RegulatoryIdentifier] {
        var found: [RegulatoryIdentifier] = []
        let count = bytes.count
        func isDigit(_ index: Int) -> Bool { index < count && bytes[index] >= 0x30 && bytes[index] <= 0x39 }
        func isWord(_ index: Int) -> Bool {
            guard index >= 0, index < count else { return false }
            let byte = bytes[index]
            return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
        }
        var index = 0
        while index + 5 <= count {
            // Most text has no digit for long stretches: skip eight bytes at a time to the next one.
            if index + 8 <= count,
                !mayHoldDigit(UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
                continue
            }
            guard isDigit(index), !isWord(index - 1), bytes[index + 1] >= 0x61, bytes[index + 1] <= 0x65,
                isDigit(index + 2), isDigit(index + 3), isDigit(index + 4)
            else {
                index += 1
                continue
            }
            var end = index + 5
            // An optional paragraph: ".a" and then ".1".
            if end + 1 < count, bytes[end] == 0x2E, bytes[end + 1] >= 0x61, bytes[end + 1] <= 0x7A,
                !isWord(end + 2) || bytes[end + 2] == 0x2E
            {
                end += 2
                if end + 1 < count, bytes[end] == 0x2E, isDigit(end + 1) {
                    end += 2
                    while isDigit(end) { end += 1 }
                }
            }
            guard !isWord(end) else {
                index += 1
                continue
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
            found.append(RegulatoryIdentifier(kind: .eccn, value: text.prefix(5).uppercased() + text.dropFirst(5)))
            index = end
        }
        return found
    }

    /// False when none of the eight bytes of `word` is an ASCII digit.
    @inline(__always)
    private static func mayHoldDigit(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        // On the low seven bits of each byte no sum carries into the next byte; bytes of 0x80 and
        // above are then left out by their own high bit.
        let low = word & ~high
        let atLeastZero = low &+ ones &* 0x50
        let aboveNine = low &+ ones &* 0x46
        return (atLeastZero & ~aboveNine & ~word & high) != 0
    }

    /// The markers whose presence makes an identifier kind worth a regular expression.
    static let markers = [
        "fr", "cfr", "c.f.r", "fr doc", "document number", "document no", "fr document", "federalregister.gov", "rin",
        "0694-", "公告", "announcement",
    ]
    private static let markerMatcher = PatternMatcher(patterns: markers)

    /// Which markers the text holds, in one pass.
    static func presentMarkers(in bytes: UnsafeBufferPointer<UInt8>) -> Set<String> {
        Set(markerMatcher.matches(in: bytes).map { markers[$0.pattern] })
    }
}

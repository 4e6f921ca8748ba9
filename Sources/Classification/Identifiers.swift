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
}

/// Extracts ``RegulatoryIdentifier``s from normalized text.
public enum IdentifierExtractor {
    /// Every identifier in `text` (normalized: lower-case Latin, simplified Chinese), once each, sorted.
    public static func identifiers(in text: String) -> [RegulatoryIdentifier] {
        var found: Set<RegulatoryIdentifier> = []
        // Cheap guards first: most items cite nothing, and each pattern needs a digit.
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return [] }
        for match in text.matches(of: #/\b(\d{1,3}) fr (\d{3,6})\b/#) {
            found.insert(.init(kind: .federalRegisterCitation, value: "\(match.1) FR \(match.2)"))
        }
        for match in text.matches(of: #/\b(\d{1,2}) c\.?f\.?r\.?(?: part| §|§)? ?(\d{1,4}(?:\.\d+)?)\b/#) {
            found.insert(.init(kind: .cfrPart, value: "\(match.1) CFR \(match.2)"))
        }
        for match in text.matches(
            of: #/(?:fr doc\.?|document number|document no\.?|fr document)\s*:?\s*((?:19|20)\d{2}-\d{5})\b/#)
        {
            found.insert(.init(kind: .federalRegisterDocument, value: String(match.1)))
        }
        for match in text.matches(of: #/federalregister\.gov/(?:d|documents/\d{4}/\d{2}/\d{2})/((?:19|20)\d{2}-\d{5})/#)
        {
            found.insert(.init(kind: .federalRegisterDocument, value: String(match.1)))
        }
        for match in text.matches(of: #/\b(\d[a-e]\d{3})((?:\.[a-z](?:\.\d+)?)?)\b/#) {
            found.insert(.init(kind: .eccn, value: match.1.uppercased() + match.2))
        }
        for match in text.matches(of: #/\brin:?\s*(\d{4}-[a-z]{2}\d{2})\b|\b(0694-[a-z]{2}\d{2})\b/#) {
            let rin = match.1 ?? match.2 ?? ""
            found.insert(.init(kind: .rin, value: rin.uppercased()))
        }
        for match in text.matches(
            of:
                #/((?:商务部|海关总署|国家出口管制工作协调机制办公室)(?:\s*[、和与]?\s*(?:商务部|海关总署|国家国防科技工业局|科技部))*)\s*公告\s*(\d{4})\s*年\s*第\s*(\d{1,3})\s*号/#
        ) {
            let issuers = match.1.filter { !$0.isWhitespace }
            found.insert(.init(kind: .chineseAnnouncement, value: "\(issuers)公告\(match.2)年第\(match.3)号"))
        }
        return found.sorted()
    }
}

public import Foundation

/// Parses the date forms feeds use, without Foundation's slow and locale-bound formatters:
/// RFC 822 / 1123 (with or without weekday, named or numeric zones, two-digit years),
/// RFC 3339 and W3CDTF (down to a bare year), and the Chinese forms of government sites
/// (`2024年5月10日 14:30`, `2024-05-10 14:30`, `2024/05/10`).
///
/// A date without a zone is taken in `timeZone` (the source's zone). An unparseable date is nil,
/// never a guess.
public struct FeedDateParser: Sendable {
    /// The zone of dates that name none.
    public var timeZone: TimeZone
    /// Whether `CST` means China Standard Time (+08:00) rather than US Central (-06:00).
    public var cstIsChina: Bool

    /// Creates a parser.
    public init(timeZone: TimeZone = TimeZone(identifier: "UTC")!, cstIsChina: Bool = false) {
        self.timeZone = timeZone
        self.cstIsChina = cstIsChina
    }

    /// The instant `text` names, or nil.
    public func parse(_ text: String) -> Date? {
        parse(utf8: Array(text.utf8)[...])
    }

    /// ``parse(_:)`` of UTF-8 bytes (a field as the feed reader collected it).
    func parse(utf8 text: ArraySlice<UInt8>) -> Date? {
        var bytes = FeedText.trimmed(text)
        guard !bytes.isEmpty, bytes.count < 100 else { return nil }
        if bytes.contains(where: { $0 >= 0x80 }) {
            // Chinese forms: 年 and 月 separate like "-", 日 ends the date, 时 and 分 write the time.
            let normalized = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "年", with: "-")
                .replacingOccurrences(of: "月", with: "-")
                .replacingOccurrences(of: "日", with: " ").replacingOccurrences(of: "时", with: ":")
                .replacingOccurrences(of: "分", with: "")
            bytes = FeedText.trimmed(Array(normalized.utf8)[...])
        }
        var scanner = Scanner(bytes)
        if let first = scanner.peek, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"),
            let date = parseNumeric(&scanner)
        {
            return date
        }
        scanner = Scanner(bytes)
        return parseRFC822(&scanner)
    }

    /// RFC 3339, W3CDTF and the numeric Chinese forms: `YYYY[-MM[-DD[(T| )hh:mm[:ss[.f]][zone]]]]`.
    private func parseNumeric(_ scanner: inout Scanner) -> Date? {
        guard let year = scanner.number(maxDigits: 4), scanner.lastDigits == 4 else { return nil }
        var month = 1
        var day = 1
        var hour = 0
        var minute = 0
        var second = 0.0
        var offset: Int?
        func separator(_ scanner: inout Scanner) -> Bool {
            scanner.skip(UInt8(ascii: "-")) || scanner.skip(UInt8(ascii: "/")) || scanner.skip(UInt8(ascii: "."))
        }
        if separator(&scanner) {
            guard let value = scanner.number(maxDigits: 2) else { return nil }
            month = value
            if separator(&scanner) {
                guard let value = scanner.number(maxDigits: 2) else { return nil }
                day = value
                let hasTime = scanner.skip(UInt8(ascii: "T")) || scanner.skip(UInt8(ascii: "t")) || scanner.skipSpaces()
                if hasTime, scanner.peek.map({ $0 >= 48 && $0 <= 57 }) == true {
                    guard let h = scanner.number(maxDigits: 2), scanner.skip(UInt8(ascii: ":")),
                        let m = scanner.number(maxDigits: 2)
                    else { return nil }
                    hour = h
                    minute = m
                    if scanner.skip(UInt8(ascii: ":")) {
                        guard let s = scanner.number(maxDigits: 2) else { return nil }
                        second = Double(s)
                        if scanner.skip(UInt8(ascii: ".")) || scanner.skip(UInt8(ascii: ",")) {
                            var scale = 0.1
                            while let digit = scanner.digit() {
                                second += Double(digit) * scale
                                scale /= 10
                            }
                        }
                    }
                    scanner.skipSpaces()
                    offset = scanner.numericZone() ?? zoneName(&scanner)
                }
            }
        }
        scanner.skipSpaces()
        guard scanner.atEnd else { return nil }
        return instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
    }

    /// RFC 822 and its variants: `[Wkd,] DD Mon YYYY [hh:mm[:ss]] [zone]`, also `Mon DD, YYYY`.
    private func parseRFC822(_ scanner: inout Scanner) -> Date? {
        scanner.skipSpaces()
        if let word = scanner.word(), Self.month(word) == nil {
            // A weekday (any spelling); skip it and its comma.
            _ = scanner.skip(UInt8(ascii: ","))
            scanner.skipSpaces()
        } else {
            scanner.rewind()
        }
        var day: Int
        var month: Int
        if let number = scanner.number(maxDigits: 2) {
            day = number
            scanner.skipSeparators()
            guard let word = scanner.word(), let value = Self.month(word) else { return nil }
            month = value
        } else {
            guard let word = scanner.word(), let value = Self.month(word) else { return nil }
            month = value
            scanner.skipSpaces()
            guard let number = scanner.number(maxDigits: 2) else { return nil }
            day = number
            _ = scanner.skip(UInt8(ascii: ","))
        }
        scanner.skipSeparators()
        guard var year = scanner.number(maxDigits: 4) else { return nil }
        if scanner.lastDigits == 2 { year += year < 50 ? 2000 : 1900 }
        scanner.skipSpaces()
        var hour = 0
        var minute = 0
        var second = 0
        if let h = scanner.number(maxDigits: 2) {
            guard scanner.skip(UInt8(ascii: ":")), let m = scanner.number(maxDigits: 2) else { return nil }
            hour = h
            minute = m
            if scanner.skip(UInt8(ascii: ":")) {
                guard let s = scanner.number(maxDigits: 2) else { return nil }
                second = s
            }
        }
        scanner.skipSpaces()
        var offset: Int? = 0
        if !scanner.atEnd {
            offset = scanner.numericZone() ?? zoneName(&scanner)
            guard offset != nil else { return nil }
            scanner.skipSpaces()
            // "(UTC)" and similar trailing comments.
            if scanner.skip(UInt8(ascii: "(")) { scanner.skipRest() }
        }
        guard scanner.atEnd else { return nil }
        return instant(
            year: year, month: month, day: day, hour: hour, minute: minute, second: Double(second), offset: offset)
    }

    private func zoneName(_ scanner: inout Scanner) -> Int? {
        guard let word = scanner.word() else { return nil }
        let upper = word.uppercased()
        if upper == "CST" { return (cstIsChina ? 8 : -6) * 3600 }
        if let hours = Self.zones[upper] { return hours * 3600 }
        if upper == "IST" { return 5 * 3600 + 1800 }
        // GMT+8, UTC+08:00
        if upper.hasPrefix("GMT") || upper.hasPrefix("UTC") { return scanner.numericZone() ?? 0 }
        return nil
    }

    private func instant(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Double, offset: Int?) -> Date?
    {
        guard (1...12).contains(month), (1...31).contains(day), (0...24).contains(hour), (0...59).contains(minute),
            second < 61, (1...9999).contains(year)
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let local = Double(days * 86400 + hour * 3600 + minute * 60) + second
        if let offset { return Date(timeIntervalSince1970: local - Double(offset)) }
        // No zone: the source's zone, at that local time.
        let guess = Date(timeIntervalSince1970: local)
        let zoneOffset = timeZone.secondsFromGMT(
            for: guess.addingTimeInterval(-Double(timeZone.secondsFromGMT(for: guess))))
        return Date(timeIntervalSince1970: local - Double(zoneOffset))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// Named zones, in hours east of UTC.
    private static let zones: [String: Int] = [
        "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
        "PDT": -7, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "WET": 0, "WEST": 1, "EET": 2, "EEST": 3, "BST": 1,
        "IST": 5, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AEST": 10, "AEDT": 11,
    ]

    /// The months' first three letters, lower case, as three bytes in an integer.
    private static let monthKeys: [UInt32] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ].map { monthKey($0)! }

    /// A word's first three letters, lower case, as three bytes in an integer; nil when shorter.
    private static func monthKey(_ word: String) -> UInt32? {
        var letters = word.utf8.makeIterator()
        guard let first = letters.next(), let second = letters.next(), let third = letters.next() else { return nil }
        return UInt32(first | 0x20) << 16 | UInt32(second | 0x20) << 8 | UInt32(third | 0x20)
    }

    /// The month a word names by its first three letters (`May`, `SEPT`, `january`); words are ASCII letters.
    private static func month(_ word: String) -> Int? {
        monthKey(word).flatMap { key in monthKeys.firstIndex(of: key).map { $0 + 1 } }
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: ArraySlice<UInt8>
        var index: Int
        var mark: Int
        var lastDigits = 0

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            (index, mark) = (bytes.startIndex, bytes.startIndex)
        }

        var atEnd: Bool { index >= bytes.endIndex }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func skip(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        @discardableResult
        mutating func skipSpaces() -> Bool {
            let start = index
            while let byte = peek, byte == 32 || byte == 9 { index += 1 }
            return index > start
        }

        mutating func skipSeparators() {
            while let byte = peek, byte == 32 || byte == 9 || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ",") {
                index += 1
            }
        }

        mutating func skipRest() { index = bytes.endIndex }

        mutating func digit() -> Int? {
            guard let byte = peek, byte >= 48 && byte <= 57 else { return nil }
            index += 1
            return Int(byte - 48)
        }

        mutating func number(maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while count < maxDigits, let digit = digit() {
                value = value * 10 + digit
                count += 1
            }
            lastDigits = count
            return count == 0 ? nil : value
        }

        mutating func word() -> String? {
            mark = index
            let start = index
            while let byte = peek, (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") {
                index += 1
            }
            guard index > start else { return nil }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func rewind() { index = mark }

        /// `+0800`, `-05:00`, `+8`, `Z`: seconds east of UTC.
        mutating func numericZone() -> Int? {
            if skip(UInt8(ascii: "Z")) || skip(UInt8(ascii: "z")) { return 0 }
            guard let sign = peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
            let start = index
            index += 1
            guard let first = number(maxDigits: 2) else {
                index = start
                return nil
            }
            var hours = first
            var minutes = 0
            if lastDigits == 2 {
                _ = skip(UInt8(ascii: ":"))
                minutes = number(maxDigits: 2) ?? 0
            }
            if hours > 14 {
                hours = 0
                minutes = 0
            }
            let seconds = hours * 3600 + minutes * 60
            return sign == UInt8(ascii: "-") ? -seconds : seconds
        }
    }
}

extension Date {
    /// RFC 3339 in UTC with whole seconds (fractions only when present): `2024-05-10T06:30:00Z`.
    public var rfc3339: String {
        let seconds = timeIntervalSince1970
        let whole = Int(seconds.rounded(.down))
        var days = whole / 86400
        var rest = whole % 86400
        if rest < 0 {
            rest += 86400
            days -= 1
        }
        // civil_from_days (Howard Hinnant)
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        var fraction = ""
        let milliseconds = Int(((seconds - Double(whole)) * 1000).rounded())
        if milliseconds > 0 && milliseconds < 1000 {
            fraction = "." + String(String(milliseconds + 1000).dropFirst())
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        return
            "\(yearText)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))\(fraction)Z"
    }
}

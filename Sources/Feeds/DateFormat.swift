import Foundation

/// strftime-style date formats for HTML sources, read back into instants: `%Y年%m月%d日`,
/// `%Y-%m-%d %H:%M`, `%d %B %Y`. Directives: `%Y` `%y` `%m` `%d` `%e` `%H` `%M` `%S` `%b` `%B` `%%`;
/// any other character must appear as written (runs of spaces match any run of spaces).
enum DateFormat {
    private static let directives: Set<Character> = ["Y", "y", "m", "d", "e", "H", "M", "S", "b", "B", "%"]

    /// Whether every `%` directive in `format` is supported.
    static func isValid(_ format: String) -> Bool {
        var characters = format.makeIterator()
        while let character = characters.next() {
            if character == "%" {
                guard let directive = characters.next(), directives.contains(directive) else { return false }
            }
        }
        return true
    }

    /// The instant `text` names in `format`, taken in `timeZone`; nil when it does not fit.
    static func parse(_ text: String, format: String, timeZone: TimeZone) -> Date? {
        let input = Array(text)
        var position = 0
        var fields: [Character: Int] = [:]
        var formatIterator = Array(format).makeIterator()
        func number(maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while count < maxDigits, position < input.count, let digit = input[position].wholeNumberValue,
                input[position].isASCII
            {
                value = value * 10 + digit
                count += 1
                position += 1
            }
            return count == 0 ? nil : value
        }
        while let character = formatIterator.next() {
            if character == "%" {
                guard let directive = formatIterator.next() else { return nil }
                switch directive {
                case "%":
                    guard position < input.count, input[position] == "%" else { return nil }
                    position += 1
                case "b", "B":
                    var word = ""
                    while position < input.count, input[position].isLetter {
                        word.append(input[position])
                        position += 1
                    }
                    let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                    guard word.count >= 3, let month = months.firstIndex(of: String(word.lowercased().prefix(3))) else {
                        return nil
                    }
                    fields["m"] = month + 1
                default:
                    if directive == "e" { while position < input.count, input[position] == " " { position += 1 } }
                    guard let value = number(maxDigits: directive == "Y" ? 4 : 2) else { return nil }
                    fields[directive == "e" ? "d" : directive] = value
                }
            } else if character.isWhitespace {
                while position < input.count, input[position].isWhitespace { position += 1 }
            } else {
                guard position < input.count, input[position] == character else { return nil }
                position += 1
            }
        }
        var year = fields["Y"] ?? fields["y"].map { $0 < 70 ? 2000 + $0 : 1900 + $0 }
        if year == nil { year = Calendar(identifier: .gregorian).component(.year, from: Date()) }
        var components = DateComponents()
        components.year = year
        components.month = fields["m"] ?? 1
        components.day = fields["d"] ?? 1
        components.hour = fields["H"] ?? 0
        components.minute = fields["M"] ?? 0
        components.second = fields["S"] ?? 0
        guard (1...12).contains(components.month!), (1...31).contains(components.day!) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: components)
    }
}

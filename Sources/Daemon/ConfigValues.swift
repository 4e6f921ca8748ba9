import Foundation

/// Parsers for the value forms a configuration file uses beyond TOML's own types.
enum ConfigValues {
    /// `"90s"`, `"15m"`, `"2h"`, `"1d"`, `"500ms"`, or a sum such as `"1h30m"`; nil when not such a form.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)),
            ("d", .seconds(86400)),
        ]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = Duration.zero
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, let amount = Int(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += unit * amount
        }
        return total
    }

    /// `"10MiB"`, `"512KiB"`, `"1GB"`, `"2048"` (bytes); nil when not such a form.
    static func byteSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [
            ("", 1), ("b", 1), ("kb", 1000), ("kib", 1024), ("mb", 1_000_000), ("mib", 1 << 20),
            ("gb", 1_000_000_000), ("gib", 1 << 30),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let amount = Int(digits) else { return nil }
        let unitText = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
        // Twelve digits of GiB overflow: nil, which the loader reports as any other bad size.
        let (bytes, overflow) = amount.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

    /// `"08:00"` → (8, 0); nil unless a 24-hour time.
    static func timeOfDay(_ text: String) -> (hour: Int, minute: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    /// Replaces `${NAME}` with the environment's value; returns the names that are not set.
    static func expandVariables(_ text: String, environment: [String: String]) -> (String, missing: [String]) {
        var result = ""
        var missing: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                rest = rest[start.lowerBound...]
                break
            }
            let name = String(rest[start.upperBound..<end])
            if let value = environment[name] { result += value } else { missing.append(name) }
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return (result, missing)
    }

    /// The closest of `candidates` to a misspelt `key`, when close enough to be a likely typo.
    static func suggestion(for key: String, among candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var current = [i + 1]
                for (j, cb) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(key), Array($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 4) else { return nil }
        return best.0
    }
}

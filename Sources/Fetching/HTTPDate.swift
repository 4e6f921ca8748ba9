public import Foundation

/// HTTP's date forms (RFC 9110 §5.6.7) and `Retry-After`.
public enum HTTPDate {
    /// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or the obsolete RFC 850 and asctime forms.
    /// Anything but printable ASCII is refused first: HTTP dates are ASCII, and Foundation's
    /// DateFormatter traps on some other text (a combining mark after the seconds), which a server
    /// could otherwise send in `Retry-After` to end the daemon.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// A `Retry-After` value, delay-seconds or an HTTP date, as an instant relative to `now`.
    public static func retryAfter(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), let seconds = Int(trimmed), seconds >= 0 {
            return now.addingTimeInterval(TimeInterval(seconds))
        }
        return parse(trimmed)
    }
}

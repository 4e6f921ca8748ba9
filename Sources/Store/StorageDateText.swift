import Foundation
internal import GRDB

extension Date {
    /// The text GRDB stores a date as, `yyyy-MM-dd HH:mm:ss.SSS` in UTC, written with integer
    /// arithmetic: GRDB's own encoding goes through a DateFormatter, which cost ~5% of a cold
    /// start's CPU (a poll binds several dates per item), and creating that formatter most of a
    /// millisecond of every run, so the store binds every date as this text. Identical to GRDB's
    /// text (a test compares them), so stored rows compare and sort as before; dates outside
    /// 1600–9999 (where ICU's calendar and the proleptic Gregorian one part) go through GRDB.
    var storageText: String {
        let seconds = timeIntervalSince1970
        guard seconds >= -11_676_096_000, seconds < 253_402_300_799 else {
            return String.fromDatabaseValue((self as any DatabaseValueConvertible).databaseValue) ?? ""
        }
        // To the nearest millisecond, as the formatter rounds (ICU takes milliseconds since 1970).
        let milliseconds = Int64(((timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down))
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        // `days` is never negative in range after this shift; the civil-from-days algorithm of
        // Howard Hinnant's "chrono-compatible low-level date algorithms".
        let shiftedDays = millisecondOfDay < 0 ? days - 1 : days
        let dayMilliseconds = millisecondOfDay < 0 ? millisecondOfDay + 86_400_000 : millisecondOfDay
        let z = shiftedDays + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 23) { buffer in
            var position = 0
            /// `value` in `width` digits, then `separator` unless it is 0.
            func put(_ value: Int64, _ width: Int, _ separator: UInt8) {
                var remaining = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[position + offset] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                position += width
                if separator != 0 {
                    buffer[position] = separator
                    position += 1
                }
            }
            put(year, 4, UInt8(ascii: "-"))
            put(month, 2, UInt8(ascii: "-"))
            put(day, 2, UInt8(ascii: " "))
            put(dayMilliseconds / 3_600_000, 2, UInt8(ascii: ":"))
            put(dayMilliseconds / 60_000 % 60, 2, UInt8(ascii: ":"))
            put(dayMilliseconds / 1000 % 60, 2, UInt8(ascii: "."))
            put(dayMilliseconds % 1000, 3, 0)
            return position
        }
    }
}

/// SQL that reads a stored date as milliseconds since 1970, an integer that
/// ``Foundation/Date/init(storageMilliseconds:)`` turns back into a date. GRDB's own decoding of
/// date text builds a Foundation calendar on its first use (~0.5 ms at every start of a run).
func storageMilliseconds(of expression: String) -> String {
    "CAST(ROUND((julianday(\(expression)) - 2440587.5) * 86400000.0) AS INTEGER)"
}

extension Date {
    /// The date that ``storageMilliseconds(of:)`` read.
    init(storageMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

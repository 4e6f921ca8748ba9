public import Foundation

/// One local calendar day in a time zone, as an interval of instants: [start, end). A day with a
/// DST change is 23 or 25 hours long; it is never a lost or doubled hour.
public struct DayWindow: Sendable, Equatable, Hashable, Comparable {
    /// `YYYY-MM-DD`.
    public let day: String
    /// The zone the day is local to.
    public let timeZone: TimeZone
    /// Local midnight at its start, and at the start of the next day.
    public let start: Date
    public let end: Date

    /// The day named `day` (`YYYY-MM-DD`) in `timeZone`, or nil when it is not a date.
    public init?(day: String, timeZone: TimeZone) {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, day.count == 10 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard components.isValidDate(in: calendar), let start = calendar.date(from: components),
            let next = calendar.date(byAdding: .day, value: 1, to: start)
        else { return nil }
        self.day = day
        self.timeZone = timeZone
        self.start = calendar.startOfDay(for: start)
        self.end = calendar.startOfDay(for: next)
    }

    /// The day that contains `instant`, in `timeZone`.
    public static func containing(_ instant: Date, timeZone: TimeZone) -> DayWindow {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = calendar.dateComponents([.year, .month, .day], from: instant)
        let day = String(format: "%04d-%02d-%02d", components.year!, components.month!, components.day!)
        return DayWindow(day: day, timeZone: timeZone)!
    }

    /// The day before, and the day after.
    public var previous: DayWindow { Self.containing(start.addingTimeInterval(-1), timeZone: timeZone) }
    public var next: DayWindow { Self.containing(end, timeZone: timeZone) }

    /// How many hours the day has: 24, or 23 / 25 on a DST change.
    public var hours: Int { Int((end.timeIntervalSince(start) / 3600).rounded()) }

    /// `HH:MM` of an instant, local to this day's zone.
    public func localTime(_ instant: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = calendar.dateComponents([.hour, .minute], from: instant)
        return String(format: "%02d:%02d", components.hour!, components.minute!)
    }

    public static func < (lhs: DayWindow, rhs: DayWindow) -> Bool { lhs.start < rhs.start }
}

/// When digests are built: at `hour:minute` local time, for the day that just ended.
public struct DigestSchedule: Sendable {
    public var hour: Int
    public var minute: Int
    public var timeZone: TimeZone
    /// How many days back a missed digest is still built (polls are kept 60 days).
    public var catchUpLimit = 60

    /// Creates a schedule.
    public init(hour: Int, minute: Int, timeZone: TimeZone) {
        self.hour = hour
        self.minute = minute
        self.timeZone = timeZone
    }

    /// When the digest of `day` is due: `hour:minute` on the day after it.
    public func buildTime(of day: DayWindow) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // A time skipped by a DST change moves forward to the next valid time.
        return calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day.end) ?? day.end
    }

    /// The days whose digest is due at `now` and not built yet, oldest first: every day since
    /// `since` (the store's first activity), at most ``catchUpLimit`` days back, up to the latest
    /// one whose build time has passed. (The walk back is bounded by days, not by days found:
    /// with a year of history it had looked at every day of it on every call.)
    public func dueDays(at now: Date, built: Set<String>, since: Date) -> [DayWindow] {
        var day = DayWindow.containing(now, timeZone: timeZone).previous
        var due: [DayWindow] = []
        let earliest = DayWindow.containing(since, timeZone: timeZone)
        for _ in 0..<catchUpLimit where day >= earliest {
            if buildTime(of: day) <= now, !built.contains(day.day) { due.append(day) }
            day = day.previous
        }
        return due.reversed()
    }

    /// The next time after `now` at which a digest falls due.
    public func nextBuildTime(after now: Date) -> Date {
        var day = DayWindow.containing(now, timeZone: timeZone).previous
        while buildTime(of: day) <= now { day = day.next }
        return buildTime(of: day)
    }
}

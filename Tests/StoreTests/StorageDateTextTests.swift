import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Dates as stored")
struct StorageDateTextTests {
    @Test("the fast date text is exactly GRDB's, fractions of a millisecond and old or far dates included")
    func sameTextAsGRDB() {
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0005),
            Date(timeIntervalSince1970: 1_715_300_000.9999),
            Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: -11_676_096_000),  // 1600-01-01
            Date(timeIntervalSince1970: 253_402_300_799.999), .distantPast, .distantFuture,
        ]
        var seed: UInt64 = 42
        for _ in 0..<5000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // From 1500 to 2300, with sub-millisecond fractions.
            let seconds = Double(seed >> 11) / Double(1 << 53) * 25_245_000_000 - 14_831_000_000
            dates.append(Date(timeIntervalSince1970: seconds))
        }
        for date in dates {
            #expect(date.storageText == String.fromDatabaseValue(date.databaseValue), "\(date.timeIntervalSince1970)")
        }
    }
}

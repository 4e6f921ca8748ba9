import Foundation
import Testing

@testable import Feeds

@Suite("Feed dates")
struct FeedDateTests {
    static let utc = FeedDateParser()
    static let shanghai = FeedDateParser(timeZone: TimeZone(identifier: "Asia/Shanghai")!, cstIsChina: true)

    @Test(
        "forms feeds use, in UTC",
        arguments: [
            ("Thu, 09 May 2024 14:00:00 GMT", "2024-05-09T14:00:00Z"),
            ("Thu, 9 May 2024 14:00:00 +0000", "2024-05-09T14:00:00Z"),
            ("09 May 2024 14:00:00 +0800", "2024-05-09T06:00:00Z"),
            ("Thu, 09 May 2024 14:00 EST", "2024-05-09T19:00:00Z"),
            ("Tue, 17 Oct 2023 16:05:00 EDT", "2023-10-17T20:05:00Z"),
            ("Mon, 06 Nov 2023 09:00:00 CET", "2023-11-06T08:00:00Z"),
            ("Sat, 07 Sep 02 00:00:01 GMT", "2002-09-07T00:00:01Z"),
            ("Thursday, 09 May 2024 14:00:00 UT", "2024-05-09T14:00:00Z"),
            ("9 May 2024", "2024-05-09T00:00:00Z"),
            ("May 9, 2024 14:00:00 GMT", "2024-05-09T14:00:00Z"),
            ("2024-05-09T14:00:00Z", "2024-05-09T14:00:00Z"),
            ("2024-05-09T14:00:00.52Z", "2024-05-09T14:00:00.52Z"),
            ("2024-05-09T22:00:00+08:00", "2024-05-09T14:00:00Z"),
            ("2024-05-09T09:30-04:30", "2024-05-09T14:00:00Z"),
            ("2024-05-09 14:00:00", "2024-05-09T14:00:00Z"),
            ("2024-05-09", "2024-05-09T00:00:00Z"),
            ("2024-05", "2024-05-01T00:00:00Z"),
            ("2024", "2024-01-01T00:00:00Z"),
            ("  2024-05-09T14:00:00Z\n", "2024-05-09T14:00:00Z"),
        ])
    func utcForms(text: String, expected: String) {
        #expect(Self.utc.parse(text)?.rfc3339 == expected)
    }

    @Test(
        "Chinese forms and zoneless dates are taken in the source's zone",
        arguments: [
            ("2024年5月10日 14:30", "2024-05-10T06:30:00Z"),
            ("2024年05月10日", "2024-05-09T16:00:00Z"),
            ("2024年5月10日14时30分", "2024-05-10T06:30:00Z"),
            ("2024-05-10 14:30", "2024-05-10T06:30:00Z"),
            ("2024/05/10", "2024-05-09T16:00:00Z"),
            ("2024.05.10 08:00:00", "2024-05-10T00:00:00Z"),
            ("Fri, 10 May 2024 14:30:00 CST", "2024-05-10T06:30:00Z"),
        ])
    func chineseForms(text: String, expected: String) {
        #expect(Self.shanghai.parse(text)?.rfc3339 == expected)
    }

    @Test("CST is US Central unless the source is in China")
    func cst() {
        #expect(Self.utc.parse("Fri, 10 May 2024 08:00:00 CST")?.rfc3339 == "2024-05-10T14:00:00Z")
    }

    @Test(
        "unparseable dates are nil",
        arguments: [
            "", "yesterday", "2024-13-01", "32 May 2024", "Thu, 09 Mai 2024 14:00:00 GMT", "2024-05-09T25:00:00Z",
            "09 May 2024 14:00:00 XYZ",
        ])
    func unparseable(text: String) {
        #expect(Self.utc.parse(text) == nil)
    }

    @Test("RFC 3339 output keeps fractions only when present")
    func output() {
        #expect(Date(timeIntervalSince1970: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Date(timeIntervalSince1970: 1_715_263_200.25).rfc3339 == "2024-05-09T14:00:00.25Z")
        #expect(Date(timeIntervalSince1970: -86400).rfc3339 == "1969-12-31T00:00:00Z")
    }
}

// libFuzzer harness: feed documents, HTML list pages and OPML lists from a hostile server.
// Built by Fuzz/run.sh together with Sources/Feeds (so internals are reachable); any trap,
// memory error or leak (AddressSanitizer with LeakSanitizer) is a finding.
import Foundation

let parser = FeedParser(dates: FeedDateParser(timeZone: TimeZone(identifier: "Asia/Shanghai")!, cstIsChina: true))
let cssPage = HTMLSourceParser(
    rules: try! HTMLRules(item: "ul.list > li", title: "a", link: "a@href", date: "span", dateFormat: "[%Y-%m-%d]")
        .compiled())
let xpathPage = HTMLSourceParser(
    rules: try! HTMLRules(item: "//div[@class='x']//li", title: "a", link: "a/@href", date: "span", summary: "p")
        .compiled())
let dates = FeedDateParser(timeZone: TimeZone(identifier: "Asia/Shanghai")!, cstIsChina: true)
let base = URL(string: "http://example.org/a/b/")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeeds(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let feeds = [
        try? parser.parse(data, documentURL: base), try? parser.parse(data, documentURL: base, charset: "gb2312"),
        try? cssPage.parse(data, pageURL: base), try? xpathPage.parse(data, pageURL: base, charset: "utf-8"),
    ]
    for case let feed? in feeds {
        _ = FeedJSON.line(for: feed, file: "f")
        // Dates reach the store, webhooks and digests: none may be out of any calendar's range.
        let instants = [feed.updated, feed.published] + feed.items.flatMap { [$0.published, $0.updated] }
        for case let instant? in instants {
            precondition(abs(instant.timeIntervalSince1970) < 1e12, "date out of range: \(instant)")
        }
    }
    if count < 200, let text = String(data: data, encoding: .utf8), let instant = dates.parse(text) {
        precondition(abs(instant.timeIntervalSince1970) < 1e12, "date out of range: \(instant)")
    }
    _ = try? OPML.subscriptions(in: data)
    return 0
}

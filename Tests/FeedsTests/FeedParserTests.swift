import Foundation
import Testing

@testable import Feeds

/// Each fixture parses to the normalized JSON of DESIGN.md §5 stored beside it.
@Suite("Feed parser")
struct FeedParserTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let parser = FeedParser(
        dates: FeedDateParser(timeZone: TimeZone(identifier: "Asia/Shanghai")!, cstIsChina: true))

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appending(path: name))
    }

    static func json(of feed: ParsedFeed) throws -> NSDictionary {
        let object = try JSONSerialization.jsonObject(with: Data(FeedJSON.line(for: feed, file: "x").utf8))
        let dictionary = (object as! NSDictionary).mutableCopy() as! NSMutableDictionary
        dictionary.removeObject(forKey: "file")
        return dictionary
    }

    @Test(
        "fixtures parse to their expected normalized JSON",
        arguments: [
            "rss2-bis-press.xml", "atom-mofcom-zh.xml", "rss1-federal-register.rdf", "jsonfeed-open-models.json",
            "atom03-legacy.xml", "illformed-tag-soup.xml", "external-entity.xml", "billion-laughs.xml",
            "gbk-declared-gb2312.xml", "gbk-declared-utf8.xml",
        ])
    func fixture(name: String) throws {
        let feed = try Self.parser.parse(Self.data(name), documentURL: URL(string: "https://example.org/feeds/"))
        let expected = try JSONSerialization.jsonObject(
            with: Self.data(name.split(separator: ".").dropLast().joined(separator: ".") + ".expected.json"))
        #expect(try Self.json(of: feed) == expected as! NSDictionary)
    }

    @Test("every key of DESIGN.md §5 is present, null or empty when absent")
    func keysAlwaysPresent() throws {
        let feed = try Self.parser.parse(Data("<rss version=\"2.0\"><channel><item/></channel></rss>".utf8))
        let object =
            try JSONSerialization.jsonObject(with: Data(FeedJSON.line(for: feed, file: "f.xml").utf8)) as! [String: Any]
        #expect(
            Set(object.keys) == [
                "file", "format", "id", "title", "link", "feed_link", "links", "description", "language", "updated",
                "published", "authors", "categories", "generator", "rights", "image", "items", "warnings",
            ])
        let item = try #require((object["items"] as? [[String: Any]])?.first)
        #expect(
            Set(item.keys) == [
                "id", "title", "link", "links", "summary", "content", "published", "updated", "authors", "categories",
                "enclosures",
            ])
        #expect(object["title"] is NSNull && (object["warnings"] as? [Any])?.isEmpty == true)
    }

    @Test("an external entity reads no file and fetches nothing; it stays visible as text")
    func externalEntity() throws {
        let feed = try Self.parser.parse(Self.data("external-entity.xml"))
        #expect(feed.title == "XXE &secret;")
        #expect(!FeedJSON.line(for: feed, file: "x").contains("root:"))
        #expect(feed.warnings.first?.contains("undefined entities kept as text") == true)
    }

    @Test("a broken entity declaration leaves nothing of libxml2's behind, feed or OPML list (each poll would leak it)")
    func brokenEntityDeclarationIsFreed() throws {
        let document = Data(#"<!DOCTYPE rss [<!ENTITY a SYSTEM "x"> <!ENTITY b" >]><rss version="2.0"/>"#.utf8)
        #expect(LibXML2Nodes.leftAlive { _ = try? Self.parser.parse(document) } == 0)
        #expect(LibXML2Nodes.leftAlive { _ = try? OPML.subscriptions(in: document) } == 0)
    }

    @Test("an Atom title of type text is the text itself: escaped angle brackets stay; type html is markup")
    func atomTextTitles() throws {
        let feed = try Self.parser.parse(
            Data(
                """
                <feed xmlns="http://www.w3.org/2005/Atom"><title>Rules &amp; &lt;more&gt;</title>
                <entry><title type="text">AI &lt;models&gt; rule</title></entry>
                <entry><title type="html">AI &lt;b&gt;chips&lt;/b&gt; rule</title></entry></feed>
                """.utf8))
        #expect(feed.title == "Rules & <more>")
        #expect(feed.items.map(\.title) == ["AI <models> rule", "AI chips rule"])
    }

    @Test("a billion-laughs document is not expanded")
    func billionLaughs() throws {
        let feed = try Self.parser.parse(Self.data("billion-laughs.xml"))
        #expect(feed.title == "Laughs &lol9;")
        #expect(feed.items.map(\.title) == ["Still here"])
    }

    @Test("GBK comes out as UTF-8: declared as GB2312, mis-declared as UTF-8, or given by the HTTP charset")
    func gbk() throws {
        let expected = "中方坚决反对美方滥用出口管制，将采取必要措施维护自身正当权益（镕）"
        let declared = try Self.parser.parse(Self.data("gbk-declared-gb2312.xml"))
        #expect(declared.items.first?.title == expected)
        #expect(declared.warnings.isEmpty)
        let misdeclared = try Self.parser.parse(Self.data("gbk-declared-utf8.xml"))
        #expect(misdeclared.items.first?.title == expected)
        #expect(misdeclared.warnings == ["the document is not valid UTF-8; its bytes were read as GB18030"])
        let fromHTTP = try Self.parser.parse(Self.data("gbk-undeclared.xml"), charset: "GBK")
        #expect(fromHTTP.items.first?.title == expected)
    }

    @Test("Big5 (Taiwan, Hong Kong sources) comes out as UTF-8")
    func big5() throws {
        // 出口管制 in Big5.
        let title: [UInt8] = [0xA5, 0x58, 0xA4, 0x66, 0xBA, 0xDE, 0xA8, 0xEE]
        let document =
            Data("<?xml version=\"1.0\" encoding=\"big5\"?><rss version=\"2.0\"><channel><title>".utf8) + Data(title)
            + Data("</title></channel></rss>".utf8)
        #expect(try Self.parser.parse(document).title == "出口管制")
    }

    @Test("a byte-order mark wins over the HTTP charset")
    func byteOrderMark() throws {
        let document =
            Data([0xEF, 0xBB, 0xBF]) + Data("<rss version=\"2.0\"><channel><title>出口管制</title></channel></rss>".utf8)
        #expect(try Self.parser.parse(document, charset: "iso-8859-1").title == "出口管制")
    }

    @Test(
        "a document with no feed is an error naming what it is",
        arguments: [
            ("not-a-feed.html", "not a feed: the root element is <html>")
        ])
    func notAFeed(name: String, message: String) throws {
        #expect(throws: FeedParseError(message)) { try Self.parser.parse(Self.data(name)) }
        #expect(throws: FeedParseError.self) { try Self.parser.parse(Data("hello".utf8)) }
        #expect(throws: FeedParseError.self) { try Self.parser.parse(Data("{\"a\": 1}".utf8)) }
    }

    @Test("a web page given as a feed names the feeds it advertises, resolved against its URL")
    func advertisedFeed() throws {
        let page = #"""
            <!DOCTYPE html><html><head><title>Press releases</title>
            <link rel="stylesheet" href="/site.css">
            <link rel="Alternate" type="application/rss+xml" title="Press" href="/rss/press.xml">
            </head><body><h1>Press releases</h1></body></html>
            """#
        #expect(
            throws: FeedParseError(
                "not a feed: the root element is <html>; the page names a feed: https://www.bis.gov/rss/press.xml")
        ) {
            try Self.parser.parse(Data(page.utf8), documentURL: URL(string: "https://www.bis.gov/news/"))
        }
    }

    @Test("items beyond the limit are dropped with a warning")
    func itemLimit() throws {
        let items = (0..<1005).map { "<item><title>Item \($0)</title></item>" }.joined()
        let feed = try FeedParser().parse(Data("<rss version=\"2.0\"><channel>\(items)</channel></rss>".utf8))
        #expect(feed.items.count == 1000)
        #expect(feed.items.last?.title == "Item 999")
        #expect(feed.warnings == ["5 items beyond the limit of 1000 were dropped"])
    }

    @Test("a field longer than the limit is cut with a warning")
    func fieldLimit() throws {
        var limits = FeedParser.Limits()
        limits.maxFieldBytes = 1000
        let long = String(repeating: "export controls ", count: 200)
        let feed = try FeedParser(limits: limits).parse(
            Data("<rss version=\"2.0\"><channel><item><description>\(long)</description></item></channel></rss>".utf8))
        #expect((feed.items.first?.summary?.utf8.count ?? 0) <= 1000)
        #expect(feed.warnings.contains("a field longer than 1000 bytes was cut short"))
    }

    @Test(
        "a JSON Feed reads leniently: numbered ids, fields of the wrong type as absent, members that are no items skipped"
    )
    func jsonFeedLeniency() throws {
        let feed = try FeedParser().parse(
            Data(
                #"""
                {"version": "https://jsonfeed.org/version/1.1", "title": 7, "items": [
                  {"id": 42, "title": ["not", "a", "title"], "url": "/a", "tags": ["entity-list", 3]},
                  "not an item",
                  {"id": "b", "authors": {"name": "not a list"}, "author": {"name": "Desk"},
                   "attachments": [{"url": "/b.pdf", "size_in_bytes": 2048.0}, {"size_in_bytes": 1}]}
                ]}
                """#.utf8), documentURL: URL(string: "https://example.org/feed.json"))
        #expect(feed.format == .jsonFeed11 && feed.title == nil)
        #expect(feed.items.map(\.id) == ["42", "b"])
        #expect(feed.items[0].title == nil && feed.items[0].link == "https://example.org/a")
        #expect(feed.items[0].categories == ["entity-list"])
        #expect(feed.items[1].authors == [Person(name: "Desk")])
        #expect(feed.items[1].enclosures == [Enclosure(url: "https://example.org/b.pdf", type: nil, length: 2048)])
    }

    @Test("a JSON Feed's items beyond the limit are counted, not read; a field beyond its limit is cut")
    func jsonFeedLimits() throws {
        var limits = FeedParser.Limits()
        limits.maxFieldBytes = 1000
        let items = (0..<300_000).map { #"{"id": "\#($0)", "title": "Item \#($0)"}"# }.joined(separator: ",")
        let long = String(repeating: "出口管制", count: 200)
        let feed = try FeedParser(limits: limits).parse(
            Data(
                #"{"version": "https://jsonfeed.org/version/1", "items": [{"id": "first", "summary": "\#(long)"},\#(items)]}"#
                    .utf8))
        #expect(feed.items.count == 1000 && feed.items.last?.title == "Item 998")
        // Cut between characters: 1,000 bytes hold 333 three-byte characters.
        #expect(feed.items.first?.summary?.count == 333)
        #expect(
            feed.warnings == [
                "a field longer than 1000 bytes was cut short", "299001 items beyond the limit of 1000 were dropped",
            ])
    }

    @Test("relative links resolve against xml:base, then the document URL, then the feed's link")
    func urlResolution() throws {
        let document = """
            <rss version="2.0"><channel><link>https://www.bis.gov/news/</link>
            <item><link>a.html</link></item></channel></rss>
            """
        let withoutDocumentURL = try FeedParser().parse(Data(document.utf8))
        #expect(withoutDocumentURL.items.first?.link == "https://www.bis.gov/news/a.html")
        let withDocumentURL = try FeedParser().parse(
            Data(document.utf8), documentURL: URL(string: "https://mirror.example.org/feeds/bis.xml"))
        #expect(withDocumentURL.items.first?.link == "https://mirror.example.org/feeds/a.html")
    }

    @Test("JSON strings round-trip whatever characters they hold and wherever they stand")
    func jsonEscaping() throws {
        let specials = ["\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "/", "é", "出口管制", "\u{7F}"]
        for special in specials {
            for offset in 0..<20 {
                let title = String(repeating: "a", count: offset) + special + String(repeating: "b", count: 19 - offset)
                var feed = ParsedFeed(format: .rss20)
                feed.title = title
                let object = try JSONSerialization.jsonObject(with: Data(FeedJSON.line(for: feed, file: "x").utf8))
                #expect((object as? [String: Any])?["title"] as? String == title)
            }
        }
    }

    @Test("a media:group is part of its item: what follows it in the item is kept")
    func mediaGroup() throws {
        let feed = try FeedParser().parse(
            Data(
                """
                <rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item>
                <title>Briefing on chip controls</title>
                <media:group><media:content url="https://example.org/briefing.mp4" type="video/mp4"/></media:group>
                <description>The spokesperson answered questions on export controls.</description>
                </item></channel></rss>
                """.utf8))
        #expect(feed.items.count == 1)
        #expect(feed.items.first?.summary == "The spokesperson answered questions on export controls.")
        #expect(feed.items.first?.enclosures.map(\.url) == ["https://example.org/briefing.mp4"])
    }

    @Test("an RSS guid is the link only when it is a permalink URL and there is no <link>")
    func guidAsLink() throws {
        let feed = try FeedParser().parse(
            Data(
                """
                <rss version="2.0"><channel>
                <item><guid>https://example.org/1</guid></item>
                <item><guid isPermaLink="false">https://example.org/2</guid></item>
                <item><guid>urn:uuid:3</guid></item>
                <item><guid>https://example.org/4</guid><link>https://example.org/four</link></item>
                </channel></rss>
                """.utf8))
        #expect(feed.items.map(\.link) == ["https://example.org/1", nil, nil, "https://example.org/four"])
        #expect(
            feed.items.map(\.id) == [
                "https://example.org/1", "https://example.org/2", "urn:uuid:3", "https://example.org/4",
            ])
    }
}

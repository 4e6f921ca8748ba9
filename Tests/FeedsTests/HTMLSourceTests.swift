import Foundation
import Testing

@testable import Feeds

@Suite("HTML sources")
struct HTMLSourceTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures/html", withExtension: nil)!
    static let shanghai = FeedDateParser(timeZone: TimeZone(identifier: "Asia/Shanghai")!, cstIsChina: true)

    static func parse(
        _ name: String, pageURL: String, rules: HTMLRules, dates: FeedDateParser = shanghai, charset: String? = nil
    ) throws -> ParsedFeed {
        let data = try Data(contentsOf: fixtures.appending(path: name))
        return try HTMLSourceParser(rules: rules.compiled(), dates: dates).parse(
            data, pageURL: URL(string: pageURL), charset: charset)
    }

    @Test(
        "the CSS subset translates to XPath",
        arguments: [
            ("li", false, "//li"),
            ("a", true, ".//a"),
            ("ul.list1 > li", false, "//ul[contains(concat(' ', normalize-space(@class), ' '), ' list1 ')]/li"),
            ("div#news li", false, "//div[@id='news']//li"),
            ("a@href", true, ".//a/@href"),
            ("a[href]", true, ".//a[@href]"),
            ("a[target=_blank]", true, ".//a[@target='_blank']"),
            ("a[href*=\"press-release\"]", true, ".//a[contains(@href, 'press-release')]"),
            ("a[href^='/news']", true, ".//a[starts-with(@href, '/news')]"),
            ("tr:nth-child(2) > td", false, "//tr[count(preceding-sibling::*) = 1]/td"),
            ("td:first-child a", true, ".//td[count(preceding-sibling::*) = 0]//a"),
            ("h3 a, h2 a", true, ".//h3//a | .//h2//a"),
            (".title", true, ".//*[contains(concat(' ', normalize-space(@class), ' '), ' title ')]"),
            ("time@datetime", true, ".//time/@datetime"),
        ])
    func cssTranslation(css: String, withinItem: Bool, xpath: String) throws {
        #expect(try CSSSelector.xpath(css, withinItem: withinItem) == xpath)
    }

    @Test(
        "selectors outside the subset are refused with the position",
        arguments: ["ul >> li", "a:hover", "li:nth-child(odd)", "a[href", "a@", "", "[=x]"])
    func cssErrors(css: String) {
        #expect(throws: CSSSelector.SyntaxError.self) { try CSSSelector.xpath(css, withinItem: false) }
    }

    @Test("a rule that is neither supported CSS nor valid XPath does not compile")
    func brokenRules() {
        #expect(throws: HTMLRuleError.self) { try HTMLRules(item: "//ul[", title: "a", link: "a@href").compiled() }
        #expect(throws: HTMLRuleError.self) { try HTMLRules(item: "li", title: "a:hover", link: "a@href").compiled() }
        #expect(throws: HTMLRuleError.self) {
            try HTMLRules(item: "li", title: "a", link: "a@href", dateFormat: "%Q").compiled()
        }
    }

    @Test("MFA spokesperson list: ul/li with the date in a span, relative links")
    func mfa() throws {
        let feed = try Self.parse(
            "mfa-spokesperson.html", pageURL: "https://www.mfa.gov.cn/web/fyrbt_673021/jzhsl_673025/",
            rules: HTMLRules(item: "ul.list1 > li", title: "a", link: "a@href", date: "span"))
        #expect(feed.format == .html)
        #expect(feed.title == "外交部发言人答记者问_中华人民共和国外交部")
        try #require(feed.items.count == 3)
        #expect(feed.items[1].title == "外交部发言人就美方将中国实体列入出口管制“实体清单”答记者问")
        #expect(
            feed.items[0].link == "https://www.mfa.gov.cn/web/fyrbt_673021/jzhsl_673025/202405/t20240510_11301234.shtml"
        )
        #expect(
            feed.items[2].link == "https://www.mfa.gov.cn/web/fyrbt_673021/fyrbt_673021/202405/t20240508_11299001.shtml"
        )
        #expect(feed.items[0].published?.rfc3339 == "2024-05-09T16:00:00Z")
        #expect(feed.items[0].id == feed.items[0].link)
    }

    @Test("MOFCOM list in GBK declared as gb2312, with <base href> and bracketed dates")
    func mofcomGBK() throws {
        let feed = try Self.parse(
            "mofcom-export-control-gbk.html", pageURL: "http://www.mofcom.gov.cn/article/zwgk/gkzcfb/",
            rules: HTMLRules(
                item: "//ul[@class='txtList_01']/li", title: "a", link: "a/@href", date: "span",
                dateFormat: "[%Y-%m-%d]"))
        try #require(
            feed.items.map(\.title) == [
                "商务部 海关总署公告2024年第33号 关于对航空航天、船舶、能源等相关物项实施出口管制的公告",
                "商务部 科技部关于调整发布《中国禁止出口限制出口技术目录》的公告（镕）",
                "商务部 海关总署公告2023年第23号 关于对镓、锗相关物项实施出口管制的公告",
            ])
        #expect(feed.items[2].link == "http://www.mofcom.gov.cn/article/zwgk/gkzcfb/202307/20230703419000.shtml")
        #expect(feed.items[2].published?.rfc3339 == "2023-07-02T16:00:00Z")
    }

    @Test("the HTTP charset wins over the page's <meta>")
    func httpCharset() throws {
        let feed = try Self.parse(
            "mofcom-export-control-gbk.html", pageURL: "http://www.mofcom.gov.cn/",
            rules: HTMLRules(item: "li", title: "a", link: "a@href"),
            charset: "gbk")
        #expect(feed.items.first?.title?.hasPrefix("商务部 海关总署公告2024年第33号") == true)
    }

    @Test("BIS press releases: article cards, dates from a datetime attribute, summaries")
    func bis() throws {
        let feed = try Self.parse(
            "bis-press-releases.html", pageURL: "https://www.bis.gov/press-releases",
            rules: HTMLRules(
                item: "div.views-row article", title: "h3 a", link: "h3 a@href", date: "time@datetime",
                summary: "p.summary"),
            dates: FeedDateParser())
        try #require(feed.items.count == 2)
        #expect(feed.items[1].title == "Commerce Adds 37 Entities to the Entity List")
        #expect(feed.items[1].link == "https://www.bis.gov/press-release/entity-list-additions-may-2024")
        #expect(feed.items[1].published?.rfc3339 == "2024-05-09T14:30:00Z")
        #expect(feed.items[1].summary == "Additions under 15 CFR 744 for diversion to prohibited end uses.")
    }

    @Test("a table of notices with Chinese dates, the header row skipped by the rule")
    func table() throws {
        let feed = try Self.parse(
            "table-notices.html", pageURL: "https://www.example.gov.cn/notices/",
            rules: HTMLRules(
                item: "//table[@class='list']//tr[td]", title: "td[1]/a", link: "td[1]/a/@href", date: "td[2]"))
        try #require(feed.items.map(\.title) == ["商务部公告2024年第46号", "商务部公告2024年第45号"])
        #expect(
            feed.items.map(\.link) == ["https://www.example.gov.cn/notice/46", "https://www.example.gov.cn/notice/45"])
        #expect(feed.items[0].published?.rfc3339 == "2024-05-09T16:00:00Z")
    }

    @Test("tag soup with unclosed tags and unquoted attributes still gives every item")
    func tagSoup() throws {
        let feed = try Self.parse(
            "tag-soup.html", pageURL: "https://news.example.org/",
            rules: HTMLRules(item: "#news li", title: "a", link: "a@href", date: "span.date"), dates: FeedDateParser())
        try #require(
            feed.items.map(\.link) == [
                "https://news.example.org/news/1", "https://news.example.org/news/2", "https://news.example.org/news/3",
            ])
        #expect(feed.items[2].title == "Wassenaar plenary & outcomes")
        #expect(
            feed.items.map { $0.published?.rfc3339 } == [
                "2024-01-01T00:00:00Z", "2023-07-23T00:00:00Z", "2023-12-01T00:00:00Z",
            ])
    }

    @Test("an id rule gives the item's identity; without one the link does")
    func identity() throws {
        let page = Data("<ul><li data-id=\"n46\"><a href=\"/a\">A</a></li><li><a href=\"/b\">B</a></li></ul>".utf8)
        let feed = try HTMLSourceParser(
            rules: HTMLRules(item: "li", title: "a", link: "a@href", id: "@data-id").compiled()
        )
        .parse(page, pageURL: URL(string: "https://example.org/"))
        #expect(feed.items.map(\.id) == ["n46", "https://example.org/b"])
    }

    @Test(
        "date formats, strftime-style",
        arguments: [
            ("2024年5月10日", "%Y年%m月%d日", "2024-05-09T16:00:00Z"),
            ("10/05/2024 14:30", "%d/%m/%Y %H:%M", "2024-05-10T06:30:00Z"),
            ("May 9, 2024", "%B %e, %Y", "2024-05-08T16:00:00Z"),
            ("[24-05-10]", "[%y-%m-%d]", "2024-05-09T16:00:00Z"),
        ])
    func dateFormats(text: String, format: String, expected: String) {
        #expect(
            DateFormat.parse(text, format: format, timeZone: TimeZone(identifier: "Asia/Shanghai")!)?.rfc3339
                == expected)
        #expect(DateFormat.parse("not a date", format: format, timeZone: .gmt) == nil)
    }
}

/// The documents `exportwatch demo` serves: an agency's RSS feed, a Chinese ministry's HTML list
/// page and a news Atom feed, in two rounds (the second adds items), and the demo's configuration.
enum DemoFixtures {
    static func configuration(port: Int, folder: String, secret: String) -> String {
        """
        [daemon]
        state_dir = "\(folder)/state"
        digest_dir = "\(folder)/digests"
        time_zone = "Asia/Shanghai"
        allow_private_networks = true
        baseline_new_sources = false

        [[source]]
        id = "bis-rss"
        url = "http://127.0.0.1:\(port)/bis.xml"

        [[source]]
        id = "mofcom-news"
        url = "http://127.0.0.1:\(port)/mofcom.html"
        kind = "html"
        time_zone = "Asia/Shanghai"
        html = { item = "ul.news > li", title = "a", link = "a@href", date = "span" }

        [[source]]
        id = "wire-news"
        url = "http://127.0.0.1:\(port)/news.atom"

        [[webhook]]
        id = "demo-receiver"
        url = "http://127.0.0.1:\(port)/hook"
        signing_secret = "\(secret)"
        """
    }

    static func agencyFeed(round: Int) -> String {
        var items = [
            item(
                "bis-2024-0509", "Commerce Adds 37 Entities to the Entity List",
                "The Bureau of Industry and Security added 37 entities, 22 of them in China, to the Entity List for "
                    + "supporting military modernization and quantum computing, imposing license requirements on exports.",
                "Thu, 09 May 2024 14:00:00 GMT"),
            item(
                "bis-2024-0508", "BIS Updates Its Public Website Accessibility Statement",
                "The Bureau has published a revised accessibility statement for its website.",
                "Wed, 08 May 2024 10:00:00 GMT"),
        ]
        if round > 1 {
            items.insert(
                item(
                    "bis-2024-0510",
                    "Commerce Proposes Controls on Exports of Advanced AI Model Weights",
                    "An interim final rule would require a license to export the weights of frontier AI models and "
                        + "expand export controls on advanced computing chips such as the Nvidia H20 to more countries.",
                    "Fri, 10 May 2024 13:00:00 GMT"), at: 0)
        }
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0"><channel><title>Bureau of Industry and Security</title><link>https://www.bis.gov/</link>
            \(items.joined(separator: "\n"))
            </channel></rss>
            """
    }

    static func ministryPage(round: Int) -> String {
        var entries = [
            "<li><a href=\"/article/2024/05/09/a1.html\">商务部新闻发言人就美方将中国实体列入出口管制实体清单答记者问</a><span>2024-05-09</span></li>",
            "<li><a href=\"/article/2024/05/08/a0.html\">商务部召开全国春季农产品展销会</a><span>2024-05-08</span></li>",
        ]
        if round > 1 {
            entries.insert(
                "<li><a href=\"/article/2024/05/10/a2.html\">商务部公告2024年第21号 关于对镓、锗相关物项实施出口管制的公告</a><span>2024-05-10</span></li>",
                at: 0)
        }
        return """
            <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>商务部 新闻发布</title></head>
            <body><ul class="news">
            \(entries.joined(separator: "\n"))
            </ul></body></html>
            """
    }

    static func newsFeed(round: Int) -> String {
        var entries = [
            entry(
                "wire-1", "Commerce adds 37 entities to the Entity List - Reuters",
                "WASHINGTON (Reuters) - The Bureau of Industry and Security added 37 entities, 22 of them in China, to the "
                    + "Entity List for supporting military modernization and quantum computing.",
                "2024-05-09T16:00:00Z"),
            entry(
                "wire-0", "Chocolate chip cookie sales rise ahead of summer", "Bakeries report strong demand.",
                "2024-05-09T12:00:00Z"),
        ]
        if round > 1 {
            entries.insert(
                entry(
                    "wire-2", "China curbs exports of gallium and germanium items in response to US chip controls",
                    "China's commerce ministry announced export controls on gallium and germanium related items "
                        + "(MOFCOM Announcement No. 21 of 2024), its latest countermeasure to US export controls on "
                        + "semiconductors.",
                    "2024-05-10T09:00:00Z"), at: 0)
        }
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom"><title>Wire news</title><id>urn:demo:wire</id>
            <updated>2024-05-10T09:00:00Z</updated>
            \(entries.joined(separator: "\n"))
            </feed>
            """
    }

    private static func item(_ guid: String, _ title: String, _ summary: String, _ date: String) -> String {
        "<item><guid isPermaLink=\"false\">\(guid)</guid><title>\(title)</title>"
            + "<link>https://www.bis.gov/press/\(guid)</link><description>\(summary)</description>"
            + "<pubDate>\(date)</pubDate></item>"
    }

    private static func entry(_ id: String, _ title: String, _ summary: String, _ date: String) -> String {
        "<entry><id>urn:demo:\(id)</id><title>\(title)</title><link href=\"https://news.example/\(id)\"/>"
            + "<summary>\(summary)</summary><updated>\(date)</updated></entry>"
    }
}

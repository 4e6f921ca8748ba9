import Feeds
import Foundation
import Testing

@testable import Daemon

@Suite("OPML import")
struct SourceImportTests {
    @Test("a feed the configuration or the file already has is skipped with a comment naming its source")
    func knownFeedsSkipped() throws {
        let configured = try ConfigurationLoader(environment: [:]).parse(
            "[[source]]\nid = \"bis\"\nurl = \"https://www.bis.gov/rss.xml\"", fileName: "exportwatch.toml",
            folder: URL(filePath: "/etc/exportwatch/"))
        let toml = SourceImport.toml(
            for: [
                OPML.Subscription(title: "BIS", feedURL: "https://www.bis.gov/rss.xml"),
                OPML.Subscription(title: "MOFCOM", feedURL: "http://www.mofcom.gov.cn/rss.xml", folders: ["China"]),
                OPML.Subscription(title: "MOFCOM", feedURL: "http://www.mofcom.gov.cn/rss.xml", folders: ["Trade"]),
            ], existing: configured.sources)
        #expect(
            toml == """
                # Imported from OPML: 3 subscriptions.

                # skipped BIS: https://www.bis.gov/rss.xml is source "bis" already

                # MOFCOM (China)
                [[source]]
                id = "mofcom"
                url = "http://www.mofcom.gov.cn/rss.xml"

                # skipped MOFCOM: http://www.mofcom.gov.cn/rss.xml is source "mofcom" already

                """)
    }

    @Test("titles and URLs with line breaks cannot break out of their comment or string")
    func lineBreaks() throws {
        let toml = SourceImport.toml(
            for: [OPML.Subscription(title: "A\n[[source]]\nid = \"evil\"", feedURL: "https://example.org/a\nb.xml")],
            existing: [])
        let configuration = try ConfigurationLoader(environment: [:]).parse(
            toml, fileName: "imported.toml", folder: URL(filePath: "/etc/exportwatch/"))
        #expect(configuration.sources.map(\.id) == ["a-source-id-evil"])
        #expect(configuration.sources.first?.url.absoluteString == "https://example.org/a%0Ab.xml")
    }
}

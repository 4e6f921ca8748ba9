import Feeds
import Foundation
import Testing

@Suite("OPML")
struct OPMLTests {
    @Test("subscriptions are read with their folders; an OPML document round-trips")
    func roundTrip() throws {
        let document = """
            <?xml version="1.0"?>
            <opml version="2.0"><head><title>Reader</title></head><body>
            <outline text="Policy">
              <outline type="rss" text="BIS &amp; Commerce" xmlUrl="https://www.bis.gov/rss.xml" htmlUrl="https://www.bis.gov/"/>
              <outline text="商务部" xmlUrl="http://www.mofcom.gov.cn/rss.xml"/>
            </outline>
            <outline title="Federal Register" xmlUrl=" https://www.federalregister.gov/documents.rss "/>
            <outline text="a folder without feeds"/>
            </body></opml>
            """
        let subscriptions = try OPML.subscriptions(in: Data(document.utf8))
        #expect(
            subscriptions == [
                .init(
                    title: "BIS & Commerce", feedURL: "https://www.bis.gov/rss.xml", siteURL: "https://www.bis.gov/",
                    folders: ["Policy"]),
                .init(title: "商务部", feedURL: "http://www.mofcom.gov.cn/rss.xml", folders: ["Policy"]),
                .init(title: "Federal Register", feedURL: "https://www.federalregister.gov/documents.rss"),
            ])
        let written = OPML.document(title: "exportwatch", subscriptions: subscriptions)
        #expect(try OPML.subscriptions(in: Data(written.utf8)).map(\.feedURL) == subscriptions.map(\.feedURL))
        #expect(throws: OPML.ReadError.self) { try OPML.subscriptions(in: Data("<rss/>".utf8)) }
    }
}

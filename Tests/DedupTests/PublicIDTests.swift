import Dedup
import Testing

/// Public ids go out in webhooks and digests and are looked up by `items show`: they must not
/// change between versions, and a poll's new items should sort together in the store's index.
@Suite("Public ids")
struct PublicIDTests {
    @Test("an item's id and its story's do not change between versions")
    func stable() {
        let item = ItemKeys.publicItemID(source: "bis-press", identityKey: "guid:https://www.bis.gov/node/123")
        #expect(item == "itm_bc2f3bfffcf2ecd37ca563db6df40af5")
        #expect(ItemKeys.publicStoryID(foundedBy: item) == "sty_bc2f3bff138ed57669b3a18e4aac0b84")
    }

    @Test("a source's items share the first 32 bits of their ids; the rest tells them apart")
    func sourcePrefix() {
        let first = ItemKeys.publicItemID(source: "bis-press", identityKey: "guid:a")
        let second = ItemKeys.publicItemID(source: "bis-press", identityKey: "guid:b")
        let elsewhere = ItemKeys.publicItemID(source: "mofcom", identityKey: "guid:a")
        for id in [first, second, elsewhere] {
            #expect(id.count == 4 + 32 && id.dropFirst(4).allSatisfy(\.isHexDigit))
        }
        #expect(first.prefix(12) == second.prefix(12))
        #expect(first != second)
        #expect(first.prefix(12) != elsewhere.prefix(12))

        let story = ItemKeys.publicStoryID(foundedBy: first)
        #expect(story.hasPrefix("sty_" + first.dropFirst(4).prefix(8)))
        #expect(story.count == 4 + 32 && story != ItemKeys.publicStoryID(foundedBy: second))
    }
}

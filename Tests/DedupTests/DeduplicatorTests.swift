import Classification
import Dedup
import Foundation
import Testing

@Suite("Item identity and updates")
struct DeduplicatorTests {
    /// The items of a fetch and a store that remembers them, as the daemon keeps one.
    struct Source {
        var deduplicator = Deduplicator(policy: .auto, learned: nil)
        var known: [KnownItem] = []
        var nextID: Int64 = 1

        /// Resolves a fetch and records what is new, as the store would.
        mutating func fetch(_ items: [DedupItem]) -> (identity: IdentityChoice, decisions: [ItemDecision]) {
            let keyed = items.map { ($0, ItemKeys($0)) }
            let result = deduplicator.resolve(keyed, known: known)
            deduplicator.learned = result.identity.kind
            for ((item, keys), decision) in zip(keyed, result.decisions) {
                let text = ItemText(title: item.title, summary: item.summary, content: item.content)
                switch decision {
                case .new(let key, _):
                    known.append(
                        KnownItem(
                            id: nextID, identityKey: key, guidKey: keys.guidKey, linkKey: keys.linkKey,
                            contentKey: keys.contentKey, text: text))
                    nextID += 1
                case .updated(let id, _), .knownUnchanged(let id, true):
                    if let index = known.firstIndex(where: { $0.id == id }) { known[index].text = text }
                default: break
                }
            }
            return result
        }
    }

    static let may10 = Date(timeIntervalSince1970: 1_715_300_000)

    static func item(_ number: Int, guid: String? = nil, link: String? = nil, date: Date = may10) -> DedupItem {
        DedupItem(
            guid: guid ?? "urn:bis:\(number)", link: link ?? "https://www.bis.gov/press/\(number)",
            title: "Commerce adds \(number) entities to the Entity List",
            summary: "<p>The Bureau of Industry and Security added entities in case \(number).</p>", published: date)
    }

    @Test("a second fetch of the same items finds them all known")
    func secondFetchIsKnown() {
        var source = Source()
        let first = source.fetch((1...3).map { Self.item($0) })
        #expect(first.decisions.allSatisfy { if case .new = $0 { true } else { false } })
        #expect(first.identity.kind == .guid)
        let second = source.fetch((1...3).map { Self.item($0) })
        #expect(second.decisions == [1, 2, 3].map { ItemDecision.knownUnchanged(itemID: $0, cosmetic: false) })
    }

    @Test("an item is identified without its story fingerprint, which is added for new items only")
    func identifyingKeys() {
        let item = Self.item(7)
        var keys = ItemKeys(identifying: item)
        let full = ItemKeys(item)
        #expect(keys.guidKey == full.guidKey && keys.linkKey == full.linkKey && keys.contentKey == full.contentKey)
        #expect(keys.simHash == nil && keys.headlineNumbers == 0)
        #expect(full.simHash != nil && full.headlineNumbers != 0)
        keys.addStoryFingerprint(of: item)
        #expect(keys == full)
    }

    @Test("a feed whose guids change on every fetch produces nothing new, and switches to links once")
    func churningGuids() {
        var source = Source()
        _ = source.fetch((1...5).map { Self.item($0, guid: "tag:fetch-1:\($0)") })
        let second = source.fetch((1...5).map { Self.item($0, guid: "tag:fetch-2:\($0)") })
        #expect(second.identity == IdentityChoice(kind: .link, reason: second.identity.reason, switched: true))
        #expect(second.identity.reason?.contains("guids changed while links stayed") == true)
        #expect(second.decisions.allSatisfy { if case .knownUnchanged = $0 { true } else { false } })
        let third = source.fetch((1...5).map { Self.item($0, guid: "tag:fetch-3:\($0)") })
        #expect(!third.identity.switched)
        #expect(third.decisions.allSatisfy { if case .knownUnchanged = $0 { true } else { false } })
    }

    @Test("tracking parameters and a move to https do not make items new")
    func trackingParametersInLinks() {
        var source = Source(deduplicator: Deduplicator(policy: .link, learned: nil))
        _ = source.fetch([Self.item(1, link: "http://www.bis.gov/press/1?utm_source=rss")])
        let again = source.fetch([Self.item(1, link: "https://www.bis.gov/press/1?utm_source=twitter#top")])
        #expect(again.decisions == [.knownUnchanged(itemID: 1, cosmetic: false)])
    }

    @Test("items without guids, or sharing one, are told apart by their links")
    func untrustworthyGuids() {
        var source = Source()
        let shared = source.fetch([Self.item(1, guid: "same"), Self.item(2, guid: "same")])
        #expect(shared.identity.kind == .link)
        #expect(shared.identity.reason == "two items share a guid")
        #expect(shared.decisions.filter { if case .new = $0 { true } else { false } }.count == 2)

        var noGuids = Source()
        let missing = noGuids.fetch([Self.item(1, guid: ""), Self.item(2, guid: "")])
        #expect(missing.identity.kind == .link)
        #expect(!missing.identity.switched)
    }

    @Test("items sharing guid and link fall back to title and date")
    func contentIdentity() {
        var source = Source()
        let page = "https://www.mfa.gov.cn/web/fyrbt/"
        let fetch = source.fetch([
            DedupItem(guid: nil, link: page, title: "外交部发言人答记者问", published: Self.may10),
            DedupItem(guid: nil, link: page, title: "外交部发言人就美方出口管制答记者问", published: Self.may10),
        ])
        #expect(fetch.identity.kind == .content)
        #expect(fetch.decisions.filter { if case .new(_, .content) = $0 { true } else { false } }.count == 2)
    }

    @Test("re-dating an old item announces nothing")
    func redatedItem() {
        var source = Source()
        _ = source.fetch([Self.item(1)])
        let redated = source.fetch([Self.item(1, date: Self.may10.addingTimeInterval(86_400 * 30))])
        #expect(redated.decisions == [.knownUnchanged(itemID: 1, cosmetic: false)])
    }

    @Test("whitespace, markup, entities and tracking links are cosmetic; a real edit is one update")
    func materialEdits() throws {
        var source = Source()
        var item = Self.item(1)
        _ = source.fetch([item])

        item.summary = "<div>The Bureau of Industry and <b>Security</b>\n added entities in case 1.</div>"
        let cosmetic = source.fetch([item])
        #expect(cosmetic.decisions == [.knownUnchanged(itemID: 1, cosmetic: true)])

        item.summary =
            "<p>The Bureau of Industry and Security added entities in case 1, including three subsidiaries of Huawei.</p>"
        let edited = source.fetch([item])
        guard case .updated(1, let changes) = edited.decisions.first else {
            Issue.record("expected one update, got \(edited.decisions)")
            return
        }
        try #require(changes.map(\.field) == ["summary"])
        #expect(changes[0].after.contains("Huawei"))

        item.title = "Commerce adds 1 entity to the Entity List"
        let retitled = source.fetch([item])
        guard case .updated(1, let titleChanges) = retitled.decisions.first else {
            Issue.record("expected a title update, got \(retitled.decisions)")
            return
        }
        #expect(titleChanges.map(\.field) == ["title"])
    }

    @Test("a link in the text that differs only by tracking parameters is no change")
    func trackingLinkInText() {
        let (material, anyChange) = ChangeDetector.compare(
            stored: ItemText(title: "Rule", summary: "Read it at https://www.bis.gov/a?utm_source=rss", content: nil),
            fetched: ItemText(
                title: "Rule", summary: "Read it at https://www.bis.gov/a?utm_source=x&fbclid=1", content: nil))
        #expect(material.isEmpty)
        #expect(anyChange)
    }

    @Test("a changed number is material even alone")
    func changedNumber() {
        let (material, _) = ChangeDetector.compare(
            stored: ItemText(title: "Rule", summary: "Penalties up to $300,000 per violation.", content: nil),
            fetched: ItemText(title: "Rule", summary: "Penalties up to $374,474 per violation.", content: nil))
        #expect(material.map(\.field) == ["summary"])
    }

    @Test("the same item twice in one fetch is counted once")
    func repeatedInFetch() {
        var source = Source(deduplicator: Deduplicator(policy: .guid, learned: nil))
        let fetch = source.fetch([Self.item(1), Self.item(1)])
        #expect(fetch.decisions.last == .repeatedInFetch)
    }
}

import Classification
import Dedup
import Foundation
import Testing

@Suite("Stories across sources")
struct StoryTests {
    /// Stories as the daemon keeps them: each committed item in a ``StoryIndex``, whose candidates
    /// the matcher decides among.
    struct Stories {
        var matcher = StoryMatcher()
        var index = StoryIndex(window: .seconds(7 * 86_400))
        var items: [(story: Int64, keys: ItemKeys)] = []
        var nextStory: Int64 = 1
        let now = Date(timeIntervalSince1970: 1_715_300_000)

        mutating func add(_ item: DedupItem) -> StoryDecision {
            let keys = ItemKeys(item)
            let decision = matcher.decide(
                keys, candidates: index.candidates(for: keys, since: matcher.windowStart(at: now)))
            let story: Int64
            switch decision {
            case .joins(let joined, _): story = joined
            case .startsStory:
                story = nextStory
                nextStory += 1
            }
            items.append((story, keys))
            index.add(
                StoryIndex.Entry(
                    storyID: story, simHash: keys.simHash, headlineNumbers: keys.headlineNumbers,
                    storyKeys: keys.storyKeys, seenAt: now))
            return decision
        }
    }

    @Test("the same wire story from three outlets is one story")
    func wireStory() {
        var stories = Stories()
        let lead =
            "The U.S. Commerce Department on Thursday added 37 Chinese entities to its trade blacklist, "
            + "citing support for China's military modernization and its quantum computing efforts."
        let reuters = DedupItem(
            guid: "reuters-1", link: "https://www.reuters.com/technology/us-adds-37-chinese-entities-2024-05-09/",
            title: "US adds 37 Chinese entities to trade blacklist over military, quantum ties - Reuters",
            summary: lead + " The move follows months of pressure from lawmakers.")
        let yahoo = DedupItem(
            guid: "yahoo-9", link: "https://finance.yahoo.com/news/us-adds-37-chinese-entities.html?utm_source=rss",
            title: "US adds 37 Chinese entities to trade blacklist over military, quantum ties",
            summary: "<p>(Reuters) - " + lead + "</p><p>The move follows months of pressure from lawmakers, "
                + "who have urged the administration to act faster. Companies added include units of…</p>")
        let ap = DedupItem(
            guid: "ap-3", link: "https://apnews.com/article/china-entity-list-quantum",
            title: "US adds 37 Chinese entities to trade blacklist over military, quantum ties | AP News",
            summary: lead)
        #expect(stories.add(reuters) == .startsStory)
        guard case .joins(1, .similarText) = stories.add(yahoo), case .joins(1, .similarText) = stories.add(ap)
        else {
            Issue.record("the three reports did not form one story: \(stories.items.map(\.story))")
            return
        }
    }

    @Test("an English and a Chinese report of one Federal Register document join by its number")
    func identifierJoin() {
        var stories = Stories()
        let english = DedupItem(
            guid: "fr-1", link: "https://www.federalregister.gov/d/2024-07004",
            title: "Implementation of Additional Export Controls: Certain Advanced Computing Items",
            summary: "Interim final rule, FR Doc. 2024-07004, revising controls on ECCN 3A090 and 4A090.",
            identifiers: [
                RegulatoryIdentifier(kind: .federalRegisterDocument, value: "2024-07004"),
                RegulatoryIdentifier(kind: .eccn, value: "3A090"),
            ])
        let chinese = DedupItem(
            guid: "zh-1", link: "https://www.example.cn/news/2024/0404.html",
            title: "美国商务部发布先进计算物项出口管制修订规则",
            summary: "美国联邦公报文件编号2024-07004的暂行最终规则修订了对先进芯片的管制。",
            identifiers: [RegulatoryIdentifier(kind: .federalRegisterDocument, value: "2024-07004")])
        #expect(stories.add(english) == .startsStory)
        #expect(stories.add(chinese) == .joins(storyID: 1, because: .identifier("fr-document:2024-07004")))
    }

    @Test("a joint MOFCOM and customs announcement and an English report naming only MOFCOM join by its number")
    func jointAnnouncementJoin() {
        var stories = Stories()
        let chinese = DedupItem(
            guid: "mofcom-23", link: "http://www.mofcom.gov.cn/article/zcfb/2023/23.shtml",
            title: "商务部 海关总署公告2023年第23号 关于对镓、锗相关物项实施出口管制的公告",
            identifiers: [RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部海关总署公告2023年第23号")])
        let english = DedupItem(
            guid: "wire-7", link: "https://www.example.com/china-gallium-germanium",
            title: "China curbs exports of gallium and germanium, citing national security",
            summary: "The measures, set out in MOFCOM Announcement No. 23 of 2023, take effect on August 1.",
            identifiers: [RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2023年第23号")])
        #expect(stories.add(chinese) == .startsStory)
        #expect(stories.add(english) == .joins(storyID: 1, because: .identifier("cn-announcement:商务部公告2023年第23号")))
    }

    @Test("a series of similar headlines about different events stays apart")
    func seriesStaysApart() {
        var stories = Stories()
        let first = DedupItem(
            guid: "a", link: "https://www.bis.gov/press/1", title: "Commerce Adds 12 Chinese Entities to Entity List",
            summary: "BIS added 12 entities, including Inspur subsidiaries, for supporting supercomputing.")
        let second = DedupItem(
            guid: "b", link: "https://www.bis.gov/press/2", title: "Commerce Adds 31 Chinese Entities to Entity List",
            summary: "BIS added 31 entities involved in military aircraft and drone development.")
        let briefing1 = DedupItem(guid: "c", link: "https://www.mfa.gov.cn/1", title: "2024年5月10日外交部发言人汪文斌主持例行记者会")
        let briefing2 = DedupItem(guid: "d", link: "https://www.mfa.gov.cn/2", title: "2024年5月13日外交部发言人汪文斌主持例行记者会")
        #expect(stories.add(first) == .startsStory)
        #expect(stories.add(second) == .startsStory)
        #expect(stories.add(briefing1) == .startsStory)
        #expect(stories.add(briefing2) == .startsStory)
    }

    @Test("a single ECCN is too common to tie stories; two cited together are specific")
    func storyKeys() {
        #expect(ItemKeys.storyKeys(for: [RegulatoryIdentifier(kind: .eccn, value: "3A090")]).isEmpty)
        #expect(
            ItemKeys.storyKeys(for: [
                RegulatoryIdentifier(kind: .eccn, value: "4A090.a"), RegulatoryIdentifier(kind: .eccn, value: "3A090"),
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2024年第33号"),
            ]) == ["cn-announcement:商务部公告2024年第33号", "eccn-set:3A090,4A090"])
        // A joint announcement is also known by its lead issuer's series.
        #expect(
            ItemKeys.storyKeys(for: [RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部海关总署公告2023年第23号")])
                == ["cn-announcement:商务部公告2023年第23号", "cn-announcement:商务部海关总署公告2023年第23号"])
    }

    @Test("headlines lose the outlet's name and wire prefixes")
    func headlineCore() {
        #expect(
            StoryText.headlineCore("US curbs AI chip exports to Middle East - Reuters")
                == "US curbs AI chip exports to Middle East")
        #expect(StoryText.headlineCore("UPDATE 2-US curbs AI chip exports") == "US curbs AI chip exports")
        #expect(StoryText.headlineCore("商务部新闻发言人就美方出口管制措施答记者问_新华网") == "商务部新闻发言人就美方出口管制措施答记者问")
        #expect(StoryText.headlineCore("Q&A - Reuters") == "Q&A - Reuters")
    }

    @Test("fingerprint bands: any two within distance 3 share a band")
    func bands() {
        let base = SimHash(bits: 0x0123_4567_89AB_CDEF)
        let near = SimHash(bits: base.bits ^ (1 << 3 | 1 << 20 | 1 << 40))
        #expect(base.distance(to: near) == 3)
        #expect(zip(base.bands, near.bands).contains { $0 == $1 })
    }
}

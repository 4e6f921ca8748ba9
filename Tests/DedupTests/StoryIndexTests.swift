import Dedup
import Foundation
import TestSupport
import Testing

@Suite("Story index")
struct StoryIndexTests {
    static let start = Date(timeIntervalSince1970: 1_715_300_000)

    @Test("candidates are exactly the recent items sharing a band, each once, whatever their number")
    func matchesBruteForce() {
        var random = SplitMix64(seed: 42)
        var index = StoryIndex(window: .seconds(86_400))
        var stored: [StoryIndex.Entry] = []
        // A few base texts and many near copies of them (a handful of bits flipped), over two days.
        let bases = (0..<40).map { _ in random.next() }
        for item in 0..<6_000 {
            var bits = bases[Int(random.next() % 40)]
            for _ in 0..<Int(random.next() % 6) { bits ^= 1 << (random.next() % 64) }
            let entry = StoryIndex.Entry(
                storyID: Int64(item % 700), simHash: SimHash(bits: bits),
                headlineNumbers: UInt32(random.next() % 3), seenAt: Self.start.addingTimeInterval(Double(item) * 30))
            index.add(entry)
            stored.append(entry)
        }
        let now = Self.start.addingTimeInterval(6_000 * 30)
        let since = now.addingTimeInterval(-86_400)
        for probe in 0..<60 {
            var bits = bases[probe % 40]
            bits ^= 1 << (random.next() % 64)
            var keys = ItemKeys(DedupItem(guid: nil, link: nil, title: ""))
            keys.simHash = SimHash(bits: bits)
            let expected = stored.filter { entry in
                entry.seenAt >= since && zip(entry.simHash!.bands, keys.simHash!.bands).contains { $0 == $1 }
            }
            let found = index.candidates(for: keys, since: since)
            #expect(found.count == expected.count)
            #expect(
                Set(found.map { "\($0.storyID) \($0.simHash!.bits) \($0.headlineNumbers)" })
                    == Set(expected.map { "\($0.storyID) \($0.simHash!.bits) \($0.headlineNumbers)" }))
        }
        // The cleanup ran as the index grew: most of the two days are gone, the last day is not.
        #expect(index.count < 6_000 && index.count >= 86_400 / 30)
    }

    @Test("story keys offer each story once with the keys it shares, sorted, within the window")
    func storyKeys() {
        var index = StoryIndex(window: .seconds(7 * 86_400))
        let day = 86_400.0
        index.add(
            StoryIndex.Entry(
                storyID: 3, simHash: nil, storyKeys: ["fr-document:2024-07004", "rin:0694-AJ35"], seenAt: Self.start))
        index.add(StoryIndex.Entry(storyID: 3, simHash: nil, storyKeys: ["rin:0694-AJ35"], seenAt: Self.start))
        index.add(
            StoryIndex.Entry(
                storyID: 1, simHash: nil, storyKeys: ["fr-document:2024-07004"],
                seenAt: Self.start.addingTimeInterval(-10 * day)))
        var keys = ItemKeys(DedupItem(guid: nil, link: nil, title: ""))
        keys.storyKeys = ["rin:0694-AJ35", "fr-document:2024-07004"]
        #expect(
            index.candidates(for: keys, since: Self.start.addingTimeInterval(-7 * day)) == [
                StoryCandidate(storyID: 3, sharedKeys: ["fr-document:2024-07004", "rin:0694-AJ35"])
            ])
        #expect(index.candidates(for: keys, since: Self.start.addingTimeInterval(-11 * day)).map(\.storyID) == [1, 3])

        index.forget(before: Self.start.addingTimeInterval(-7 * day))
        #expect(index.count == 3)
        #expect(index.candidates(for: keys, since: .distantPast).map(\.storyID) == [3])
    }

    @Test("a forgotten story is offered no more, by fingerprint or key, and leaves at the next cleanup")
    func forgottenStories() {
        var index = StoryIndex(window: .seconds(86_400))
        let bits: UInt64 = 0x0123_4567_89AB_CDEF
        for story: Int64 in [7, 8] {
            index.add(
                StoryIndex.Entry(
                    storyID: story, simHash: SimHash(bits: bits), storyKeys: ["rin:0694-AJ35"], seenAt: Self.start))
        }
        var keys = ItemKeys(DedupItem(guid: nil, link: nil, title: ""))
        keys.simHash = SimHash(bits: bits)
        keys.storyKeys = ["rin:0694-AJ35"]
        #expect(Set(index.candidates(for: keys, since: .distantPast).map(\.storyID)) == [7, 8])

        index.forget(stories: [7])
        #expect(index.candidates(for: keys, since: .distantPast).map(\.storyID) == [8, 8])
        #expect(index.count == 4)
        index.forget(before: .distantPast)
        #expect(index.count == 2)
        #expect(index.candidates(for: keys, since: .distantPast).map(\.storyID) == [8, 8])
    }

    @Test("an item without a fingerprint or keys is offered nothing")
    func emptyKeys() {
        var index = StoryIndex(window: .seconds(60))
        index.add(StoryIndex.Entry(storyID: 1, simHash: SimHash(bits: 0), seenAt: Self.start))
        let keys = ItemKeys(DedupItem(guid: nil, link: nil, title: ""))
        #expect(keys.simHash == nil && keys.storyKeys.isEmpty)
        #expect(index.candidates(for: keys, since: .distantPast).isEmpty)
    }
}

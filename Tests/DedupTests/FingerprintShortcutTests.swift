import TestSupport
import Testing

@testable import Dedup

/// The fingerprint's shortcuts (bytes for `Character`s where every byte is one, word-wide bit
/// counts for per-bit votes) must give exactly what the plain definitions give: fingerprints are
/// stored and compared across versions.
@Suite("Fingerprint shortcuts")
struct FingerprintShortcutTests {
    @Test("a dateline is cut from an ASCII lead as it is when the lead is read as characters")
    func asciiDateline() throws {
        var random = SplitMix64(seed: 2026_11_30)
        let pieces = [
            "washington", "(reuters)", "beijing,", "may", "10", "(xinhua)", "the", "u.s.", "commerce", "said", " ",
            " ", "  ", " - ", " -- ", "-", "--", " -", "- ", ".", "\n", "\t", "a", "bb",
        ]
        var cut = 0
        for _ in 0..<5_000 {
            let lead = (0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            let shortcut = try #require(StoryText.withoutASCIIDateline(lead), "\(lead)")
            #expect(shortcut == StoryText.withoutDatelineByCharacters(lead), "\(lead)")
            if shortcut != lead { cut += 1 }
        }
        // Both outcomes are exercised.
        #expect(cut > 500 && cut < 4_500)
    }

    @Test(
        "a lead with anything but ASCII in its first 81 bytes, or a carriage return, is read as characters",
        arguments: [
            "washington (reuters) - the commerce department", String(repeating: "a", count: 80) + "\u{301} - b",
            "beijing\r\n - x", "新华社北京5月10日电 商务部", "café - the ministry said",
        ])
    func otherLeads(lead: String) {
        let isPlain = lead.utf8.prefix(81).allSatisfy { $0 < 0x80 && $0 != 0x0D }
        #expect((StoryText.withoutASCIIDateline(lead) != nil) == isPlain)
        #expect(StoryText.withoutDateline(lead) == StoryText.withoutDatelineByCharacters(lead))
    }

    @Test("function words are found by their bytes, and only they")
    func functionWords() {
        for word in ["a", "s", "the", "of", "would", "after", "amid", "new"] {
            #expect(StoryText.isStopWord(Substring(word)), "\(word)")
        }
        for word in ["", "an1", "thee", "th", "aa", "newer", "wouldn", "á", "a\u{301}", "the\u{0}", "mofcom"] {
            #expect(!StoryText.isStopWord(Substring(word)), "\(word)")
        }
        #expect(!StoryText.isStopWord("the commerce".dropFirst(4)))
        #expect(StoryText.isStopWord("commerce and".dropFirst(9)))
    }

    @Test("a fingerprint is the per-bit vote of its weighted features, whatever the weights")
    func simHashIsTheVote() {
        var random = SplitMix64(seed: 64)
        for _ in 0..<2_000 {
            let weights = [1, 3, Int.random(in: -5...20, using: &random)]
            let features = (0..<Int.random(in: 1...300, using: &random)).map { _ in
                (hash: random.next(), weight: weights.randomElement(using: &random)!)
            }
            // The definition: each feature votes its weight for the bits it has set, against the others.
            var bits: UInt64 = 0
            for bit in 0..<64 {
                let vote = features.reduce(0) { $0 + ($1.hash >> UInt64(bit) & 1 == 1 ? $1.weight : -$1.weight) }
                if vote > 0 { bits |= 1 << UInt64(bit) }
            }
            #expect(SimHash(features: features)?.bits == bits)
        }
        #expect(SimHash(features: []) == nil)
    }
}

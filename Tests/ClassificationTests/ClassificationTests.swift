import Foundation
import TestSupport
import Testing

@testable import Classification

@Suite("Normalization and matching")
struct MatchingTests {
    @Test(
        "text is normalized once: markup, full-width forms, case, traditional characters, whitespace",
        arguments: [
            ("<p>US <b>Export</b>&nbsp;Controls</p>", "us export controls"),
            ("ＥＮＦＯＲＣＥ　Ａｃｔ，ＨＳ２０", "enforce act,hs20"),
            ("美國商務部擴大對華晶片出口管制", "美国商务部扩大对华晶片出口管制"),
            ("實體清單  與\n不可靠實體清單", "实体清单 与 不可靠实体清单"),
            ("Ｈ２０ chips &amp; HBM", "h20 chips & hbm"),
        ])
    func normalization(input: String, expected: String) {
        #expect(TextNormalizer.normalize(input) == expected)
    }

    @Test("the fast path for common scripts agrees with Foundation's NFKC on mixed text")
    func fastNormalizationAgreesWithNFKC() throws {
        // Pieces that exercise every branch: eight-byte ASCII runs, upper case, single and doubled
        // whitespace, tags, entities, Latin-1, punctuation, full-width forms, traditional characters.
        let pieces = [
            "Export", "CONTROLS", "on", "advanced computing items", " ", "  ", "\t", "\n", " \r\n ", "<b>", "</p>",
            "<br/>", "&amp;", "&nbsp;", "&#8217;", "&#x4E2D;", "實體清單", "美國商務部", "芯片出口管制", "ＥＮＦＯＲＣＥ",
            "１２３", "　", "é", "ÉTATS", "—", "…", "“quoted”", "H20", "A", "z", "3A090.", "(BIS)", "a,b;c:d",
        ]
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<500 {
            let count = Int(generator.next() % 40) + 1
            let title = (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            let summary = (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            var parts = [title, summary]
            let fast = try #require(TextNormalizer.normalizeCommonScripts(&parts))
            #expect(fast == TextNormalizer.normalizeAnyScript([title, summary]), "\(title) | \(summary)")
        }
    }

    @Test("Latin patterns match whole words, CJK patterns anywhere, overlapping patterns all")
    func matcher() {
        let patterns = ["bis", "entity list", "实体清单", "不可靠实体清单", "h20"]
        let matcher = PatternMatcher(patterns: patterns)
        let found = { (text: String) in matcher.matches(in: text).map { patterns[$0.pattern] } }
        #expect(found("the bis added firms to the entity list") == ["bis", "entity list"])
        #expect(found("forbis rabbis bis-approved") == ["bis"])
        #expect(Set(found("将其列入不可靠实体清单")) == ["实体清单", "不可靠实体清单"])
        #expect(found("nvidia h20, h200 and h20x") == ["h20"])
        #expect(found("") == [])
    }

    @Test("long texts, scanned in interleaved quarters, yield exactly the matches of a plain search")
    func interleavedMatching() {
        let patterns = ["bis", "entity list", "export controls", "实体清单", "不可靠实体清单", "h20", "s", "controls on"]
        let matcher = PatternMatcher(patterns: patterns)
        let words = ["the", "bis", "entity", "list", "export", "controls", "on", "实体清单", "不可靠", "h20", "s", "rabbis"]
        var generator = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let count = Int(generator.next() % 120) + 40
            let text = (0..<count).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined(
                separator: " ")
            let matches = matcher.matches(in: text)
            #expect(zip(matches, matches.dropFirst()).allSatisfy { $0.end <= $1.end }, "in order of their ends")
            let found = matches.map { "\($0.pattern)@\($0.start)" }
            #expect(found.sorted() == Self.plainSearch(patterns, in: text), "\(text)")
        }
        // The longest pattern across a quarter's end, at every offset: 400 bytes make quarters of 100.
        for longest in ["不可靠实体清单", "export controls"] {
            for before in 1..<longest.utf8.count {
                let head = String(repeating: "-", count: 100 - before)
                let text = head + longest + String(repeating: "-", count: 300 - longest.utf8.count + before)
                let found = matcher.matches(in: text).map { "\($0.pattern)@\($0.start)" }
                #expect(found.sorted() == Self.plainSearch(patterns, in: text), "\(longest) at \(100 - before)")
            }
        }
    }

    /// Every occurrence of each pattern, Latin ones on word boundaries, as `pattern@start`, sorted.
    static func plainSearch(_ patterns: [String], in text: String) -> [String] {
        let bytes = Array(text.utf8)
        func isWord(_ index: Int) -> Bool {
            guard index >= 0 && index < bytes.count else { return false }
            let byte = bytes[index]
            return (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39
        }
        var found: [(end: Int, pattern: Int, start: Int)] = []
        for (index, pattern) in patterns.enumerated() {
            let needle = Array(pattern.utf8)
            let latin = pattern.unicodeScalars.contains { $0.isASCII && $0.properties.isAlphabetic }
            for start in 0...(bytes.count - needle.count)
            where bytes[start..<(start + needle.count)].elementsEqual(needle) {
                if latin && (isWord(start - 1) || isWord(start + needle.count)) { continue }
                found.append((start + needle.count, index, start))
            }
        }
        return found.map { "\($0.pattern)@\($0.start)" }.sorted()
    }

    @Test(
        "regulatory identifiers",
        arguments: [
            (
                "interim final rule, 88 fr 73458",
                RegulatoryIdentifier(kind: .federalRegisterCitation, value: "88 FR 73458")
            ),
            ("revises 15 cfr 744 and 742", RegulatoryIdentifier(kind: .cfrPart, value: "15 CFR 744")),
            ("under 15 c.f.r. part 734", RegulatoryIdentifier(kind: .cfrPart, value: "15 CFR 734")),
            ("fr doc. 2024-12345 filed", RegulatoryIdentifier(kind: .federalRegisterDocument, value: "2024-12345")),
            (
                "https://www.federalregister.gov/d/2024-01580",
                RegulatoryIdentifier(kind: .federalRegisterDocument, value: "2024-01580")
            ),
            ("eccn 3a090 and 4a090.a", RegulatoryIdentifier(kind: .eccn, value: "3A090")),
            ("items in 4a090.a", RegulatoryIdentifier(kind: .eccn, value: "4A090.a")),
            ("(rin 0694-aj35)", RegulatoryIdentifier(kind: .rin, value: "0694-AJ35")),
            ("商务部 海关总署公告2023年第23号 关于", RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部海关总署公告2023年第23号")),
            ("商务部公告2024年第46号", RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2024年第46号")),
            // Cited in English, spelt as in Chinese: reports in both languages cite one identifier.
            (
                "controls on gallium (mofcom announcement no. 21 of 2024)",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2024年第21号")
            ),
            (
                "mofcom and gac announcement no. 23 [2023] on gallium",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部海关总署公告2023年第23号")
            ),
            (
                "ministry of commerce announcement [2024] no. 46 bans",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2024年第46号")
            ),
            (
                "announcement no. 46 of 2024 of the ministry of commerce bans",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "商务部公告2024年第46号")
            ),
            // China's Unreliable Entity List decisions, in both languages.
            (
                "不可靠实体清单工作机制公告2025年第1号",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "不可靠实体清单工作机制公告2025年第1号")
            ),
            (
                "mofcom's unreliable entity list working mechanism announcement no. 1 of 2025 adds",
                RegulatoryIdentifier(kind: .chineseAnnouncement, value: "不可靠实体清单工作机制公告2025年第1号")
            ),
        ])
    func identifiers(text: String, expected: RegulatoryIdentifier) {
        #expect(IdentifierExtractor.identifiers(in: text).contains(expected))
    }

    @Test("an announcement number with no Chinese issuer in its sentence is nobody's")
    func announcementWithoutIssuer() {
        for text in [
            "cbp announcement no. 3 of 2024 on tariffs",
            "mofcom said on monday. the state council announcement no. 5 of 2024 covers rare earths",
            "announcement no. 7 of 2024",
        ] {
            #expect(IdentifierExtractor.identifiers(in: text).isEmpty, "\(text)")
        }
    }

    @Test("identifiers that are evidence of export controls")
    func evidence() {
        #expect(RegulatoryIdentifier(kind: .eccn, value: "3A090").isExportControlEvidence)
        #expect(RegulatoryIdentifier(kind: .cfrPart, value: "15 CFR 744").isExportControlEvidence)
        #expect(!RegulatoryIdentifier(kind: .cfrPart, value: "40 CFR 60").isExportControlEvidence)
        #expect(!RegulatoryIdentifier(kind: .federalRegisterCitation, value: "89 FR 1").isExportControlEvidence)
        // The Unreliable Entity List is a countermeasure, not an export control.
        #expect(
            !RegulatoryIdentifier(kind: .chineseAnnouncement, value: "不可靠实体清单工作机制公告2025年第1号")
                .isExportControlEvidence)
        #expect(IdentifierExtractor.identifiers(in: "no identifiers here, 2024 was a year").isEmpty)
    }
}

@Suite("Classifier")
struct ClassifierTests {
    static let chips = Topic(
        id: "chip-controls", name: "Chips", threshold: 0.5,
        terms: [
            .init("export controls", weight: 0.45), .init("chips", weight: 0.2), .init("h20", weight: 0.35),
            .init("出口管制", weight: 0.45), .init("芯片", weight: 0.3),
        ],
        groups: [
            .init(name: "chip", terms: ["chips", "h20", "芯片"]),
            .init(name: "control", terms: ["export controls", "出口管制"], identifiersCount: true),
        ],
        exclusions: ["potato chips"], identifierWeights: [.eccn: 0.4])

    @Test("terms combine as independent evidence; the explanation lists them")
    func scoring() throws {
        let result = Classifier(topics: [Self.chips]).classify(
            title: "US tightens export controls on H20 chips", summary: "")
        let topic = try #require(result.topics.first)
        #expect(result.relevant && topic.passes)
        #expect(topic.matched == ["chips", "export controls", "h20"])
        #expect(abs(topic.score - (1 - 0.55 * 0.8 * 0.65)) < 0.001)
    }

    @Test("a required group with no match keeps the topic below its threshold")
    func requiredGroup() {
        let result = Classifier(topics: [Self.chips]).classify(title: "Nvidia ships more H20 chips", summary: "")
        #expect(!result.relevant)
        #expect(result.topics.first?.score ?? 1 <= 0.1)
    }

    @Test("an exclusion hides the terms inside it")
    func exclusion() {
        let result = Classifier(topics: [Self.chips]).classify(title: "Export controls? No: potato chips", summary: "")
        #expect(!result.relevant)
        #expect(result.topics.first?.matched == ["export controls"])
    }

    @Test("an ECCN is evidence: it satisfies the control group and weighs as a term")
    func identifierEvidence() {
        let result = Classifier(topics: [Self.chips]).classify(
            title: "New rules for chips", summary: "Items under ECCN 3A090.")
        #expect(result.relevant)
        #expect(result.identifiers == [RegulatoryIdentifier(kind: .eccn, value: "3A090")])
    }

    @Test("traditional and full-width text classifies like simplified")
    func chineseForms() {
        let classifier = Classifier(topics: [Self.chips])
        #expect(classifier.classify(title: "美國加強對華芯片出口管制", summary: "").relevant)
        #expect(classifier.classify(title: "ＵＳ ｅｘｐｏｒｔ ｃｏｎｔｒｏｌｓ ｏｎ Ｈ２０", summary: "").relevant)
    }
}

// libFuzzer harness: item text through classification, identifiers, story fingerprints,
// canonical links and change detection. Built by Fuzz/run.sh with Sources/Dedup, over a
// Classification module built beside it.
import Classification
import Foundation

let classifier = Classifier(topics: [
    Topic(
        id: "chip-controls", name: "Chips",
        terms: [
            .init("export controls", weight: 0.5), .init("出口管制", weight: 0.5), .init("H20", weight: 0.4),
            .init("芯片", weight: 0.3), .init("a", weight: 0.1),
        ],
        groups: [
            .init(name: "chip", terms: ["H20", "芯片", "chip"]),
            .init(name: "control", terms: ["export controls", "出口管制"], identifiersCount: true),
        ],
        exclusions: ["potato chips", "薯片"], identifierWeights: [.eccn: 0.4]),
    Topic(id: "china-response", name: "China", terms: [.init("商务部", weight: 0.6), .init("外交部", weight: 0.6)]),
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzText(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let (title, summary) = (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    _ = TextNormalizer.normalize(text)
    let identifiers = IdentifierExtractor.identifiers(in: text)
    _ = classifier.classify(title: title, summary: summary, explaining: true)
    _ = StoryText.fingerprint(title: title, summary: summary)
    _ = StoryText.headlineCore(title)
    _ = CanonicalURL.canonicalize(title)
    _ = CanonicalURL.matchingKey(summary)
    _ = ChangeDetector.compare(
        stored: ItemText(title: title, summary: summary, content: nil),
        fetched: ItemText(title: summary, summary: title, content: text))
    _ = ItemKeys(DedupItem(guid: title, link: summary, title: title, summary: summary, identifiers: identifiers))
    _ = ItemKeys.storyKeys(for: identifiers)
    return 0
}

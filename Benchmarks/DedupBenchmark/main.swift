// Story grouping quality and lookup time, for Benchmarks/dedup.sh.
//
//   dedup-benchmark quality CORPUS.jsonl      precision and recall of story grouping over a corpus
//                                             with known duplicates (Benchmarks/dedup_corpus.py)
//   dedup-benchmark lookup CORPUS.jsonl N     story lookup time per item against a store of N items
import Classification
import Dedup
import Fetching
import Foundation
import Store

struct CorpusItem: Decodable {
    var story: Int
    var source: String
    var guid: String
    var link: String
    var title: String
    var summary: String
    var seen: Int
}

func readCorpus(_ path: String) throws -> [CorpusItem] {
    let decoder = JSONDecoder()
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try decoder.decode(CorpusItem.self, from: Data($0.utf8))
    }
}

func keys(title: String, summary: String, guid: String, link: String) -> ItemKeys {
    let identifiers = IdentifierExtractor.identifiers(in: TextNormalizer.normalize(parts: [title, summary]))
    return ItemKeys(DedupItem(guid: guid, link: link, title: title, summary: summary, identifiers: identifiers))
}

/// Groups the corpus in first-seen order with an in-memory copy of the store's indexes (four
/// bands and the story keys, both limited to the window), then counts pairs.
func quality(_ path: String) throws {
    let items = try readCorpus(path)
    let matcher = StoryMatcher()
    let window = 7 * 86_400
    var bandIndex = [[Int: [(story: Int64, simHash: SimHash, numbers: UInt32, seen: Int)]]](repeating: [:], count: 4)
    var keyIndex: [String: [(story: Int64, seen: Int)]] = [:]
    var predicted: [Int64] = []
    var nextStory: Int64 = 1
    var joinsByIdentifier = 0
    let start = ContinuousClock.now
    for item in items {
        let itemKeys = keys(title: item.title, summary: item.summary, guid: item.guid, link: item.link)
        var candidates: [StoryCandidate] = []
        if let simHash = itemKeys.simHash {
            for (band, value) in simHash.bands.enumerated() {
                for entry in bandIndex[band][value, default: []] where entry.seen >= item.seen - window {
                    candidates.append(
                        StoryCandidate(storyID: entry.story, simHash: entry.simHash, headlineNumbers: entry.numbers))
                }
            }
        }
        for key in itemKeys.storyKeys {
            for entry in keyIndex[key, default: []] where entry.seen >= item.seen - window {
                candidates.append(StoryCandidate(storyID: entry.story, sharedKeys: [key]))
            }
        }
        let story: Int64
        switch matcher.decide(itemKeys, candidates: candidates) {
        case .joins(let id, let reason):
            story = id
            if case .identifier = reason { joinsByIdentifier += 1 }
        case .startsStory:
            story = nextStory
            nextStory += 1
        }
        predicted.append(story)
        if ProcessInfo.processInfo.environment["DEDUP_DEBUG"] != nil {
            print(
                "ITEM\t\(item.story)\t\(story)\t\(item.source)\t\(itemKeys.simHash?.description ?? "-")\t\(item.title)\t\(item.summary.prefix(120))"
            )
        }
        if let simHash = itemKeys.simHash {
            for (band, value) in simHash.bands.enumerated() {
                bandIndex[band][value, default: []].append((story, simHash, itemKeys.headlineNumbers, item.seen))
            }
        }
        for key in itemKeys.storyKeys { keyIndex[key, default: []].append((story, item.seen)) }
    }
    let elapsed = ContinuousClock.now - start

    func pairs(_ groups: [some Hashable]) -> Int {
        Dictionary(grouping: groups, by: { $0 }).values.reduce(0) { $0 + $1.count * ($1.count - 1) / 2 }
    }
    let truePairs = pairs(items.map(\.story))
    let predictedPairs = pairs(predicted)
    let bothPairs = pairs(zip(items.map(\.story), predicted).map { "\($0)-\($1)" })
    let precision = predictedPairs == 0 ? 1 : Double(bothPairs) / Double(predictedPairs)
    let recall = truePairs == 0 ? 1 : Double(bothPairs) / Double(truePairs)
    print(
        "items \(items.count) stories(true) \(Set(items.map(\.story)).count) stories(found) \(Set(predicted).count)")
    print(
        "pairs: true \(truePairs) found \(predictedPairs) correct \(bothPairs); joins by identifier \(joinsByIdentifier)"
    )
    print(String(format: "precision %.4f recall %.4f", precision, recall))
    print(
        String(
            format: "grouping time %.1f µs/item (fingerprint + in-memory lookup)",
            Double(elapsed.components.attoseconds) / 1e12 / Double(items.count)
                + Double(elapsed.components.seconds) * 1e6 / Double(items.count)))
}

/// Fills a store with `count` items spread over 100 days, then times the story lookup
/// (``EventStore/storyCandidates(for:since:)`` and the matcher) for probes, half of them new
/// reports of stored stories; beside it, a one-row primary-key read through the same store.
func lookup(_ path: String, count: Int) async throws {
    let corpus = try readCorpus(path)
    // DEDUP_BENCH_STORE keeps the filled store between runs (filling 1,000,000 items takes minutes).
    let kept = ProcessInfo.processInfo.environment["DEDUP_BENCH_STORE"].map { URL(filePath: $0) }
    let folder = kept ?? FileManager.default.temporaryDirectory.appending(path: "ew-dedup-bench-\(getpid())")
    defer { if kept == nil { try? FileManager.default.removeItem(at: folder) } }
    let store = try SQLiteEventStore(stateDirectory: folder)
    let alreadyFilled =
        try await store.knownItems(
            ofSource: "bench", matching: [ItemKeys(DedupItem(guid: "g\(count - 1)", link: nil, title: ""))]
        ).count == 1
    let empty = Classifier(topics: []).classify(title: "", summary: "")
    let url = URL(string: "https://bench.example/feed")!
    let origin = Date(timeIntervalSince1970: 1_700_000_000)
    let span = 100.0 * 86_400
    let batch = 5_000
    let fillStart = ContinuousClock.now
    func text(_ index: Int) -> (title: String, summary: String) {
        (corpus[index % corpus.count].title, corpus[(index &* 7_919) % corpus.count].summary)
    }
    for first in stride(from: 0, to: alreadyFilled ? 0 : count, by: batch) {
        let at = origin.addingTimeInterval(span * Double(first) / Double(count))
        var record = PollRecord(
            sourceID: "bench", kind: "feed", state: SourceFetchState(url: url),
            identity: IdentityChoice(kind: .guid, reason: nil, switched: false), at: at)
        for index in first..<min(first + batch, count) {
            let (title, summary) = text(index)
            let itemKeys = keys(
                title: title, summary: summary, guid: "g\(index)", link: "https://bench.example/\(index)")
            let publicID = ItemKeys.publicItemID(source: "bench", identityKey: itemKeys.guidKey!)
            record.newStories.append(
                NewStory(publicID: ItemKeys.publicStoryID(foundedBy: publicID), title: title, simHash: itemKeys.simHash)
            )
            record.newItems.append(
                NewItem(
                    publicID: publicID, identityKey: itemKeys.guidKey!, identityKind: .guid, keys: itemKeys,
                    guid: "g\(index)", link: nil, title: title, summary: nil, content: nil, language: nil,
                    published: nil, updated: nil, classification: empty,
                    story: .started(record.newStories.count - 1), provenance: nil))
        }
        _ = try await store.commit(record)
    }
    print(
        alreadyFilled
            ? "reusing the store of \(count) items" : "filled \(count) items in \(ContinuousClock.now - fillStart)")

    let now = origin.addingTimeInterval(span)
    let matcher = StoryMatcher()
    var lookups: [Double] = []
    var baseline: [Double] = []
    var joined = 0
    for probe in 0..<2_000 {
        // Even probes re-report a recent stored item with an outlet suffix; odd ones are new text.
        let (title, summary) =
            probe % 2 == 0 ? text(count - 1 - probe) : (corpus[probe].title + " \(probe)", corpus[probe].title)
        let itemKeys = keys(
            title: probe % 2 == 0 ? title + " - Reuters" : title, summary: summary, guid: "p\(probe)",
            link: "https://probe.example/\(probe)")
        let start = ContinuousClock.now
        let candidates = try await store.storyCandidates(for: itemKeys, since: matcher.windowStart(at: now))
        if case .joins = matcher.decide(itemKeys, candidates: candidates) { joined += 1 }
        lookups.append((ContinuousClock.now - start).microseconds)
        let baselineStart = ContinuousClock.now
        _ = try await store.learnedIdentity(ofSource: "bench")
        baseline.append((ContinuousClock.now - baselineStart).microseconds)
    }
    // The daemon looks a poll's new items up in one read; per item, in polls of 25 new items.
    var batched: [Double] = []
    for first in stride(from: 0, to: 2_000, by: 25) {
        let probes = (first..<first + 25).map { probe in
            let (title, summary) = text(count - 1 - probe)
            return keys(
                title: title + " | AP News", summary: summary, guid: "b\(probe)", link: "https://b.example/\(probe)")
        }
        let start = ContinuousClock.now
        let candidates = try await store.storyCandidates(for: probes, since: matcher.windowStart(at: now))
        for (probe, found) in zip(probes, candidates) { _ = matcher.decide(probe, candidates: found) }
        batched.append((ContinuousClock.now - start).microseconds / 25)
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    func p99(_ values: [Double]) -> Double { values.sorted()[values.count * 99 / 100] }
    print("probes 2000, joined a story \(joined)")
    print(String(format: "story lookup: median %.1f µs, p99 %.1f µs", median(lookups), p99(lookups)))
    print(String(format: "baseline one-row read: median %.1f µs, p99 %.1f µs", median(baseline), p99(baseline)))
    print(String(format: "story lookup in polls of 25: median %.1f µs per item", median(batched)))
}

extension Duration {
    var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "quality" where arguments.count == 3:
    try quality(arguments[2])
case "lookup" where arguments.count == 4:
    try await lookup(arguments[2], count: Int(arguments[3]) ?? 1_000_000)
default:
    FileHandle.standardError.write(Data("usage: dedup-benchmark quality CORPUS | lookup CORPUS N\n".utf8))
    exit(2)
}

// Story grouping quality and lookup time, for Benchmarks/dedup.sh.
//
//   dedup-benchmark quality CORPUS.jsonl      precision and recall of story grouping over a corpus
//                                             with known duplicates (Benchmarks/dedup_corpus.py)
//   dedup-benchmark lookup CORPUS.jsonl N     story lookup time per item with a store of N items: the
//                                             daemon's in-memory index of the window, its load time
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

/// Groups the corpus in first-seen order through a ``StoryIndex`` of the window, as the daemon
/// does, then counts pairs.
func quality(_ path: String) throws {
    let items = try readCorpus(path)
    let matcher = StoryMatcher()
    let origin = Date(timeIntervalSince1970: 1_700_000_000)
    var index = StoryIndex(window: matcher.window)
    var predicted: [Int64] = []
    var nextStory: Int64 = 1
    var joinsByIdentifier = 0
    let debug = ProcessInfo.processInfo.environment["DEDUP_DEBUG"] != nil
    let start = ContinuousClock.now
    for item in items {
        let itemKeys = keys(title: item.title, summary: item.summary, guid: item.guid, link: item.link)
        let seen = origin.addingTimeInterval(Double(item.seen))
        let candidates = index.candidates(for: itemKeys, since: matcher.windowStart(at: seen))
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
        if debug {
            print(
                "ITEM\t\(item.story)\t\(story)\t\(item.source)\t\(itemKeys.simHash?.description ?? "-")\t\(item.title)\t\(item.summary.prefix(120))"
            )
        }
        index.add(
            StoryIndex.Entry(
                storyID: story, simHash: itemKeys.simHash, headlineNumbers: itemKeys.headlineNumbers,
                storyKeys: itemKeys.storyKeys, seenAt: seen))
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

/// Fills a store with `count` items spread over 100 days, loads the window's story index from it as
/// the daemon does at start (timed), then times story lookups (the index and the matcher) for
/// probes, half of them new reports of stored stories; beside it, a one-row primary-key read
/// through the same store.
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
    let loadStart = ContinuousClock.now
    var index = StoryIndex(window: matcher.window)
    index.add(try await store.recentStoryEntries(since: matcher.windowStart(at: now)))
    let loadTime = ContinuousClock.now - loadStart
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
        let candidates = index.candidates(for: itemKeys, since: matcher.windowStart(at: now))
        if case .joins = matcher.decide(itemKeys, candidates: candidates) { joined += 1 }
        lookups.append((ContinuousClock.now - start).microseconds)
        let baselineStart = ContinuousClock.now
        _ = try await store.learnedIdentity(ofSource: "bench")
        baseline.append((ContinuousClock.now - baselineStart).microseconds)
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    func p99(_ values: [Double]) -> Double { values.sorted()[values.count * 99 / 100] }
    print("probes 2000, joined a story \(joined)")
    print(String(format: "story lookup: median %.1f µs, p99 %.1f µs", median(lookups), p99(lookups)))
    print(String(format: "baseline one-row read: median %.1f µs, p99 %.1f µs", median(baseline), p99(baseline)))
    print(String(format: "index load: %d entries in %.1f ms", index.count, loadTime.microseconds / 1000))
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

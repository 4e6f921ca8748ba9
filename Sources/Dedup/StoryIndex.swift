public import Foundation

/// The recent stories a new item may join, held in memory: every recent item's fingerprint, by
/// each of its four 16-bit bands, and every recent story key.
///
/// Two fingerprints within Hamming distance 3 agree exactly in at least one band, so the items
/// sharing a band with a new one are all its possible near neighbours (``StoryMatcher`` then
/// measures them). The daemon keeps one index for the matcher's window (a few dozen bytes per
/// item: a week of a thousand busy feeds is a few MB), fills it from the store when the first
/// poll with new items needs it and adds each poll's items as it places them, so a story lookup
/// reads no database page.
///
/// Entries older than the window are skipped by lookups and dropped by ``forget(before:)``, which
/// ``add(_:)`` calls whenever the index has doubled since it last did.
public struct StoryIndex: Sendable {
    /// One recent item as a story lookup needs it.
    public struct Entry: Sendable, Equatable {
        /// The story it belongs to.
        public var storyID: Int64
        /// Its fingerprint, when its text had features.
        public var simHash: SimHash?
        /// Its headline numbers (0 when none).
        public var headlineNumbers: UInt32
        /// The story keys it carries.
        public var storyKeys: [String]
        /// When it was first seen.
        public var seenAt: Date

        /// Creates an entry.
        public init(
            storyID: Int64, simHash: SimHash?, headlineNumbers: UInt32 = 0, storyKeys: [String] = [], seenAt: Date
        ) {
            self.storyID = storyID
            self.simHash = simHash
            self.headlineNumbers = headlineNumbers
            self.storyKeys = storyKeys
            self.seenAt = seenAt
        }
    }

    /// A fingerprinted item: what a band lookup reads.
    private struct Fingerprint {
        var storyID: Int64
        var bits: UInt64
        var headlineNumbers: UInt32
        var seenAt: Double
    }

    /// A story key's item.
    private struct KeyHolder {
        var storyID: Int64
        var seenAt: Double
    }

    private static let noEntry: Int32 = -1
    private static let bandValues = 1 << 16

    /// The fingerprinted items, oldest addition first.
    private var fingerprints: [Fingerprint] = []
    /// For each band and band value, the latest fingerprint with that value (`noEntry` when none):
    /// `heads[band << 16 | value]`.
    private var heads: [Int32] = []
    /// For each fingerprint and band, the previous fingerprint with the same band value:
    /// `previous[index * 4 + band]`.
    private var previous: [Int32] = []
    /// The items carrying each story key.
    private var keyHolders: [String: [KeyHolder]] = [:]
    private var keyHolderCount = 0
    /// Stories dropped by ``forget(stories:)``: lookups skip their entries until the next cleanup
    /// removes them.
    private var forgottenStories: Set<Int64> = []
    /// The size at which ``add(_:)`` next drops expired entries.
    private var nextCleanup = 4_096
    /// How long entries are kept by the automatic cleanup.
    public let window: Duration

    /// An empty index keeping entries for `window` (``StoryMatcher/window``).
    public init(window: Duration) {
        self.window = window
    }

    /// How many entries it holds (fingerprints and story keys), expired ones included.
    public var count: Int { fingerprints.count + keyHolderCount }

    /// Adds an item of a story (committed, or submitted to the store with the story's id).
    public mutating func add(_ entry: Entry) {
        let seenAt = entry.seenAt.timeIntervalSinceReferenceDate
        if let simHash = entry.simHash {
            insert(
                Fingerprint(
                    storyID: entry.storyID, bits: simHash.bits, headlineNumbers: entry.headlineNumbers, seenAt: seenAt))
        }
        for key in Set(entry.storyKeys) {
            keyHolders[key, default: []].append(KeyHolder(storyID: entry.storyID, seenAt: seenAt))
            keyHolderCount += 1
        }
        if count >= nextCleanup {
            forget(before: entry.seenAt.addingTimeInterval(-Double(window.components.seconds)))
            nextCleanup = max(4_096, count * 2)
        }
    }

    /// Adds items in order.
    public mutating func add(_ entries: some Sequence<Entry>) {
        for entry in entries { add(entry) }
    }

    /// The stories an item with `keys` may join, among the items first seen at or after `since`:
    /// one candidate per item sharing a fingerprint band (with that item's fingerprint), and one
    /// per story sharing story keys (with the keys, sorted).
    public func candidates(for keys: ItemKeys, since: Date) -> [StoryCandidate] {
        let since = since.timeIntervalSinceReferenceDate
        var candidates: [StoryCandidate] = []
        if let simHash = keys.simHash, !heads.isEmpty {
            for band in 0..<SimHash.bandCount {
                var index = heads[Self.slot(band: band, bits: simHash.bits)]
                while index != Self.noEntry {
                    let stored = fingerprints[Int(index)]
                    // An item sharing several bands is offered once, for the first of them.
                    let sharesEarlierBand = (0..<band).contains {
                        Self.slot(band: $0, bits: stored.bits) == Self.slot(band: $0, bits: simHash.bits)
                    }
                    if stored.seenAt >= since, !sharesEarlierBand, !forgottenStories.contains(stored.storyID) {
                        candidates.append(
                            StoryCandidate(
                                storyID: stored.storyID, simHash: SimHash(bits: stored.bits),
                                headlineNumbers: stored.headlineNumbers))
                    }
                    index = previous[Int(index) * SimHash.bandCount + band]
                }
            }
        }
        var sharedKeys: [Int64: [String]] = [:]
        for key in Set(keys.storyKeys) {
            for holder in keyHolders[key, default: []]
            where holder.seenAt >= since && !forgottenStories.contains(holder.storyID) {
                if sharedKeys[holder.storyID]?.last != key { sharedKeys[holder.storyID, default: []].append(key) }
            }
        }
        for (story, keys) in sharedKeys.sorted(by: { $0.key < $1.key }) {
            candidates.append(StoryCandidate(storyID: story, sharedKeys: keys.sorted()))
        }
        return candidates
    }

    /// Drops the entries first seen before `cutoff`, and those of forgotten stories.
    public mutating func forget(before cutoff: Date) {
        let cutoff = cutoff.timeIntervalSinceReferenceDate
        let forgotten = forgottenStories
        let kept = fingerprints.filter { $0.seenAt >= cutoff && !forgotten.contains($0.storyID) }
        if kept.count < fingerprints.count {
            (fingerprints, previous, heads) = ([], [], [])
            kept.forEach { insert($0) }
        }
        keyHolders = keyHolders.compactMapValues { holders in
            let kept = holders.filter { $0.seenAt >= cutoff && !forgotten.contains($0.storyID) }
            return kept.isEmpty ? nil : kept
        }
        keyHolderCount = keyHolders.values.reduce(0) { $0 + $1.count }
        forgottenStories = []
    }

    /// Drops every entry of `stories` (stories that were never stored after all): no lookup
    /// offers them again.
    public mutating func forget(stories: some Sequence<Int64>) {
        forgottenStories.formUnion(stories)
    }

    private mutating func insert(_ fingerprint: Fingerprint) {
        if heads.isEmpty { heads = [Int32](repeating: Self.noEntry, count: SimHash.bandCount * Self.bandValues) }
        let index = Int32(fingerprints.count)
        fingerprints.append(fingerprint)
        for band in 0..<SimHash.bandCount {
            let slot = Self.slot(band: band, bits: fingerprint.bits)
            previous.append(heads[slot])
            heads[slot] = index
        }
    }

    private static func slot(band: Int, bits: UInt64) -> Int {
        band << 16 | Int(truncatingIfNeeded: bits >> UInt64(band * 16) & 0xFFFF)
    }
}

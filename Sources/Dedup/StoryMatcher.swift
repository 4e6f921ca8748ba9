public import Foundation

/// A story the store offers as a possible match for a new item: one of its recent items' fingerprint
/// shares a band with the new item's, or it carries one of the new item's story keys.
public struct StoryCandidate: Sendable, Equatable {
    /// The story.
    public var storyID: Int64
    /// The fingerprint of one of its items, when the candidate came from the band index.
    public var simHash: SimHash?
    /// That item's headline numbers (0 when none).
    public var headlineNumbers: UInt32
    /// The story keys it shares with the new item, when it came from the key index.
    public var sharedKeys: [String]

    /// Creates a candidate.
    public init(storyID: Int64, simHash: SimHash? = nil, headlineNumbers: UInt32 = 0, sharedKeys: [String] = []) {
        self.storyID = storyID
        self.simHash = simHash
        self.headlineNumbers = headlineNumbers
        self.sharedKeys = sharedKeys
    }
}

/// Why an item joined a story.
public enum StoryMatch: Sendable, Equatable {
    /// Both cite this identifier key (`fr-document:2024-07004`).
    case identifier(String)
    /// Their fingerprints are this many bits apart.
    case similarText(distance: Int)
}

/// Whether a new item joins a known story.
public enum StoryDecision: Sendable, Equatable {
    /// It reports the story with this id.
    case joins(storyID: Int64, because: StoryMatch)
    /// It starts a story of its own.
    case startsStory
}

/// Groups reports of one event across sources and languages (DESIGN.md §1, stories): an item joins
/// a recent story when both cite the same specific regulatory identifier, or else when their
/// fingerprints are at most ``maximumDistance`` bits apart and their headlines do not cite different
/// numbers; the closest story wins, the oldest on a tie.
public struct StoryMatcher: Sendable {
    /// The largest Hamming distance that still joins a story.
    public var maximumDistance: Int
    /// How far back stories are looked up.
    public var window: Duration

    /// Creates a matcher with the defaults: distance 3, seven days.
    public init(maximumDistance: Int = 3, window: Duration = .seconds(7 * 24 * 3600)) {
        self.maximumDistance = maximumDistance
        self.window = window
    }

    /// The oldest first-seen time a story's item may have to be a candidate at `now`.
    public func windowStart(at now: Date) -> Date {
        now.addingTimeInterval(-Double(window.components.seconds))
    }

    /// Decides which story, if any, an item with these keys joins.
    public func decide(_ keys: ItemKeys, candidates: [StoryCandidate]) -> StoryDecision {
        let byIdentifier = candidates.filter { !$0.sharedKeys.isEmpty }.min { $0.storyID < $1.storyID }
        if let candidate = byIdentifier {
            return .joins(storyID: candidate.storyID, because: .identifier(candidate.sharedKeys.sorted()[0]))
        }
        guard let fingerprint = keys.simHash else { return .startsStory }
        var best: (storyID: Int64, distance: Int)?
        for candidate in candidates {
            guard let other = candidate.simHash else { continue }
            if keys.headlineNumbers != 0, candidate.headlineNumbers != 0,
                keys.headlineNumbers != candidate.headlineNumbers
            {
                continue
            }
            let distance = fingerprint.distance(to: other)
            guard distance <= maximumDistance else { continue }
            if best == nil || (distance, candidate.storyID) < (best!.distance, best!.storyID) {
                best = (candidate.storyID, distance)
            }
        }
        if let best { return .joins(storyID: best.storyID, because: .similarText(distance: best.distance)) }
        return .startsStory
    }
}

/// A 64-bit SimHash (Charikar): texts that share most of their features get fingerprints that
/// differ in few bits, so near-duplicate reports of one story are found by Hamming distance.
public struct SimHash: Sendable, Hashable, CustomStringConvertible {
    /// The fingerprint's bits.
    public var bits: UInt64

    /// Wraps stored bits.
    public init(bits: UInt64) { self.bits = bits }

    /// The fingerprint of weighted features: each feature's 64-bit hash votes its weight for every
    /// bit it has set and against every bit it has clear; a bit of the result is set where the
    /// votes for it win. Nil when there are no features.
    public init?(features: [(hash: UInt64, weight: Int)]) {
        guard !features.isEmpty else { return nil }
        // A bit's vote is (weight for its set bits) − (weight for its clear bits), which is
        // positive exactly when twice the weight of its set bits exceeds the total. The features
        // setting each bit are counted for all 64 bits at once, one count per distinct weight (a
        // story text has two: the headline's and the lead's): a word-wide add per feature rather
        // than a loop over its 64 bits, which was an eighth of a fingerprint's cost.
        var counts: [(weight: Int, count: BitCounts)] = []
        var totalWeight = 0
        for (hash, weight) in features {
            totalWeight &+= weight
            if let index = counts.firstIndex(where: { $0.weight == weight }) {
                counts[index].count.add(hash)
            } else {
                var count = BitCounts()
                count.add(hash)
                counts.append((weight, count))
            }
        }
        var setWeight = InlineArray<64, Int>(repeating: 0)
        for (weight, count) in counts { count.addCounts(times: weight, to: &setWeight) }
        var bits: UInt64 = 0
        for bit in 0..<64 where 2 &* setWeight[bit] > totalWeight { bits |= 1 << UInt64(bit) }
        self.bits = bits
    }

    /// How many bits differ.
    public func distance(to other: SimHash) -> Int { (bits ^ other.bits).nonzeroBitCount }

    /// The number of bands the fingerprint is cut into for lookup.
    public static let bandCount = 4

    /// The fingerprint cut into ``bandCount`` 16-bit bands. Two fingerprints within Hamming
    /// distance 3 agree exactly in at least one band (four bands, at most three differ), so an
    /// index on each band finds every near neighbour while reading only the few fingerprints that
    /// share a band.
    public var bands: [Int] {
        (0..<Self.bandCount).map { Int(bits >> UInt64($0 * 16) & 0xFFFF) }
    }

    /// The bits as a signed 64-bit integer, the form SQLite stores.
    public var storedValue: Int64 { Int64(bitPattern: bits) }

    public var description: String {
        let hex = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// How many of the words added had each of the 64 bits set, kept bit-sliced: plane `k` holds bit
/// `k` of all 64 counts, so adding a word is a ripple of carries through the planes (two steps on
/// average) instead of 64 additions.
struct BitCounts {
    /// Enough planes for 2^32 words.
    private var planes = InlineArray<32, UInt64>(repeating: 0)
    /// How many planes hold a set bit.
    private var used = 0

    mutating func add(_ word: UInt64) {
        var carry = word
        var plane = 0
        while carry != 0 {
            let sum = planes[plane] ^ carry
            carry &= planes[plane]
            planes[plane] = sum
            plane &+= 1
        }
        used = max(used, plane)
    }

    /// Adds `weight` times each bit's count to `totals`.
    func addCounts(times weight: Int, to totals: inout InlineArray<64, Int>) {
        for plane in 0..<used {
            let word = planes[plane]
            let value = weight &<< plane
            for bit in 0..<64 { totals[bit] &+= Int(truncatingIfNeeded: word &>> UInt64(bit) & 1) &* value }
        }
    }
}

/// A stable 64-bit hash of bytes (FNV-1a, then a SplitMix64 finaliser to spread the bits, which
/// SimHash's per-bit votes need). Stable across runs and machines, unlike Swift's `Hasher`, since
/// fingerprints are stored.
enum StableHash {
    static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes, seed: UInt64 = 0) -> UInt64 {
        var hasher = Hasher(seed: seed)
        hasher.add(bytes)
        return hasher.value
    }

    /// The hash of bytes given in pieces: the same as ``hash(_:seed:)`` of the pieces joined.
    struct Hasher {
        private var state: UInt64

        init(seed: UInt64 = 0) { state = 0xcbf2_9ce4_8422_2325 ^ seed }

        mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
            for byte in bytes {
                state ^= UInt64(byte)
                state &*= 0x100_0000_01b3
            }
        }

        var value: UInt64 { StableHash.mix(state) }
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The 64-bit hash as 16 hex digits.
    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes, seed: UInt64 = 0) -> String {
        SimHash(bits: hash(bytes, seed: seed)).description
    }
}

/// Finds every occurrence of many patterns in one pass over UTF-8 bytes: an Aho–Corasick automaton
/// compiled into a deterministic table (one lookup per byte), built once for all topics.
///
/// Latin patterns match on word boundaries (`bis` is not found in `forbis`); patterns in CJK
/// scripts match as substrings, since those scripts do not separate words.
public struct PatternMatcher: Sendable {
    /// One found pattern: its index in the list given to `init`, and where it ends in the text.
    public struct Match: Sendable, Equatable {
        public var pattern: Int
        public var start: Int
        public var end: Int
    }

    /// The deterministic automaton, `table[state << 8 | byte]`; a negative entry `~next` means a
    /// pattern ends in `next`. It is built over byte classes (bytes that occur in no pattern share
    /// one) and then expanded, so that the loop needs one load per byte; 16-bit entries, while the
    /// states fit, halve the table so that more of it stays in cache.
    private let transitions: Transitions

    private enum Transitions: Sendable {
        case narrow([Int16])
        case wide([Int32])
    }
    /// For each state, the patterns that end there (through its failure chain).
    private let outputs: [[Int32]]
    private let lengths: [Int]
    private let maximumLength: Int
    private let needsBoundaries: [Bool]

    /// Compiles `patterns` (already normalized).
    public init(patterns: [String]) {
        var goto: [[UInt8: Int32]] = [[:]]
        var output: [[Int32]] = [[]]
        for (index, pattern) in patterns.enumerated() {
            var state: Int32 = 0
            for byte in pattern.utf8 {
                if let next = goto[Int(state)][byte] {
                    state = next
                } else {
                    goto.append([:])
                    output.append([])
                    let next = Int32(goto.count - 1)
                    goto[Int(state)][byte] = next
                    state = next
                }
            }
            output[Int(state)].append(Int32(index))
        }
        // Byte classes: one per byte that occurs in a pattern, class 0 for all the others.
        var classes = [Int32](repeating: 0, count: 256)
        var classTotal: Int32 = 1
        for pattern in patterns {
            for byte in pattern.utf8 where classes[Int(byte)] == 0 {
                classes[Int(byte)] = classTotal
                classTotal += 1
            }
        }
        let width = Int(classTotal)
        // Breadth-first: failure links, then the full table over byte classes.
        var failure = [Int32](repeating: 0, count: goto.count)
        var table = [Int32](repeating: 0, count: goto.count * width)
        var queue: [Int32] = []
        for (byte, next) in goto[0] {
            table[Int(classes[Int(byte)])] = next
            queue.append(next)
        }
        var head = 0
        while head < queue.count {
            let state = Int(queue[head])
            head += 1
            output[state] += output[Int(failure[state])]
            for byteClass in 0..<width {
                table[state * width + byteClass] = table[Int(failure[state]) * width + byteClass]
            }
            for (byte, next) in goto[state] {
                let byteClass = Int(classes[Int(byte)])
                failure[Int(next)] = table[Int(failure[state]) * width + byteClass]
                table[state * width + byteClass] = next
                queue.append(next)
            }
        }
        // Expand classes into a full 256-wide table whose entries carry the "a pattern ends here" flag
        // in their sign bit: one dependent load per byte in the hot loop.
        let acceptingStates = output.map { !$0.isEmpty }
        var expanded = [Int32](repeating: 0, count: goto.count * 256)
        for state in 0..<goto.count {
            for byte in 0..<256 {
                let next = table[state * width + Int(classes[byte])]
                expanded[state * 256 + byte] = acceptingStates[Int(next)] ? ~next : next
            }
        }
        if goto.count < Int(Int16.max) {
            transitions = .narrow(expanded.map { Int16(truncatingIfNeeded: $0) })
        } else {
            transitions = .wide(expanded)
        }
        outputs = output
        lengths = patterns.map(\.utf8.count)
        maximumLength = max(lengths.max() ?? 1, 1)
        needsBoundaries = patterns.map { pattern in
            pattern.unicodeScalars.contains { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        }
    }

    /// Every match in `text`, in order of their ends.
    public func matches(in text: String) -> [Match] {
        var text = text
        return text.withUTF8 { matches(in: $0) }
    }

    /// Every match in UTF-8 bytes.
    public func matches(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
        switch transitions {
        case .narrow(let table): table.withUnsafeBufferPointer { run($0, over: bytes) }
        case .wide(let table): table.withUnsafeBufferPointer { run($0, over: bytes) }
        }
    }

    /// The hot loop, specialized for each table width. Each step is a load that depends on the one
    /// before, so one pass waits on memory latency; a longer text is scanned as four quarters
    /// interleaved, whose independent loads overlap. Each quarter but the last runs on past its end by
    /// the longest pattern's length less one and keeps only matches that start inside it; the next
    /// quarter starts there from the root, so every match is found exactly once.
    @inline(__always)
    private func run<Entry: FixedWidthInteger & SignedInteger>(
        _ table: UnsafeBufferPointer<Entry>, over bytes: UnsafeBufferPointer<UInt8>
    ) -> [Match] {
        var found: [Match] = []
        let count = bytes.count
        let quarter = count / 4
        guard count >= Self.interleavingThreshold, quarter >= maximumLength else {
            var state = 0
            scan(table, bytes, from: 0, to: count, keepingStartsBefore: count, state: &state, into: &found)
            return found
        }
        let overrun = maximumLength - 1
        var states = (0, 0, 0, 0)
        var index = 0
        // In step: the quarters' positions are index, index + quarter, index + 2 quarter, index + 3 quarter.
        while index < quarter {
            let next0 = table[states.0 &<< 8 | Int(bytes[index])]
            let next1 = table[states.1 &<< 8 | Int(bytes[index &+ quarter])]
            let next2 = table[states.2 &<< 8 | Int(bytes[index &+ 2 &* quarter])]
            let next3 = table[states.3 &<< 8 | Int(bytes[index &+ 3 &* quarter])]
            index &+= 1
            states = (
                Int(next0 >= 0 ? next0 : ~next0), Int(next1 >= 0 ? next1 : ~next1), Int(next2 >= 0 ? next2 : ~next2),
                Int(next3 >= 0 ? next3 : ~next3)
            )
            if next0 | next1 | next2 | next3 < 0 {
                if next0 < 0 { collect(state: states.0, end: index, before: quarter, in: bytes, into: &found) }
                if next1 < 0 {
                    collect(state: states.1, end: index + quarter, before: 2 * quarter, in: bytes, into: &found)
                }
                if next2 < 0 {
                    collect(state: states.2, end: index + 2 * quarter, before: 3 * quarter, in: bytes, into: &found)
                }
                if next3 < 0 {
                    collect(state: states.3, end: index + 3 * quarter, before: count, in: bytes, into: &found)
                }
            }
        }
        scan(
            table, bytes, from: quarter, to: quarter + overrun, keepingStartsBefore: quarter, state: &states.0,
            into: &found)
        scan(
            table, bytes, from: 2 * quarter, to: 2 * quarter + overrun, keepingStartsBefore: 2 * quarter,
            state: &states.1, into: &found)
        scan(
            table, bytes, from: 3 * quarter, to: 3 * quarter + overrun, keepingStartsBefore: 3 * quarter,
            state: &states.2, into: &found)
        scan(table, bytes, from: 4 * quarter, to: count, keepingStartsBefore: count, state: &states.3, into: &found)
        found.sort { $0.end < $1.end }
        return found
    }

    /// Texts shorter than this are scanned in one pass.
    private static let interleavingThreshold = 256

    /// One pass over `bytes[start..<end]` from `state`, keeping matches that start before `limit`.
    @inline(__always)
    private func scan<Entry: FixedWidthInteger & SignedInteger>(
        _ table: UnsafeBufferPointer<Entry>, _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
        keepingStartsBefore limit: Int, state: inout Int, into found: inout [Match]
    ) {
        var index = start
        while index < end {
            let next = table[state &<< 8 | Int(bytes[index])]
            index &+= 1
            if next >= 0 {
                state = Int(next)
                continue
            }
            state = Int(~next)
            collect(state: state, end: index, before: limit, in: bytes, into: &found)
        }
    }

    /// Appends the patterns that end in `state` at `end`, those needing word boundaries only when
    /// they have them.
    private func collect(
        state: Int, end: Int, before limit: Int, in bytes: UnsafeBufferPointer<UInt8>, into found: inout [Match]
    ) {
        for pattern in outputs[state] {
            let pattern = Int(pattern)
            let start = end - lengths[pattern]
            guard start < limit else { continue }
            if needsBoundaries[pattern] {
                let before = start > 0 ? bytes[start - 1] : 0x20
                let after = end < bytes.count ? bytes[end] : 0x20
                if Self.isWordByte(before) || Self.isWordByte(after) { continue }
            }
            found.append(Match(pattern: pattern, start: start, end: end))
        }
    }

    /// ASCII letters and digits continue a Latin word; anything else ends it.
    @inline(__always)
    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            || byte >= UInt8(ascii: "0")
                && byte <= UInt8(ascii: "9")
    }
}

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

    /// The deterministic automaton: `transitions[state * classCount + byteClass[byte]]`. Bytes that
    /// occur in no pattern share class 0, which keeps the table small enough to stay in cache.
    private let transitions: [Int32]
    private let byteClass: [Int32]
    private let classCount: Int
    /// Whether any pattern ends in each state, checked before looking at ``outputs``.
    private let accepting: [Bool]
    /// For each state, the patterns that end there (through its failure chain).
    private let outputs: [[Int32]]
    private let lengths: [Int]
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
        transitions = table
        byteClass = classes
        classCount = width
        accepting = output.map { !$0.isEmpty }
        outputs = output
        lengths = patterns.map(\.utf8.count)
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
        var found: [Match] = []
        var state = 0
        let width = classCount
        transitions.withUnsafeBufferPointer { table in
            byteClass.withUnsafeBufferPointer { classes in
                accepting.withUnsafeBufferPointer { accepting in
                    for index in 0..<bytes.count {
                        state = Int(table[state &* width &+ Int(classes[Int(bytes[index])])])
                        guard accepting[state] else { continue }
                        for pattern in outputs[state] {
                            let pattern = Int(pattern)
                            let start = index + 1 - lengths[pattern]
                            if needsBoundaries[pattern] {
                                let before = start > 0 ? bytes[start - 1] : 0x20
                                let after = index + 1 < bytes.count ? bytes[index + 1] : 0x20
                                if Self.isWordByte(before) || Self.isWordByte(after) { continue }
                            }
                            found.append(Match(pattern: pattern, start: start, end: index + 1))
                        }
                    }
                }
            }
        }
        return found
    }

    /// ASCII letters and digits continue a Latin word; anything else ends it.
    @inline(__always)
    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            || byte >= UInt8(ascii: "0")
                && byte <= UInt8(ascii: "9")
    }
}

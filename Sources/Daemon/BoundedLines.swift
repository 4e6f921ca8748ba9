/// Reads a stream (standard input for `classify`) line by line, each line at most `limit` bytes.
/// A longer line is skipped whole without being held, and reported as ``Line/tooLong``: a stream
/// with no newline in it (a binary file, `/dev/zero`) costs one error per line, not a process
/// that reads until memory runs out.
public struct BoundedLines {
    /// One line of the stream.
    public enum Line: Equatable, Sendable {
        /// A line's text without its `\n` (or `\r\n`); bytes that are not UTF-8 are replaced, as
        /// `readLine` does.
        case text(String)
        /// A line longer than the limit, skipped.
        case tooLong
    }

    /// The most bytes a line may have, its line break not counted.
    public let limit: Int
    private let descriptor: Int32
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private var chunkStart = 0
    private var chunkEnd = 0
    private var line: [UInt8] = []
    private var skippingLine = false
    private var atEnd = false

    /// Reads from `descriptor` (left open; standard input by default), lines of at most `limit` bytes.
    public init(descriptor: Int32 = 0, limit: Int) {
        self.descriptor = descriptor
        self.limit = limit
    }

    /// The next line, or nil at the end of the stream. A last line without a line break counts.
    public mutating func next() throws(BoundedFile.Failure) -> Line? {
        while true {
            if chunkStart < chunkEnd {
                let newline = chunk[chunkStart..<chunkEnd].firstIndex(of: UInt8(ascii: "\n"))
                let lineEnd = newline ?? chunkEnd
                if !skippingLine {
                    if line.count + (lineEnd - chunkStart) > limit {
                        skippingLine = true
                        line = []
                    } else {
                        line.append(contentsOf: chunk[chunkStart..<lineEnd])
                    }
                }
                chunkStart = newline.map { $0 + 1 } ?? chunkEnd
                if newline != nil { return finishLine() }
                continue
            }
            if atEnd { return nil }
            let count = try BoundedFile.read(descriptor, into: &chunk)
            if count == 0 {
                atEnd = true
                return skippingLine || !line.isEmpty ? finishLine() : nil
            }
            (chunkStart, chunkEnd) = (0, count)
        }
    }

    private mutating func finishLine() -> Line {
        defer {
            line.removeAll(keepingCapacity: true)
            skippingLine = false
        }
        if skippingLine { return .tooLong }
        let text = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
        return .text(String(decoding: text, as: UTF8.self))
    }
}

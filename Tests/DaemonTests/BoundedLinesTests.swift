import Foundation
import Glibc
import Testing

@testable import Daemon

@Suite("Bounded line reads")
struct BoundedLinesTests {
    /// Every line `BoundedLines` reads from a file holding `bytes`.
    static func lines(of bytes: [UInt8], limit: Int) throws -> [BoundedLines.Line] {
        let file = FileManager.default.temporaryDirectory.appending(path: "ew-lines-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        let descriptor = open(file.path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var reader = BoundedLines(descriptor: descriptor, limit: limit)
        var lines: [BoundedLines.Line] = []
        while let line = try reader.next() { lines.append(line) }
        return lines
    }

    @Test("lines come without their breaks (\\n or \\r\\n); blank ones and a last one without a break count")
    func lineBreaks() throws {
        #expect(
            try Self.lines(of: Array("a\r\nbb\n\nlast".utf8), limit: 10) == [
                .text("a"), .text("bb"), .text(""), .text("last"),
            ])
        #expect(try Self.lines(of: [], limit: 10) == [])
    }

    @Test("a line of exactly the limit is read; a longer one, even across many reads, is skipped alone")
    func limit() throws {
        let long = [UInt8](repeating: 0x61, count: 150_000)
        let bytes = Array("0123456789\n".utf8) + long + Array("\n01234567890\nafter\n".utf8)
        #expect(try Self.lines(of: bytes, limit: 10) == [.text("0123456789"), .tooLong, .tooLong, .text("after")])
        #expect(try Self.lines(of: long, limit: 149_999) == [.tooLong])
        #expect(try Self.lines(of: long, limit: 150_000) == [.text(String(repeating: "a", count: 150_000))])
    }

    @Test("bytes that are not UTF-8 are replaced, not a reason to stop")
    func invalidUTF8() throws {
        #expect(
            try Self.lines(of: [0x63, 0x61, 0x66, 0xE9, 0x0A, 0x6F, 0x6B], limit: 10) == [
                .text("caf\u{FFFD}"), .text("ok"),
            ])
    }

    @Test("a descriptor that cannot be read says why")
    func unreadable() throws {
        var reader = BoundedLines(descriptor: -1, limit: 10)
        #expect(throws: BoundedFile.Failure.unreadable("Bad file descriptor")) { try reader.next() }
    }
}

import Testing

@testable import Daemon

/// The command line's tables hold Chinese titles and source names beside English ones.
@Suite("Terminal columns")
struct TerminalTextTests {
    @Test(
        "a Chinese character or a full-width form takes two columns, a combining mark none",
        arguments: [
            ("Entity List", 11), ("商务部", 6), ("商务部公告2024年第21号", 22), ("ＥＣＣＮ", 8),
            ("e\u{301}tude", 5), ("📦 chips", 8), ("", 0),
        ] as [(String, Int)])
    func width(text: String, columns: Int) {
        #expect(text.terminalWidth == columns)
    }

    @Test("a title is cut to what fits, never through a wide character")
    func prefix() {
        #expect("商务部公告".prefix(terminalColumns: 5) == "商务")
        #expect("商务部公告".prefix(terminalColumns: 6) == "商务部")
        #expect("Commerce adds entities".prefix(terminalColumns: 8) == "Commerce")
        #expect("短".prefix(terminalColumns: 70) == "短")
    }

    @Test("the column after a Chinese title starts where it starts after an English one")
    func alignment() {
        let table = SourceOverview.columns(
            ["SOURCE", "TITLE", "ID"],
            [
                ["bis-rss", "Commerce Adds 37 Entities to the Entity List", "itm_1"],
                ["mofcom-news", "商务部新闻发言人就美方将中国实体列入出口管制实体清单答记者问", "itm_2"],
            ])
        // The last column (no spaces in it) starts at the line's width less its own.
        let starts = table.split(separator: "\n").map { line in
            String(line).terminalWidth - String(line.split(separator: " ").last!).terminalWidth
        }
        #expect(starts.count == 3)
        #expect(Set(starts).count == 1, "ID columns start at \(starts)")
    }
}

import Testing

@testable import Feeds

@Suite("libxml2")
struct XMLLibraryInfoTests {
    @Test("the loaded libxml2 matches its headers and is at least 2.9")
    func version() throws {
        let parts = XMLLibraryInfo.version.split(separator: ".").compactMap { Int($0) }
        try #require(parts.count == 3)
        #expect(parts[0] > 2 || (parts[0] == 2 && parts[1] >= 9))
    }
}

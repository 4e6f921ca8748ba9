import Testing

@testable import Fetching

@Suite("libcurl")
struct LibcurlInfoTests {
    @Test("the loaded libcurl has the protocols and features the daemon relies on")
    func requirements() {
        let curl = LibcurlInfo.current
        #expect(curl.protocols.isSuperset(of: ["http", "https"]))
        #expect(curl.features.isSuperset(of: [.tls, .libz, .brotli, .http2]))
        #expect(curl.missingRequirements.isEmpty)
        #expect(curl.version.split(separator: ".").count == 3)
    }
}

import Foundation
import Testing

@testable import Fetching

@Suite("Addresses and HTTP dates")
struct AddressAndDateTests {
    @Test(
        "non-public addresses",
        arguments: [
            "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
            "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd12:3456::1",
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
        ])
    func nonPublic(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.isNonPublic)
        #expect(!PrivateNetworkPolicy.refuse.permits(address))
        #expect(PrivateNetworkPolicy.allowAll.permits(address))
    }

    @Test(
        "public addresses",
        arguments: ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
    func isPublic(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(!address.isNonPublic)
        #expect(PrivateNetworkPolicy.refuse.permits(address))
    }

    @Test("allowed networks open only themselves")
    func allowList() throws {
        let policy = PrivateNetworkPolicy.allow([IPNetwork("10.20.0.0/16")!, IPNetwork("fd00::/8")!])
        #expect(policy.permits(IPAddress("10.20.3.4")!))
        #expect(!policy.permits(IPAddress("10.21.0.1")!))
        #expect(policy.permits(IPAddress("fd99::1")!))
        #expect(!policy.permits(IPAddress("127.0.0.1")!))
    }

    @Test(
        "malformed addresses and networks",
        arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1::2::3", "10.0.0.0/33", "x/8", "::/129"])
    func malformed(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test("Retry-After as seconds and as each HTTP date form")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(HTTPDate.retryAfter("120", now: now) == now.addingTimeInterval(120))
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            #expect(HTTPDate.retryAfter(form, now: .distantPast) == now, "\(form)")
        }
        #expect(HTTPDate.retryAfter("soon", now: now) == nil)
        #expect(HTTPDate.retryAfter("-5", now: now) == nil)
        // A date with a combining mark after it (found by Fuzz/FetchStateFuzz.swift): HTTP dates are
        // ASCII, and Foundation's DateFormatter traps on this one, which would end the daemon.
        #expect(HTTPDate.retryAfter("Sun, 06 Nov 1994 08:49:37\u{738}\u{FFFD}", now: now) == nil)
        #expect(HTTPDate.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT\u{0}", now: now) == nil)
    }

    @Test("SHA-256 of known inputs")
    func sha256() {
        #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

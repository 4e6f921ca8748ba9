import Foundation
import Glibc
import Testing

@testable import Daemon

/// The `[metrics]` endpoint's server against clients that are well-behaved, broken and hostile,
/// over real loopback sockets.
@Suite("Endpoint server")
struct EndpointServerTests {
    /// A server on a free loopback port whose routes are `/metrics`, which says "fine", and `/big`,
    /// 300,000 bytes of digits.
    final class Running: Sendable {
        let task: Task<Void, any Error>
        let port: UInt16

        init() async throws {
            let (url, listening) = AsyncStream.makeStream(of: String.self)
            let server = EndpointServer { request in
                switch request.path {
                case "/metrics": .init(status: 200, text: "fine\n")
                case "/big": .init(status: 200, body: (0..<300_000).map { UInt8(ascii: "0") + UInt8($0 % 10) })
                default: .init(status: 404, text: "not found\n")
                }
            }
            task = Task { try await server.run(host: "127.0.0.1", port: 0) { listening.yield($0) } }
            var iterator = url.makeAsyncIterator()
            let served = try #require(await iterator.next())
            port = try #require(UInt16(served.split(separator: ":").last ?? ""))
        }

        deinit { task.cancel() }
    }

    /// A blocking client on its own thread: connects, sends `bytes`, then reads until the server
    /// closes the connection. What it read; nil when it could not connect, or the read failed or
    /// waited 10 s for the close (sending gives up after 10 s too).
    static func exchange(_ bytes: [UInt8], port: UInt16) async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(descriptor) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
                    setsockopt(descriptor, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
                }
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard connected == 0 else { return continuation.resume(returning: nil) }
                _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count < 0 { return continuation.resume(returning: nil) }
                    if count == 0 { break }
                    received += buffer[..<count]
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }
        }
    }

    @Test("GET and HEAD reach the routes; other methods and what is not HTTP/1 are answered by the server")
    func requests() async throws {
        let server = try await Running()
        let get = await Self.exchange(Array("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n".utf8), port: server.port)
        #expect(
            get?.hasPrefix("HTTP/1.1 200 OK\r\n") == true && get?.hasSuffix("\r\n\r\nfine\n") == true, "\(get ?? "")")
        #expect(get?.contains("Content-Length: 5\r\nConnection: close\r\n") == true)
        let head = await Self.exchange(Array("HEAD /metrics HTTP/1.0\r\n\r\n".utf8), port: server.port)
        #expect(head?.hasPrefix("HTTP/1.1 200 OK\r\n") == true && head?.hasSuffix("\r\n\r\n") == true)
        let answers = [
            ("GET /other HTTP/1.1\r\n\r\n", "404"), ("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", "405"),
            ("GET /metrics\r\n\r\n", "400"), ("\u{16}\u{3}\u{1}\r\n\r\n", "400"),
            ("GET metrics HTTP/1.1\r\n\r\n", "400"),
        ]
        for (request, status) in answers {
            let reply = await Self.exchange(Array(request.utf8), port: server.port)
            #expect(reply?.hasPrefix("HTTP/1.1 \(status) ") == true, "\(request.debugDescription): \(reply ?? "nil")")
        }
    }

    @Test("an answer longer than one 64 KiB piece arrives whole, in order")
    func bigAnswer() async throws {
        let server = try await Running()
        let reply = try #require(await Self.exchange(Array("GET /big HTTP/1.1\r\n\r\n".utf8), port: server.port))
        let body = try #require(reply.split(separator: "\r\n\r\n", maxSplits: 1).last)
        #expect(reply.contains("Content-Length: 300000\r\n"))
        #expect(body.utf8.count == 300_000 && body.hasPrefix("0123456789") && body.hasSuffix("0123456789"))
        #expect(body.utf8.enumerated().allSatisfy { $0.element == UInt8(ascii: "0") + UInt8($0.offset % 10) })
    }

    @Test("a request head over 8 KiB is refused with 431 at the bound, not read on")
    func headBound() async throws {
        let server = try await Running()
        let overBound = Array(
            ("GET /metrics HTTP/1.1\r\nX: " + String(repeating: "y", count: 8 * 1024)).utf8.prefix(8193))
        let reply = await Self.exchange(overBound, port: server.port)
        #expect(reply?.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n") == true, "\(reply ?? "nil")")
        // A megabyte of header lines is cut off the same way, and the next client is served.
        let megabyte =
            Array("GET /metrics HTTP/1.1\r\n".utf8)
            + Array(repeating: Array("X-A: b\r\n".utf8), count: 131_072).joined()
        _ = await Self.exchange(megabyte, port: server.port)
        let next = await Self.exchange(Array("GET /metrics HTTP/1.1\r\n\r\n".utf8), port: server.port)
        #expect(next?.hasPrefix("HTTP/1.1 200 OK\r\n") == true)
    }

    @Test("a client that sends nothing is dropped after 2 s, and others are served meanwhile")
    func silentClient() async throws {
        let server = try await Running()
        async let silent = Self.exchange([], port: server.port)
        try await Task.sleep(for: .milliseconds(100))
        let served = await Self.exchange(Array("GET /metrics HTTP/1.1\r\n\r\n".utf8), port: server.port)
        #expect(served?.hasPrefix("HTTP/1.1 200 OK\r\n") == true)
        // Closed by the server, unanswered (nil would be the client's own 10 s timeout).
        #expect(await silent == "")
    }
}

internal import FlyingSocks
import Foundation

/// The HTTP/1.1 server of the `[metrics]` endpoint, on FlyingSocks' non-blocking sockets, with
/// every client bounded: a request head of at most 8 KiB, read within 2 s; the response written
/// in 64 KiB pieces, each within 2 s; one request per connection; at most 16 connections served
/// at once (the others wait in the listen queue). The endpoint may listen where other machines
/// reach it, and FlyingFox's own server bounds none of this: a 200 kB request line cost it 16 s
/// of CPU, and headers sent without end are all kept.
struct EndpointServer: Sendable {
    /// What a client asked for.
    struct Request: Sendable, Equatable {
        /// `GET` or `HEAD` (the server answers any other method itself, with 405).
        var method: String
        /// The target's path, without its query.
        var path: String
    }

    /// What the server sends back.
    struct Response: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]

        init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        init(status: Int, text: String) {
            self.init(status: status, body: Array(text.utf8))
        }
    }

    static let maxHeadBytes = 8 * 1024
    static let deadline: Duration = .seconds(2)
    static let connectionsAtOnce = 16

    /// Answers a well-formed `GET` or `HEAD` request.
    let respond: @Sendable (Request) async -> Response

    /// Listens on `host` (an IPv4 or IPv6 address) and `port`, and serves until cancelled;
    /// `listening` is told the server's URL (`http://127.0.0.1:9464`; port 0 takes a free port)
    /// before the first connection is accepted.
    /// - Throws: the socket's error when the address cannot be listened on.
    func run(host: String, port: UInt16, listening: @Sendable (_ url: String) -> Void) async throws {
        let address: any SocketAddress =
            host.contains(":") ? try .inet6(ip6: host, port: port) : try .inet(ip4: host, port: port)
        let pool: some AsyncSocketPool = .make()
        try await pool.prepare()
        let socket = try Socket(domain: Int32(type(of: address).family))
        defer { try? socket.close() }
        try socket.setValue(true, for: .localAddressReuse)
        try socket.bind(to: address)
        try socket.listen()
        switch try socket.sockname() {
        case .ip4(let host, let port): listening("http://\(host):\(port)")
        case .ip6(let host, let port): listening("http://[\(host)]:\(port)")
        case .unix(let path): listening(path)
        }
        let listener = try AsyncSocket(socket: socket, pool: pool)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            // Each worker serves one connection at a time, so at most `connectionsAtOnce` are open.
            for _ in 0..<Self.connectionsAtOnce {
                group.addTask {
                    while true {
                        let client: AsyncSocket
                        do {
                            client = try await listener.accept()
                        } catch let error where !(error is CancellationError) && !Task.isCancelled {
                            // A connection aborted before it was taken, or no descriptor left:
                            // that connection is lost, the endpoint is not.
                            try await Task.sleep(for: .milliseconds(100))
                            continue
                        }
                        await serve(client)
                    }
                }
            }
            // The first to end (cancelled, or the pool failed) ends them all.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Reads one request, answers it, and closes the connection.
    private func serve(_ client: AsyncSocket) async {
        defer { try? client.close() }
        guard let head = await Self.within(Self.deadline, { try await Self.readHead(from: client) }) else { return }
        let request = Self.parse(head)
        let response =
            switch request {
            case .success(let request): await respond(request)
            case .failure(let refusal): refusal.response
            }
        var bytes = Array(
            ("HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
                + "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
                + "Connection: close\r\n\r\n").utf8)
        if (try? request.get())?.method != "HEAD" { bytes += response.body }
        // In 64 KiB pieces, each within the deadline: a scraper that keeps reading gets an answer of
        // any size (a thousand sources' metrics are over a megabyte), one that stops is dropped.
        for start in stride(from: 0, to: bytes.count, by: 64 * 1024) {
            let piece = Data(bytes[start..<min(start + 64 * 1024, bytes.count)])
            guard await Self.within(Self.deadline, { try await client.write(piece) }) != nil else { return }
        }
        if case .failure = request {
            // The rest of a refused request is read and dropped (up to 64 KiB, for a second) after
            // the answer's end is sent: closing on unread bytes would reset the connection, and
            // the client could lose the answer.
            shutdown(client.socket.file.rawValue, Int32(SHUT_WR))
            _ = await Self.within(.seconds(1)) {
                var dropped = 0
                while dropped < 64 * 1024, case let chunk = try await client.read(atMost: 4096), !chunk.isEmpty {
                    dropped += chunk.count
                }
            }
        }
    }

    /// The request head, up to its blank line; a head over ``maxHeadBytes`` is cut there (and
    /// refused by ``parse(_:)``). Nil when the client closed first.
    private static func readHead(from client: AsyncSocket) async throws -> [UInt8]? {
        var head: [UInt8] = []
        while head.count <= maxHeadBytes {
            let chunk = try await client.read(atMost: maxHeadBytes + 1 - head.count)
            if chunk.isEmpty { return nil }
            let searchFrom = max(0, head.count - 3)
            head += chunk
            if head[searchFrom...].firstRange(of: [13, 10, 13, 10]) != nil { return head }
        }
        return head
    }

    /// Why a request is not answered by the routes.
    private enum Refusal: Error {
        case tooLarge, malformed, method

        var response: Response {
            switch self {
            case .tooLarge: Response(status: 431, text: "request head over \(EndpointServer.maxHeadBytes) bytes\n")
            case .malformed: Response(status: 400, text: "not an HTTP/1 request\n")
            case .method: Response(status: 405, text: "only GET and HEAD\n")
            }
        }
    }

    /// The request a head asks for.
    private static func parse(_ head: [UInt8]) -> Result<Request, Refusal> {
        guard let end = head.firstRange(of: [13, 10, 13, 10]) else { return .failure(.tooLarge) }
        let lineEnd = head.firstRange(of: [13, 10])?.lowerBound ?? end.lowerBound
        let parts = String(decoding: head[..<lineEnd], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            return .failure(.malformed)
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else { return .failure(.method) }
        let path = parts[1].prefix { $0 != "?" }
        return .success(Request(method: String(parts[0]), path: String(path)))
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 431: "Request Header Fields Too Large"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// `body`'s value, or nil when it failed or `limit` passed first (it is then cancelled).
    private static func within<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T?
    ) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { try? await body() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

public import Foundation

/// A real HTTP server on a loopback address for tests: Python's `http.server`, scripted per path
/// with sequences of responses, logging every request it receives.
///
/// ```swift
/// let server = try await ScriptedHTTPServer(script: ["/feed": [.init(status: 200, body: "<rss/>")]])
/// defer { server.stop() }
/// let url = server.url("/feed")
/// ```
public final class ScriptedHTTPServer: Sendable {
    /// One scripted response.
    public struct Response: Encodable, Sendable {
        var status: Int
        var headers: [String: String]
        var body: String?
        var body_file: String?
        var body_size: Int?
        var gzip: Bool?
        var delay: Double?
        var hang: Bool?
        var if_none_match: String?

        /// A response; `headers` values may use `{port}` for the server's own port.
        public init(
            status: Int = 200, headers: [String: String] = [:], body: String? = nil, bodyFile: String? = nil,
            bodySize: Int? = nil, gzip: Bool? = nil, delay: Double? = nil, hang: Bool? = nil,
            answer304IfNoneMatch: String? = nil
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.body_file = bodyFile
            self.body_size = bodySize
            self.gzip = gzip
            self.delay = delay
            self.hang = hang
            self.if_none_match = answer304IfNoneMatch
        }
    }

    /// One request as the server saw it.
    public struct Request: Decodable, Sendable {
        /// `GET` or `POST`.
        public var method: String
        /// The request path with its query.
        public var path: String
        /// A POST's body, as UTF-8 text.
        public var body: String?
        /// Whether a POST's signatures verified, when the server was given secrets.
        public var verified: Verified?
        /// The request headers.
        public var headers: [String: String]
        /// How many requests were in flight at the server when this one arrived, itself included.
        public var concurrent: Int
        /// When it arrived and when it was answered (seconds since 1970).
        public var arrived: Double
        public var answered: Double

        /// A header, by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    /// What the server found of a POST's signatures.
    public struct Verified: Decodable, Sendable {
        /// Per Standard Webhooks secret, in the order given: verified by the `standardwebhooks` package.
        public var standard: [Bool]
        /// The `X-Hub-Signature-256` header, checked with Python's hmac; nil when no hub secret was given.
        public var hub: Bool?
    }

    /// Secrets the server checks POST signatures with.
    public struct Verification: Encodable, Sendable {
        var standard: [String]
        var hub: String?

        /// Standard Webhooks secrets (`whsec_…`) and a hub secret.
        public init(standard: [String] = [], hub: String? = nil) {
            self.standard = standard
            self.hub = hub
        }
    }

    /// The loopback address the server listens on.
    public let host: String
    /// The port it chose.
    public let port: Int
    private let folder: URL
    private let process: Process

    /// Starts a server on `host` (any 127.x.y.z works on Linux) with a script of responses per path.
    /// - Parameter files: extra files to place beside the script, for `bodyFile` responses.
    /// - Parameter verify: secrets to check POST signatures with.
    public init(
        host: String = "127.0.0.1", script: [String: [Response]], files: [String: Data] = [:],
        verify: Verification? = nil
    ) async throws {
        self.host = host
        folder = FileManager.default.temporaryDirectory.appending(path: "ew-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if let verify { try JSONEncoder().encode(verify).write(to: folder.appending(path: "verify.json")) }
        for (name, data) in files { try data.write(to: folder.appending(path: name)) }
        try JSONEncoder().encode(script).write(to: folder.appending(path: "script.json"))
        try Data().write(to: folder.appending(path: "log.jsonl"))

        let program = Bundle.module.url(forResource: "scripted_http_server", withExtension: "py")!
        process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = [
            "python3", program.path, "--host", host, "--script", folder.appending(path: "script.json").path, "--log",
            folder.appending(path: "log.jsonl").path,
        ]
        let output = Pipe()
        process.standardOutput = output
        // Not the test's own stderr: a server that outlived a crashed test process would hold
        // `swift test`'s pipe open, and `swift test` would wait for it forever.
        let errors = folder.appending(path: "server.err")
        try Data().write(to: errors)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        // Python takes ~0.1 s to start (more on a busy machine): waited for on a thread of its
        // own, not on one of the few that run every test's tasks.
        let firstLine = await withCheckedContinuation { started in
            Thread.detachNewThread {
                started.resume(returning: String(decoding: output.fileHandleForReading.availableData, as: UTF8.self))
            }
        }
        guard let port = Int(firstLine.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            let reason = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [NSLocalizedDescriptionKey: "the test server did not start: \(reason)"])
        }
        self.port = port
    }

    /// Replaces the script; the server reads it on every request (counts per path carry on).
    public func rescript(_ script: [String: [Response]]) throws {
        try JSONEncoder().encode(script).write(to: folder.appending(path: "script.json"), options: .atomic)
    }

    /// `http://HOST:PORT/path`.
    public func url(_ path: String) -> URL {
        URL(string: "http://\(host):\(port)\(path)")!
    }

    /// Every request answered so far, in the order they were answered (the server logs each one
    /// just before it sends the answer).
    public func requests() throws -> [Request] {
        let data = try Data(contentsOf: folder.appending(path: "log.jsonl"))
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try JSONDecoder().decode(Request.self, from: Data($0))
        }
    }

    /// The requests answered so far, waiting up to `timeout` for at least `count` of them: for
    /// requests another process or task makes while the test waits.
    public func requests(atLeast count: Int, timeout: Duration = .seconds(5)) async throws -> [Request] {
        let deadline = ContinuousClock.now + timeout
        var seen = try requests()
        while seen.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            seen = try requests()
        }
        return seen
    }

    /// Stops the server (SIGKILL, not waited for) and removes its files.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: folder)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

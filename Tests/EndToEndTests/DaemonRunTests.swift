import Foundation
import FoundationNetworking
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The long-running `exportwatch run` as systemd runs it: a notification socket, SIGHUP, SIGTERM.
@Suite("run under a service manager")
struct DaemonRunTests {
    /// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`, collecting what it receives.
    final class NotifySocket: Sendable {
        let path: String
        private let descriptor: Int32
        private let received = Mutex<[String]>([])
        private let reaction = Mutex<(@Sendable (String) -> Void)?>(nil)
        private let open = Mutex(true)

        init(folder: URL) throws {
            path = folder.appending(path: "notify.sock").path
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while open.withLock({ $0 }) {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count > 0 {
                        let message = String(decoding: buffer[0..<count], as: UTF8.self)
                        received.withLock { $0.append(message) }
                        reaction.withLock { $0 }?(message)
                    }
                }
                Glibc.close(descriptor)
            }
            thread.start()
        }

        var messages: [String] { received.withLock { $0 } }

        /// Runs `action` on each message from now on, the moment it arrives.
        func react(_ action: @escaping @Sendable (String) -> Void) {
            reaction.withLock { $0 = action }
        }

        /// Waits until a message satisfies `condition`, up to `timeout`.
        func wait(for timeout: Duration = .seconds(15), _ condition: (String) -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if messages.contains(where: condition) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// Stops listening; the receiving thread closes the socket within its 0.2 s receive timeout.
        func close() {
            open.withLock { $0 = false }
        }
    }

    final class Output: Sendable {
        private let text = Mutex("")
        var all: String { text.withLock { $0 } }
        func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
    }

    /// A running daemon on one source (`a`, one relevant item) and one webhook (answers 204), with
    /// its log collected and its notifications received; everything is stopped and removed when it
    /// goes away. `alsoAs` names further sources of the same feed.
    final class OneSourceDaemon {
        let server: ScriptedHTTPServer
        let folder: URL
        let notify: NotifySocket
        let output = Output()
        let process: Process

        /// Starts it; `metrics` is the `[metrics] listen` address, if any.
        init(_ name: String, metrics: String? = nil, alsoAs otherIDs: [String] = []) async throws {
            server = try await ScriptedHTTPServer(script: [
                "/a.xml": [.init(body: RunOnceTests.rss([RunOnceTests.entityList]))], "/hook": [.init(status: 204)],
            ])
            folder = try scratchFolder(name)
            notify = try NotifySocket(folder: folder)
            let config = folder.appending(path: "exportwatch.toml")
            let feed = server.url("/a.xml")
            var text = DaemonRunTests.config(
                folder: folder, sources: (["a"] + otherIDs).map { ($0, feed) }, webhook: server.url("/hook"))
            if let metrics { text += "\n[metrics]\nlisten = \"\(metrics)\"\n" }
            try text.write(to: config, atomically: true, encoding: .utf8)
            let errors = Pipe()
            errors.fileHandleForReading.readabilityHandler = { [output] in output.append($0.availableData) }
            process = try DaemonRunTests.startDaemon(
                config: config, environment: ["NOTIFY_SOCKET": notify.path], errors: errors)
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            notify.close()
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }

        /// Waits for the STATUS of the first cycle: the source polled, its item relevant.
        func firstCycle() async throws -> Bool {
            try await notify.wait { $0.hasPrefix("STATUS=1 sources, 1 new relevant items") }
        }

        /// Waits up to 10 s for `text` in the log, `times` times.
        func logged(_ text: String, times: Int = 1) async throws -> Bool {
            let start = ContinuousClock.now
            while output.all.components(separatedBy: text).count - 1 < times, ContinuousClock.now - start < .seconds(10)
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            return output.all.components(separatedBy: text).count - 1 >= times
        }

        /// SIGTERM, then up to 10 s for the daemon to end.
        func stop() async throws {
            kill(process.processIdentifier, SIGTERM)
            let stop = ContinuousClock.now
            while process.isRunning, ContinuousClock.now - stop < .seconds(10) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// `exportwatch run --config CONFIG` with this environment, its output discarded unless `errors` takes it.
    static func startDaemon(config: URL, environment: [String: String] = [:], errors: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appending(path: "exportwatch")
        process.arguments = ["run", "--config", config.path]
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { _, given in given }
        process.standardError = errors ?? FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func config(folder: URL, sources: [(String, URL)], webhook: URL, broken: Bool = false) -> String {
        var text = """
            [daemon]
            state_dir = "\(folder.path)/state"
            digest_dir = "\(folder.path)/digests"
            allow_private_networks = true
            baseline_new_sources = false
            poll_interval = "10m"

            [[webhook]]
            id = "policy"
            url = "\(webhook.absoluteString)"
            signing_secret = "\(RunOnceTests.secret)"

            """
        for (id, url) in sources {
            text += "[[source]]\nid = \"\(id)\"\nurl = \"\(url.absoluteString)\"\n\n"
        }
        if broken { text += "[[source]]\nid = \"no url\"\n" }
        return text
    }

    @Test(
        "READY, STATUS and WATCHDOG; SIGHUP adds a source and survives a broken file; SIGTERM stops in time with exit 0"
    )
    func lifecycle() async throws {
        let server = try await ScriptedHTTPServer(
            script: [
                "/a.xml": [.init(body: RunOnceTests.rss([RunOnceTests.entityList]))],
                "/b.xml": [.init(body: RunOnceTests.rss([RunOnceTests.chips]))],
                "/hook": [.init(status: 204)],
            ], verify: .init(standard: [RunOnceTests.secret]))
        defer { server.stop() }
        let folder = try scratchFolder("ew-daemon")
        defer { try? FileManager.default.removeItem(at: folder) }
        let notify = try NotifySocket(folder: folder)
        defer { notify.close() }
        let config = folder.appending(path: "exportwatch.toml")
        try Self.config(folder: folder, sources: [("a", server.url("/a.xml"))], webhook: server.url("/hook"))
            .write(to: config, atomically: true, encoding: .utf8)

        let errors = Pipe()
        let output = Output()
        errors.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        let process = try Self.startDaemon(
            config: config,
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "4000000", "JOURNAL_STREAM": "1:1"],
            errors: errors)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        #expect(try await notify.wait { $0.hasPrefix("READY=1") }, "\(output.all)")
        #expect(try await notify.wait { $0.hasPrefix("STATUS=1 sources, 1 new relevant items") }, "\(notify.messages)")
        #expect(try await notify.wait { $0 == "WATCHDOG=1" })
        let first = try await server.requests(atLeast: 2, timeout: .seconds(10)).filter { $0.method == "POST" }
        #expect(first.count == 1 && first.first?.verified?.standard == [true])

        // A new source, then SIGHUP: RELOADING (with MONOTONIC_USEC), READY, and the source is polled.
        try Self.config(
            folder: folder, sources: [("a", server.url("/a.xml")), ("b", server.url("/b.xml"))],
            webhook: server.url("/hook")
        ).write(to: config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(try await notify.wait { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") })
        #expect(try await notify.wait { $0.hasPrefix("STATUS=2 sources, 1 new relevant items") }, "\(notify.messages)")
        let afterReload = try await server.requests(atLeast: 5, timeout: .seconds(10))
        #expect(afterReload.contains { $0.path == "/b.xml" })
        #expect(afterReload.filter { $0.method == "POST" }.count == 2)

        // A broken file: every error logged, the daemon keeps running.
        try Self.config(
            folder: folder, sources: [("a", server.url("/a.xml"))], webhook: server.url("/hook"), broken: true
        )
        .write(to: config, atomically: true, encoding: .utf8)
        let readyCount = notify.messages.count { $0.hasPrefix("READY=1") }
        kill(process.processIdentifier, SIGHUP)
        #expect(try await notify.wait { _ in notify.messages.count { $0.hasPrefix("READY=1") } > readyCount })
        #expect(process.isRunning)
        #expect(output.all.contains("reload refused") && output.all.contains("url: missing"))

        // SIGTERM: STOPPING, exit 0 within 10 s.
        let stop = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stop < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        #expect(try await notify.wait(for: .seconds(1)) { $0.hasPrefix("STOPPING=1") })
        let order = ["READY=1", "STATUS=", "WATCHDOG=1", "RELOADING=1", "STOPPING=1"].map { prefix in
            notify.messages.firstIndex { $0.hasPrefix(prefix) } ?? -1
        }
        #expect(order == order.sorted() && !order.contains(-1), "\(notify.messages)")
    }

    @Test("a cycle longer than the watchdog interval pings it as its polls end: slow sources are not a stuck scheduler")
    func watchdogDuringLongCycle() async throws {
        // Three sources on one host, one at a time, each answering after 1.5 s: a 4.5 s cycle
        // against a 2 s watchdog (pinged every second).
        let slow = ScriptedHTTPServer.Response(body: RunOnceTests.rss([RunOnceTests.entityList]), delay: 1.5)
        let server = try await ScriptedHTTPServer(script: ["/a.xml": [slow], "/b.xml": [slow], "/c.xml": [slow]])
        defer { server.stop() }
        let folder = try scratchFolder("ew-watchdog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let notify = try NotifySocket(folder: folder)
        defer { notify.close() }
        let config = folder.appending(path: "exportwatch.toml")
        var text = """
            [daemon]
            state_dir = "\(folder.path)/state"
            digest_dir = "\(folder.path)/digests"
            allow_private_networks = true
            max_per_host = 1

            """
        for id in ["a", "b", "c"] { text += "[[source]]\nid = \"\(id)\"\nurl = \"\(server.url("/\(id).xml"))\"\n" }
        try text.write(to: config, atomically: true, encoding: .utf8)
        let process = try Self.startDaemon(
            config: config, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        #expect(try await notify.wait { $0.hasPrefix("STATUS=3 sources") }, "\(notify.messages)")
        let beforeStatus = notify.messages.prefix { !$0.hasPrefix("STATUS=3 sources") }
        #expect(beforeStatus.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(notify.messages)")
        kill(process.processIdentifier, SIGTERM)
    }

    @Test(
        "kill -9 between delivery attempts, then a restart: the event arrives once more with the same webhook-id, each item stored once"
    )
    func killAndRestart() async throws {
        let server = try await ScriptedHTTPServer(
            script: [
                "/a.xml": [.init(body: RunOnceTests.rss([RunOnceTests.entityList, RunOnceTests.chips]))],
                "/hook": [.init(status: 503), .init(status: 503), .init(status: 204)],
            ], verify: .init(standard: [RunOnceTests.secret]))
        defer { server.stop() }
        let folder = try scratchFolder("ew-kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try Self.config(folder: folder, sources: [("a", server.url("/a.xml"))], webhook: server.url("/hook"))
            .write(to: config, atomically: true, encoding: .utf8)

        let first = try Self.startDaemon(config: config)
        // Both events fail once (503); the daemon is killed before their retries fall due (5 s).
        _ = try await server.requests(atLeast: 3, timeout: .seconds(15))
        kill(first.processIdentifier, SIGKILL)
        while first.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let failedIDs = try server.requests().filter { $0.method == "POST" }.compactMap { $0.header("webhook-id") }
        #expect(Set(failedIDs).count == 2)

        let second = try Self.startDaemon(config: config)
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        let posts = try await server.requests(atLeast: 6, timeout: .seconds(20)).filter { $0.method == "POST" }
        kill(second.processIdentifier, SIGTERM)
        #expect(posts.count == 4, "\(posts.map { $0.header("webhook-id") ?? "?" })")
        #expect(Set(posts.compactMap { $0.header("webhook-id") }) == Set(failedIDs))
        #expect(posts.allSatisfy { $0.verified?.standard == [true] })
        #expect(try server.requests().filter { $0.path == "/a.xml" }.count == 1, "the restart polled nothing new")
    }

    @Test("SIGTERM during a cycle: exit 0 in time; the poll in flight is not half-written and runs again next time")
    func stopDuringCycle() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/slow.xml": [.init(body: RunOnceTests.rss([RunOnceTests.entityList]), delay: 20)],
            "/hook": [.init(status: 204)],
        ])
        defer { server.stop() }
        let folder = try scratchFolder("ew-stop")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try Self.config(folder: folder, sources: [("slow", server.url("/slow.xml"))], webhook: server.url("/hook"))
            .write(to: config, atomically: true, encoding: .utf8)
        let notify = try NotifySocket(folder: folder)
        defer { notify.close() }
        let process = try Self.startDaemon(config: config, environment: ["NOTIFY_SOCKET": notify.path])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The first cycle starts at READY; a second later its fetch is waiting on the server (20 s).
        #expect(try await notify.wait { $0.hasPrefix("READY=1") })
        try await Task.sleep(for: .milliseconds(1500))
        let stop = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stop < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning && process.terminationStatus == 0)
        #expect(ContinuousClock.now - stop < .seconds(10))

        let sources = try await CommandLineTests.exportwatch("sources", "list", "--config", config.path)
        #expect(sources.output.contains("slow") && sources.output.contains("new"), "\(sources.output)")
        let items = try await CommandLineTests.exportwatch("items", "list", "--config", config.path)
        #expect(items.output.split(separator: "\n").count == 1, "only the header: nothing half-written")
    }

    /// A socket listening on a free loopback port, and the port: an address the daemon cannot take.
    static func listeningSocket() -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length)
                return getsockname(descriptor, pointer, &length)
            }
        }
        listen(descriptor, 1)
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    @Test("[metrics] serves Prometheus text with per-source fetch counts, and /healthz, on the port it logs")
    func metrics() async throws {
        // Port 0: the daemon takes a free port and logs it (a port chosen here could be taken meanwhile).
        let daemon = try await OneSourceDaemon("ew-metrics", metrics: "127.0.0.1:0")
        #expect(try await daemon.notify.wait { $0.hasPrefix("STATUS=") }, "\(daemon.output.all)")
        _ = try await daemon.server.requests(atLeast: 2, timeout: .seconds(10))
        #expect(try await daemon.logged("metrics endpoint listening"), "\(daemon.output.all)")
        let logged = try #require(
            daemon.output.all.firstMatch(of: /url=(http:\/\/127\.0\.0\.1:\d+\/metrics)/)?.output.1)
        let url = try #require(URL(string: String(logged)))
        try await Task.sleep(for: .milliseconds(300))

        let (body, response) = try await URLSession.shared.data(from: url)
        let text = String(decoding: body, as: UTF8.self)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(
            text.contains("exportwatch_fetches_total{source=\"a\",outcome=\"fetched\",status=\"200\"} 1"), "\(text)")
        #expect(text.contains("exportwatch_items_relevant_total{source=\"a\"} 1"))
        #expect(text.contains("exportwatch_delivery_attempts_total{result=\"sent\"} 1"))
        #expect(text.contains("exportwatch_outbox_pending") && text.contains("exportwatch_outbox_parked"))
        let (_, health) = try await URLSession.shared.data(
            from: url.deletingLastPathComponent().appending(path: "healthz"))
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        // A request head over 8 KiB is refused at the bound, not read on without end.
        var oversized = URLRequest(url: url)
        oversized.setValue(String(repeating: "y", count: 9000), forHTTPHeaderField: "X-Padding")
        let (_, refused) = try await URLSession.shared.data(for: oversized)
        #expect((refused as? HTTPURLResponse)?.statusCode == 431)

        // Another address is not taken up by a reload, and the reload says so.
        let config = daemon.folder.appending(path: "exportwatch.toml")
        try (String(contentsOf: config, encoding: .utf8).replacing("127.0.0.1:0", with: "127.0.0.1:1"))
            .write(to: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(try await daemon.logged("[metrics] changes take effect on restart"), "\(daemon.output.all)")
        try await daemon.stop()
        #expect(
            !daemon.process.isRunning && daemon.process.terminationStatus == 0, "the endpoint's stop is not a failure")
    }

    @Test("a run --once beside the running daemon stops at once, naming it; items list still reads the state")
    func secondRunIsRefused() async throws {
        let daemon = try await OneSourceDaemon("ew-second-run")
        #expect(try await daemon.firstCycle(), "\(daemon.output.all)")
        let config = daemon.folder.appending(path: "exportwatch.toml").path
        let second = try await CommandLineTests.exportwatch("run", "--once", "--config", config)
        #expect(second.status == 1)
        #expect(
            second.errors.contains(
                "another exportwatch run (pid \(daemon.process.processIdentifier)) is using the state folder"),
            "\(second.errors)")
        let items = try await CommandLineTests.exportwatch("items", "list", "--config", config)
        #expect(items.status == 0 && items.output.contains("Entity List"), "\(items.errors)")
        #expect(try daemon.server.requests().filter { $0.path == "/a.xml" }.count == 1, "polled once, by the daemon")

        try await daemon.stop()
        let after = try await CommandLineTests.exportwatch(
            "run", "--once", "--deliver-timeout", "0", "--config", config)
        #expect(!after.errors.contains("another exportwatch run"), "\(after.errors)")
    }

    @Test("a delivery pass that fails (its outbox gone from under it) is logged, and the daemon runs on")
    func deliveryFailureIsNotFatal() async throws {
        let daemon = try await OneSourceDaemon("ew-delivery-fails")
        #expect(try await daemon.firstCycle(), "\(daemon.output.all)")
        _ = try await daemon.server.requests(atLeast: 2, timeout: .seconds(10))

        // Another hand renames the outbox; the worker's next pass (at most 5 s away when idle) fails.
        let rename = try await ProgramRun(
            URL(filePath: "/usr/bin/env"),
            [
                "python3", "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('ALTER TABLE outbox RENAME TO gone'); c.commit()",
                daemon.folder.appending(path: "state/exportwatch.sqlite").path,
            ])
        #expect(rename.status == 0, "\(rename.errors)")
        #expect(try await daemon.logged("delivery failed; trying again in a minute"), "\(daemon.output.all)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(daemon.process.isRunning, "\(daemon.output.all)")
        try await daemon.stop()
        #expect(!daemon.process.isRunning && daemon.process.terminationStatus == 0)
    }

    @Test("SIGHUP the moment READY arrives (systemctl start, then reload) reloads: the signal is trapped before READY")
    func reloadRightAfterReady() async throws {
        let daemon = try await OneSourceDaemon("ew-early-reload")
        let daemonID = daemon.process.processIdentifier
        daemon.notify.react { if $0.hasPrefix("READY=1") { kill(daemonID, SIGHUP) } }
        #expect(try await daemon.notify.wait { $0.hasPrefix("READY=1") }, "\(daemon.output.all)")
        #expect(try await daemon.logged("configuration reloaded"), "\(daemon.output.all)")
        #expect(daemon.process.isRunning)
        try await daemon.stop()
        #expect(!daemon.process.isRunning && daemon.process.terminationStatus == 0)
    }

    @Test("two sources of one feed: the daemon warns of it once at start and once at each reload")
    func sameFeedTwiceWarned() async throws {
        let daemon = try await OneSourceDaemon("ew-same-feed", alsoAs: ["a-again"])
        let warning = #"source "a-again": url: the same as source "a"'s"#
        #expect(try await daemon.logged(warning), "\(daemon.output.all)")
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(try await daemon.logged("configuration reloaded"), "\(daemon.output.all)")
        #expect(try await daemon.logged(warning, times: 2), "\(daemon.output.all)")
        try await daemon.stop()
        #expect(daemon.output.all.components(separatedBy: warning).count - 1 == 2, "\(daemon.output.all)")
    }

    @Test("[metrics] on a port that is taken: one clear error line, and the daemon polls on")
    func metricsPortTaken() async throws {
        let taken = Self.listeningSocket()
        defer { Glibc.close(taken.descriptor) }
        let daemon = try await OneSourceDaemon("ew-metrics-taken", metrics: "127.0.0.1:\(taken.port)")
        #expect(try await daemon.firstCycle(), "\(daemon.output.all)")
        #expect(try await daemon.logged("metrics endpoint cannot listen"), "\(daemon.output.all)")
        let line = daemon.output.all.split(separator: "\n").filter { $0.contains("metrics endpoint") }
        #expect(line.count == 1 && line[0].contains("listen=127.0.0.1:\(taken.port)"), "\(line)")
        #expect(daemon.process.isRunning)
        try await daemon.stop()
        #expect(!daemon.process.isRunning && daemon.process.terminationStatus == 0)
    }
}

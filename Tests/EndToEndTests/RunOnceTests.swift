import Foundation
import TestSupport
import Testing

/// `exportwatch run --once` against a feed server and a webhook receiver on 127.0.0.1.
@Suite("run --once")
struct RunOnceTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func rss(_ items: [(guid: String, title: String, summary: String)]) -> String {
        let entries = items.map { item in
            """
            <item><guid>\(item.guid)</guid><title>\(item.title)</title><link>https://www.bis.gov/\(item.guid)</link>
            <description>\(item.summary)</description><pubDate>Thu, 09 May 2024 14:00:00 GMT</pubDate></item>
            """
        }.joined(separator: "\n")
        return
            "<rss version=\"2.0\"><channel><title>BIS</title><link>https://www.bis.gov/</link>\n\(entries)\n</channel></rss>"
    }

    static let entityList = (
        guid: "bis-1", title: "Commerce Adds 37 Chinese Entities to the Entity List",
        summary:
            "The Bureau of Industry and Security added 37 entities to the Entity List, imposing license requirements on exports."
    )
    static let chips = (
        guid: "bis-2", title: "Commerce Tightens Export Controls on Advanced AI Chips to China",
        summary:
            "BIS issued an interim final rule restricting exports of advanced computing chips such as the Nvidia H20."
    )
    static let bakery = (guid: "bis-3", title: "Chocolate chip cookies at the staff picnic", summary: "Recipes inside.")
    static let later = (
        guid: "bis-4", title: "China's Commerce Ministry Responds to US Export Controls on Chips",
        summary: "MOFCOM said the export controls on semiconductors violate market rules; 商务部 表示 坚决反对 出口管制."
    )

    /// Writes `exportwatch.toml` in `folder`: the server's `/feed.xml` as source `bis` (announced
    /// from its first poll) and its `/hook` as webhook `policy`, signed when given a secret.
    static func writeConfiguration(in folder: URL, server: ScriptedHTTPServer, signingSecret: String?) throws -> URL {
        let config = folder.appending(path: "exportwatch.toml")
        try """
        [daemon]
        state_dir = "\(folder.path)/state"
        digest_dir = "\(folder.path)/digests"
        allow_private_networks = true
        baseline_new_sources = false

        [[source]]
        id = "bis"
        url = "\(server.url("/feed.xml").absoluteString)"

        [[webhook]]
        id = "policy"
        url = "\(server.url("/hook").absoluteString)"
        \(signingSecret.map { "signing_secret = \"\($0)\"" } ?? "")
        """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    @Test("items published between cycles are sent once each, signed; nothing is sent twice")
    func cycles() async throws {
        let server = try await ScriptedHTTPServer(
            script: [
                "/feed.xml": [
                    .init(
                        headers: ["Content-Type": "application/rss+xml"],
                        body: Self.rss([Self.entityList, Self.chips, Self.bakery]))
                ],
                "/hook": [.init(status: 204)],
            ], verify: .init(standard: [Self.secret]))
        defer { server.stop() }
        let folder = try scratchFolder("ew-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.writeConfiguration(in: folder, server: server, signingSecret: Self.secret)

        let first = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(first.status == 0, "\(first.errors)")
        var posts = try await server.requests(atLeast: 3).filter { $0.method == "POST" }
        #expect(posts.count == 2)
        #expect(posts.allSatisfy { $0.verified?.standard == [true] })
        #expect(
            Set(
                posts.compactMap {
                    $0.body?.contains("Entity List") == true
                        ? "entity" : $0.body?.contains("AI Chips") == true ? "chips" : nil
                }) == ["entity", "chips"])

        try server.rescript([
            "/feed.xml": [.init(body: Self.rss([Self.later, Self.entityList, Self.chips, Self.bakery]))],
            "/hook": [.init(status: 204)],
        ])
        let second = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(second.status == 0, "\(second.errors)")
        posts = try await server.requests(atLeast: 5).filter { $0.method == "POST" }
        #expect(posts.count == 3)
        #expect(posts.last?.body?.contains("Responds to US Export Controls") == true)

        // Nothing new: silent at the default level, one line with EXPORTWATCH_LOG_LEVEL=debug.
        let third = try await CommandLineTests.exportwatch(
            "run", "--once", "--config", config.path, environment: ["EXPORTWATCH_LOG_LEVEL": "debug"])
        #expect(third.status == 0)
        #expect(third.errors.contains("debug exportwatch: unchanged source=bis status=200"), "\(third.errors)")
        #expect(!second.errors.contains("debug"), "\(second.errors)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try server.requests().filter { $0.method == "POST" }.count == 3)
        #expect(FileManager.default.fileExists(atPath: folder.appending(path: "digests/alerts.atom").path))

        // What was collected, and why each item was (not) sent.
        let list = try await CommandLineTests.exportwatch("items", "list", "--config", config.path)
        #expect(list.status == 0, "\(list.errors)")
        #expect(list.output.split(separator: "\n").count == 5)
        #expect(list.output.contains("not relevant") && list.output.contains("announced"))
        let json = try await CommandLineTests.exportwatch(
            "items", "list", "--json", "--topic", "entity-list-sanctions", "--query", "37 Chinese", "--config",
            config.path)
        let lines = json.output.split(separator: "\n")
        try #require(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let id = try #require(object["id"] as? String)
        let show = try await CommandLineTests.exportwatch("items", "show", id, "--config", config.path)
        #expect(show.status == 0)
        #expect(show.output.contains("policy: sent after 1 attempt(s)"))
        #expect(show.output.contains("fetched from: \(server.url("/feed.xml").absoluteString)"))
        // The id of one of its events (as webhooks outbox and the payloads give it) finds it too.
        let event = try #require((object["events"] as? [String])?.first)
        let byEvent = try await CommandLineTests.exportwatch("items", "show", event, "--config", config.path)
        #expect(byEvent.status == 0 && byEvent.output == show.output, "\(byEvent.errors)")
        let missing = try await CommandLineTests.exportwatch("items", "show", "itm_0", "--config", config.path)
        #expect(missing.status == 2 && missing.errors == "Error: no item itm_0 in the store\n", "\(missing.errors)")

        // A mistyped topic or source is an error that names the right one, not an empty list.
        let topic = try await CommandLineTests.exportwatch(
            "items", "list", "--topic", "entity-list", "--config", config.path)
        #expect(topic.status == 2 && topic.output.isEmpty)
        #expect(topic.errors.contains("no topic \"entity-list\"") && topic.errors.contains("entity-list-sanctions?"))
        // Its arguments parsed: the root command's usage text would not help.
        #expect(!topic.errors.contains("Usage:"), "\(topic.errors)")
        let source = try await CommandLineTests.exportwatch("items", "list", "--source", "BI", "--config", config.path)
        #expect(source.status == 2 && source.errors.contains("no source \"BI\"") && source.errors.contains("bis?"))
        // A source taken out of the configuration still names its stored items.
        let withoutSources = folder.appending(path: "no-sources.toml")
        try "[daemon]\nstate_dir = \"\(folder.path)/state\"\n".write(
            to: withoutSources, atomically: true, encoding: .utf8)
        let removed = try await CommandLineTests.exportwatch(
            "items", "list", "--source", "bis", "--config", withoutSources.path)
        #expect(removed.status == 0 && removed.output.split(separator: "\n").count == 5, "\(removed.errors)")
    }

    @Test("a run deletes the items past item_retention that the feed lists no more, and keeps the listed ones")
    func itemRetention() async throws {
        let server = try await ScriptedHTTPServer(
            script: [
                "/feed.xml": [.init(body: Self.rss([Self.entityList, Self.chips]))], "/hook": [.init(status: 204)],
            ], verify: .init())
        defer { server.stop() }
        let folder = try scratchFolder("ew-retention")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.writeConfiguration(in: folder, server: server, signingSecret: nil)
        let first = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(first.status == 0, "\(first.errors)")

        // The two items as if first seen two years and more ago (the default item_retention), and
        // the feed as if it went down and came back then.
        let aged = try await ProgramRun(
            URL(filePath: "/usr/bin/env"),
            [
                "python3", "-c",
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                for guid, days in (("bis-1", 800), ("bis-2", 799)):
                    db.execute("UPDATE item SET first_seen_at = strftime('%Y-%m-%d %H:%M:%f', first_seen_at, ?) "
                               "WHERE guid = ?", (f"-{days} days", guid))
                for event, days in (("source.down", 800), ("source.recovered", 799)):
                    db.execute("INSERT INTO source_event (source_id, type, occurred_at) "
                               "VALUES ('bis', ?, strftime('%Y-%m-%d %H:%M:%f', 'now', ?))", (event, f"-{days} days"))
                db.commit()
                """,
                folder.appending(path: "state/exportwatch.sqlite").path,
            ])
        #expect(aged.status == 0, "\(aged.errors)")

        // The feed now lists the chips rule and a newer item; the Entity List item is gone from it.
        try server.rescript([
            "/feed.xml": [.init(body: Self.rss([Self.later, Self.chips]))], "/hook": [.init(status: 204)],
        ])
        let second = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(second.status == 0, "\(second.errors)")
        #expect(second.errors.contains("items past item_retention deleted items=1"), "\(second.errors)")
        // The older transition goes; the latest stays, saying how the feed's health came to be.
        #expect(second.errors.contains("health transitions past item_retention deleted rows=1"), "\(second.errors)")
        let list = try await CommandLineTests.exportwatch("items", "list", "--config", config.path)
        #expect(list.output.contains("Advanced AI Chips") && list.output.contains("Responds to US Export Controls"))
        #expect(!list.output.contains("37 Chinese Entities"), "\(list.output)")
    }

    @Test("a source retired by a 410 stays retired until sources revive brings it back at the same URL")
    func reviveRetired() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/feed.xml": [.init(status: 410), .init(body: Self.rss([Self.entityList]))], "/hook": [.init(status: 204)],
        ])
        defer { server.stop() }
        let folder = try scratchFolder("ew-revive")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.writeConfiguration(in: folder, server: server, signingSecret: nil)
        _ = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        let retired = try await CommandLineTests.exportwatch("sources", "list", "--config", config.path)
        #expect(retired.output.contains("retired"), "\(retired.output)")
        _ = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(try server.requests().filter { $0.path == "/feed.xml" }.count == 1)

        let revive = try await CommandLineTests.exportwatch("sources", "revive", "bis", "--config", config.path)
        #expect(revive.status == 0 && revive.output == "source bis is healthy again and due now\n", "\(revive.errors)")
        let run = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(run.status == 0 && run.errors.contains("1 new items (1 relevant)"), "\(run.errors)")
        let healthy = try await CommandLineTests.exportwatch("sources", "list", "--config", config.path)
        #expect(healthy.output.contains(" ok "), "\(healthy.output)")

        let again = try await CommandLineTests.exportwatch("sources", "revive", "bis", "--config", config.path)
        #expect(again.status == 1 && again.errors.contains("is not retired (health: ok)"), "\(again.errors)")
        let unknown = try await CommandLineTests.exportwatch("sources", "revive", "bsi", "--config", config.path)
        #expect(unknown.status == 2 && unknown.errors.contains("no source \"bsi\""), "\(unknown.errors)")
    }

    @Test("a source that fails makes run --once exit 1, and the others are still recorded")
    func failingSource() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/feed.xml": [.init(body: Self.rss([Self.entityList]))], "/broken": [.init(status: 500)],
        ])
        defer { server.stop() }
        let folder = try scratchFolder("ew-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try """
        [daemon]
        state_dir = "\(folder.path)/state"
        digest_dir = "\(folder.path)/digests"
        allow_private_networks = true

        [[source]]
        id = "good"
        url = "\(server.url("/feed.xml").absoluteString)"

        [[source]]
        id = "broken"
        url = "\(server.url("/broken").absoluteString)"
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = try await CommandLineTests.exportwatch("run", "--once", "--config", config.path)
        #expect(run.status == 1)
        #expect(run.errors.contains("fetch failed") && run.errors.contains("broken"))
        let list = try await CommandLineTests.exportwatch("sources", "list", "--config", config.path)
        #expect(list.output.contains("good") && list.output.contains("ok"))
    }

    @Test(
        "a delivery still pending when --deliver-timeout ends makes run --once exit 1; once its webhook is removed it is parked, and discard drops it"
    )
    func pendingDelivery() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/feed.xml": [.init(body: Self.rss([Self.entityList, Self.chips]))], "/hook": [.init(status: 503)],
        ])
        defer { server.stop() }
        let folder = try scratchFolder("ew-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.writeConfiguration(in: folder, server: server, signingSecret: nil)
        let run = try await CommandLineTests.exportwatch(
            "run", "--once", "--deliver-timeout", "0", "--config", config.path)
        #expect(run.status == 1)
        #expect(run.errors.contains("2 deliveries still pending"), "\(run.errors)")
        let outbox = try await CommandLineTests.exportwatch("webhooks", "outbox", "--config", config.path)
        #expect(outbox.output.split(separator: "\n").filter { $0.contains("pending") }.count == 2, "\(outbox.output)")

        // The webhook taken out of the configuration: its two rows are parked, not waited for.
        let withoutWebhook = folder.appending(path: "no-webhook.toml")
        let text = try String(contentsOf: config, encoding: .utf8)
        let webhookTable = try #require(text.range(of: "[[webhook]]"))
        try String(text[..<webhookTable.lowerBound]).write(to: withoutWebhook, atomically: true, encoding: .utf8)
        let parked = try await CommandLineTests.exportwatch(
            "run", "--once", "--deliver-timeout", "20", "--config", withoutWebhook.path)
        #expect(parked.status == 0, "\(parked.errors)")
        #expect(parked.errors.contains(#"2 deliveries wait for webhook "policy", which is no longer configured"#))
        let list = try await CommandLineTests.exportwatch("webhooks", "list", "--config", withoutWebhook.path)
        #expect(list.output.contains("not configured (its pending rows wait)"), "\(list.output)")
        let configured = try await CommandLineTests.exportwatch(
            "webhooks", "discard", "policy", "--config", config.path)
        #expect(configured.status == 2 && configured.errors.contains("is configured"), "\(configured.errors)")
        let discard = try await CommandLineTests.exportwatch(
            "webhooks", "discard", "policy", "--config", withoutWebhook.path)
        #expect(discard.status == 0 && discard.output == "discarded 2 pending outbox rows of webhook policy\n")
        let failed = try await CommandLineTests.exportwatch(
            "webhooks", "outbox", "--failed", "--config", withoutWebhook.path)
        #expect(failed.output.components(separatedBy: "discarded: the webhook is no longer configured").count == 3)
        let again = try await CommandLineTests.exportwatch(
            "webhooks", "discard", "policy", "--config", withoutWebhook.path)
        #expect(again.status == 1 && again.errors.contains("no pending row of webhook \"policy\""))
    }
}

import Foundation
import TestSupport
import Testing

/// The built `exportwatch` binary, run as a user runs it.
@Suite("Command line")
struct CommandLineTests {
    static let repository = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..").standardized

    /// Runs `exportwatch` from the build folder beside this test bundle, in the repository unless
    /// told another `directory`, with `PATH` and `environment` only.
    static func exportwatch(
        _ arguments: String..., input: Data? = nil, directory: URL? = nil, environment: [String: String] = [:]
    ) async throws -> ProgramRun {
        try await ProgramRun(
            Bundle.main.bundleURL.appending(path: "exportwatch"), arguments, input: input,
            directory: directory ?? repository, environment: environment.merging(["PATH": "/usr/bin:/bin"]) { $1 })
    }

    @Test("--version names exportwatch and the libraries it runs on")
    func version() async throws {
        let run = try await Self.exportwatch("--version")
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("exportwatch "))
        #expect(run.output.contains("libcurl ") && run.output.contains("libxml2 "))
    }

    @Test("check-config accepts the example and exits 0")
    func exampleIsValid() async throws {
        let run = try await Self.exportwatch("check-config", "--config", "feeds/example.toml")
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output == "feeds/example.toml: valid (3 sources, 1 webhook, 10 topics from feeds/topics.toml)\n")
    }

    @Test("a configuration with no sources is valid, with a warning from check-config and from run")
    func noSources() async throws {
        let folder = try scratchFolder("ew-no-sources")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try "[daemon]\nstate_dir = \"\(folder.path)/state\"\ndigest_dir = \"\(folder.path)/digests\"\n".write(
            to: config, atomically: true, encoding: .utf8)
        let check = try await Self.exportwatch("check-config", "--config", config.path)
        let run = try await Self.exportwatch("run", "--once", "--config", config.path)
        for command in [check, run] {
            #expect(command.status == 0, "\(command.errors)")
            #expect(command.errors.contains("no sources configured: nothing will be polled"), "\(command.errors)")
        }
    }

    @Test("items list before anything was collected says where it looked, instead of an empty list alone")
    func itemsBeforeFirstRun() async throws {
        let folder = try scratchFolder("ew-items-fresh")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try "[daemon]\nstate_dir = \"\(folder.path)/state\"\n[[source]]\nid = \"a\"\nurl = \"https://example.org/a\"\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let note = "no state database at \(folder.path)/state/exportwatch.sqlite: nothing has been collected"
        let table = try await Self.exportwatch("items", "list", "--config", config.path)
        #expect(table.status == 0 && table.errors.hasPrefix(note), "\(table.errors)")
        let json = try await Self.exportwatch("items", "list", "--json", "--config", config.path)
        #expect(json.status == 0 && json.output.isEmpty && json.errors.hasPrefix(note), "\(json.errors)")
        let show = try await Self.exportwatch("items", "show", "itm_0123", "--config", config.path)
        #expect(show.status == 2 && show.errors.hasPrefix("Error: \(note)"), "\(show.errors)")
    }

    @Test("a configuration with three mistakes exits 2 and names all three with their lines")
    func threeMistakes() async throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "ew-bad-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
        [daemon]
        time_zone = "Mars/Olympus_Mons"

        [[source]]
        id = "fr-bis"
        url = "ftp://ftp.example.org/rules"
        interval = "often"
        """.write(to: file, atomically: true, encoding: .utf8)
        let run = try await Self.exportwatch("check-config", "--config", file.path)
        #expect(run.status == 2)
        let lines = run.errors.split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        #expect(lines.map { $0.dropFirst(file.path.count + 1).prefix(2) } == ["2:", "6:", "7:"])
        #expect(lines[1].contains(#"source "fr-bis": url: expected an http or https URL"#))
    }

    @Test("parse prints one JSON line per file and exits 1 after a file with no feed")
    func parse() async throws {
        let feed = FileManager.default.temporaryDirectory.appending(path: "ew-\(UUID().uuidString).xml")
        let page = FileManager.default.temporaryDirectory.appending(path: "ew-\(UUID().uuidString).html")
        defer {
            try? FileManager.default.removeItem(at: feed)
            try? FileManager.default.removeItem(at: page)
        }
        try
            "<rss version=\"2.0\"><channel><title>BIS</title><item><title>Rule</title><link>r.html</link></item></channel></rss>"
            .write(to: feed, atomically: true, encoding: .utf8)
        try "<html><body>no feed</body></html>".write(to: page, atomically: true, encoding: .utf8)
        let run = try await Self.exportwatch("parse", "--base-url", "https://www.bis.gov/news/", page.path, feed.path)
        #expect(run.status == 1)
        let lines = run.output.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(lines[0] == #"{"file":"\#(page.path)","error":"not a feed: the root element is <html>"}"#)
        #expect(lines[1].contains(#""title":"BIS""#) && lines[1].contains(#""link":"https://www.bis.gov/news/r.html""#))
    }

    @Test("classify reads JSON Lines and prints topics, scores, matched terms and identifiers")
    func classify() async throws {
        let run = try await Self.exportwatch(
            "classify", "--topics", "feeds/topics.toml",
            input: Data(
                """
                {"id": "a", "title": "US tightens export controls on Nvidia H20 chips", "summary": "Under ECCN 3A090."}
                {"id": "b", "title": "Best potato chips of 2024", "summary": ""}

                """.utf8))
        #expect(run.status == 0)
        let lines = run.output.split(separator: "\n")
        try #require(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["relevant"] as? Bool == true)
        #expect((first?["topics"] as? [[String: Any]])?.contains { $0["id"] as? String == "chip-controls" } == true)
        #expect((first?["identifiers"] as? [[String: String]]) == [["kind": "eccn", "value": "3A090"]])
        #expect(lines[1].contains(#""relevant":false"#))
    }

    @Test("classify skips a line longer than its bound, names it, classifies the rest and exits 1")
    func classifyBoundsLines() async throws {
        let endless = #"{"id": "huge", "summary": ""# + String(repeating: "export controls ", count: 1_100_000) + #""}"#
        let run = try await Self.exportwatch(
            "classify", "--topics", "feeds/topics.toml",
            input: Data(
                """
                {"id": "a", "title": "Commerce adds 37 Chinese entities to the Entity List"}
                \(endless)
                {"id": "b", "title": "Best potato chips of 2024"}

                """.utf8))
        #expect(run.status == 1)
        #expect(run.errors == "stdin:2: longer than 16 MiB, skipped\n")
        let ids = run.output.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(ids == ["a", "b"])
    }

    @Test("classify outside the repository, with no topics file installed, uses the built-in topics")
    func classifyWithBuiltInTopics() async throws {
        let folder = try scratchFolder("ew-classify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await Self.exportwatch(
            "classify",
            input: Data(#"{"id": "a", "title": "Commerce adds 37 Chinese entities to the Entity List"}"#.utf8),
            directory: folder)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains(#""id":"entity-list-sanctions""#), "\(run.output)")
    }

    @Test(
        "demo runs the whole job offline: alerts sent signed, stories reported twice (once in two languages) alerted once, a digest"
    )
    func demo() async throws {
        let run = try await Self.exportwatch("demo")
        #expect(run.status == 0, "\(run.output)\(run.errors)")
        #expect(run.output.components(separatedBy: "signature valid").count - 1 == 4)
        // Twice: the same Entity List story from a wire, and the gallium controls in English citing
        // the Chinese announcement's number.
        #expect(run.output.components(separatedBy: "joins a story already announced: no second alert").count - 1 == 2)
        #expect(run.output.contains("ignored  wire-news: Chocolate chip cookie sales"))
        let digest = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("digest of ") })
        let markdown = try #require(digest.split(separator: " ").first { $0.hasSuffix(".md,") }).dropLast()
        #expect(FileManager.default.fileExists(atPath: String(markdown)))
        let folder = try #require(run.output.split(separator: " ").first { $0.contains("exportwatch-demo-") })
        try? FileManager.default.removeItem(atPath: String(folder).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("usage mistakes exit 2, an unknown EXPORTWATCH_LOG_LEVEL among them")
    func usage() async throws {
        let level = try await Self.exportwatch(
            "check-config", "--config", "feeds/example.toml", environment: ["EXPORTWATCH_LOG_LEVEL": "verbose"])
        #expect(
            level.status == 2 && level.errors.hasPrefix("EXPORTWATCH_LOG_LEVEL: expected one of"), "\(level.errors)")
        #expect(try await Self.exportwatch("no-such-command").status == 2)
        #expect(try await Self.exportwatch("fetch").status == 2)
    }

    @Test("fetch prints provenance, and refuses loopback addresses unless told otherwise")
    func fetch() async throws {
        let server = try await ScriptedHTTPServer(script: [
            "/rss": [.init(headers: ["ETag": "\"e1\""], body: "<rss/>")]
        ])
        defer { server.stop() }
        let allowed = try await Self.exportwatch("fetch", server.url("/rss").absoluteString, "--insecure-allow-private")
        #expect(allowed.status == 0, "\(allowed.errors)")
        #expect(allowed.output.contains("status: 200\n") && allowed.output.contains("etag: \"e1\"\n"))
        #expect(allowed.output.contains("format: rss\n") && allowed.output.contains("items: 0"))
        let refused = try await Self.exportwatch("fetch", server.url("/rss").absoluteString)
        #expect(refused.status == 1)
        #expect(refused.output.contains("refused to connect to 127.0.0.1"))
        // Through a proxy the address refused is the proxy's (the target is never resolved here).
        let proxied = try await Self.exportwatch(
            "fetch", "https://www.bis.gov/rss.xml", environment: ["https_proxy": "http://127.0.0.1:9"])
        #expect(proxied.status == 1)
        #expect(
            proxied.output.contains(
                "refused to connect to 127.0.0.1 (the URL's host, or the proxy that https_proxy names)"),
            "\(proxied.output)")
    }
}

@Suite("Command line: HTML sources")
struct HTMLCommandLineTests {
    @Test("fetch --item reads a page with rules; parse --html-rules does the same offline")
    func htmlRules() async throws {
        let page =
            #"<html><head><title>公告</title></head><body><ul class="list1"><li><a href="./n46.shtml">商务部公告2024年第46号</a><span>2024-05-10</span></li></ul></body></html>"#
        let server = try await ScriptedHTTPServer(script: [
            "/list/": [.init(headers: ["Content-Type": "text/html; charset=utf-8"], body: page)]
        ])
        defer { server.stop() }
        let fetched = try await CommandLineTests.exportwatch(
            "fetch", server.url("/list/").absoluteString, "--insecure-allow-private", "--item", "ul.list1 > li",
            "--title", "a",
            "--link", "a@href", "--date", "span")
        #expect(fetched.status == 0, "\(fetched.errors)")
        #expect(fetched.output.contains("format: html\n"))
        let wrong = try await CommandLineTests.exportwatch(
            "fetch", server.url("/list/").absoluteString, "--insecure-allow-private", "--item", "ul.list2 > li",
            "--title", "a", "--link", "a@href")
        #expect(
            wrong.status == 1 && wrong.output.contains(#"the item rule "ul.list2 > li" found nothing on this page"#))
        #expect(
            fetched.output.contains(
                "2024-05-10T00:00:00Z  商务部公告2024年第46号  \(server.url("/list/n46.shtml").absoluteString)"))

        let folder = try scratchFolder("ew-html")
        defer { try? FileManager.default.removeItem(at: folder) }
        try page.write(to: folder.appending(path: "page.html"), atomically: true, encoding: .utf8)
        try """
        item = "ul.list1 > li"
        title = "a"
        link = "a@href"
        date = "span"
        time_zone = "Asia/Shanghai"
        """.write(to: folder.appending(path: "rules.toml"), atomically: true, encoding: .utf8)
        let parsed = try await CommandLineTests.exportwatch(
            "parse", "--html-rules", folder.appending(path: "rules.toml").path, "--base-url",
            "https://www.mofcom.gov.cn/list/",
            folder.appending(path: "page.html").path)
        #expect(parsed.status == 0, "\(parsed.errors)")
        #expect(parsed.output.contains(#""format":"html""#))
        #expect(parsed.output.contains(#""link":"https://www.mofcom.gov.cn/list/n46.shtml""#))
        #expect(parsed.output.contains(#""published":"2024-05-09T16:00:00Z""#))
    }
}

/// The files `scripts/install` puts in /etc/exportwatch, checked together.
@Suite("Installed configuration")
struct InstalledConfigurationTests {
    @Test("the shipped service configuration, with the default sources and topics beside it, is valid")
    func shippedConfiguration() async throws {
        let folder = try scratchFolder("ew-etc")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (from, to) in [
            ("systemd/exportwatch.toml", "exportwatch.toml"), ("feeds/sources.toml", "sources.toml"),
            ("feeds/topics.toml", "topics.toml"),
        ] {
            try FileManager.default.copyItem(
                at: CommandLineTests.repository.appending(path: from), to: folder.appending(path: to))
        }
        let run = try await CommandLineTests.exportwatch(
            "check-config", "--config", folder.appending(path: "exportwatch.toml").path)
        #expect(run.status == 0, "\(run.errors)")
        let sources =
            try String(contentsOf: folder.appending(path: "sources.toml"), encoding: .utf8)
            .components(separatedBy: "[[source]]").count - 1
        #expect(run.output.contains("valid (\(sources) sources, 0 webhooks, 10 topics"))
    }

    @Test(
        "sources import-opml prints [[source]] tables that check-config accepts, each feed once; export-opml lists the feeds"
    )
    func opml() async throws {
        let folder = try scratchFolder("ew-opml")
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        <opml version="1.0"><body>
        <outline text="BIS press" xmlUrl="https://www.bis.gov/rss.xml"/>
        <outline text="BIS press" xmlUrl="https://www.bis.gov/other.xml"/>
        <outline text="商务部" xmlUrl="http://www.mofcom.gov.cn/rss.xml"/>
        <outline text="Gopher" xmlUrl="gopher://example.org/feed"/>
        <outline text="Trade"><outline text="BIS again" xmlUrl="https://www.bis.gov/rss.xml"/></outline>
        </body></opml>
        """.write(to: folder.appending(path: "reader.opml"), atomically: true, encoding: .utf8)
        let imported = try await CommandLineTests.exportwatch(
            "sources", "import-opml", folder.appending(path: "reader.opml").path)
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("id = \"bis-press\"") && imported.output.contains("id = \"bis-press-2\""))
        #expect(imported.output.contains("id = \"www-mofcom-gov-cn\"") && imported.output.contains("# skipped Gopher"))
        #expect(
            imported.output.contains("# skipped BIS again: https://www.bis.gov/rss.xml is source \"bis-press\" already")
        )
        let config = folder.appending(path: "exportwatch.toml")
        try imported.output.write(to: config, atomically: true, encoding: .utf8)
        let check = try await CommandLineTests.exportwatch("check-config", "--config", config.path)
        #expect(check.status == 0 && check.output.contains("3 sources"), "\(check.errors)")
        let exported = try await CommandLineTests.exportwatch("sources", "export-opml", "--config", config.path)
        #expect(exported.output.contains("xmlUrl=\"https://www.bis.gov/other.xml\""))
    }

    @Test("an included file adds sources; an id used in two files is an error naming the file")
    func includes() async throws {
        let folder = try scratchFolder("ew-include")
        defer { try? FileManager.default.removeItem(at: folder) }
        try "[[source]]\nid = \"a\"\nurl = \"https://example.org/a\"\n".write(
            to: folder.appending(path: "more.toml"), atomically: true, encoding: .utf8)
        let main = folder.appending(path: "main.toml")
        try "include = [\"more.toml\"]\n[[source]]\nid = \"b\"\nurl = \"https://example.org/b\"\n".write(
            to: main, atomically: true, encoding: .utf8)
        let good = try await CommandLineTests.exportwatch("check-config", "--config", main.path)
        #expect(good.status == 0 && good.output.contains("2 sources"), "\(good.errors)")
        try "include = [\"more.toml\"]\n[[source]]\nid = \"a\"\nurl = \"https://example.org/b\"\n".write(
            to: main, atomically: true, encoding: .utf8)
        let duplicate = try await CommandLineTests.exportwatch("check-config", "--config", main.path)
        #expect(
            duplicate.status == 2 && duplicate.errors.contains("more.toml") && duplicate.errors.contains("used twice"))
    }
}

/// A fresh folder under the temporary directory for one test; the test removes it.
func scratchFolder(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(path: "\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

import Feeds
import Fetching
import Foundation
import Testing

@testable import Daemon

@Suite("Configuration")
struct ConfigurationTests {
    let loader = ConfigurationLoader(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/exportwatch.service"])

    func load(_ text: String, environment: [String: String]? = nil) throws(ConfigurationError) -> Configuration {
        var loader = self.loader
        if let environment { loader.environment = environment }
        return try loader.parse(text, fileName: "exportwatch.toml", folder: URL(filePath: "/etc/exportwatch/"))
    }

    /// The messages of a configuration that must fail, each as `file:line: …`.
    func errors(_ text: String, environment: [String: String]? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        -> [String]
    {
        do {
            _ = try load(text, environment: environment)
            Issue.record("expected the configuration to be rejected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test("the example configuration in feeds/ is valid")
    func exampleIsValid() throws {
        let example = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../feeds/example.toml")
        let configuration = try ConfigurationLoader(environment: [:]).load(path: example.standardizedFileURL.path)
        try #require(
            configuration.sources.map(\.id) == ["fr-bis", "congress-export-control-bills", "mfa-spokesperson"])
        #expect(configuration.sources[2].kind == .html)
        #expect(configuration.sources[2].html?.item == "//ul[@class='list1']/li")
        #expect(configuration.daemon.timeZone.identifier == "Asia/Shanghai")
        #expect(configuration.daemon.stateDirectory.path.hasSuffix("/state"))
        #expect(configuration.webhooks.first?.signingSecrets.count == 1)
    }

    @Test("the default sources in feeds/ are valid, their HTML rules compiled")
    func defaultSourcesAreValid() throws {
        let file = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../feeds/sources.toml")
        let configuration = try ConfigurationLoader(environment: [:]).load(path: file.standardizedFileURL.path)
        // What the daemon issue names: BIS in the Federal Register and its press releases, Commerce,
        // OFAC, congressional bills, MOFCOM, the MFA spokesperson, and news searches in both languages.
        let named: Set = [
            "fr-bis", "bis-press", "news-commerce-press", "fr-ofac", "govinfo-bills", "mofcom-policy-releases",
            "news-shangwubu-chukou-guanzhi", "mfa-spokesperson", "news-export-controls-ai-chips",
            "news-chukou-guanzhi-xinpian",
        ]
        #expect(named.subtracting(configuration.sources.map(\.id)).isEmpty)
        let html = configuration.sources.filter { $0.kind == .html }
        #expect(html.count >= 3)
        for source in html { #expect(throws: Never.self) { try source.html?.compiled() } }
        #expect(
            configuration.sources.first { $0.id == "mofcom-policy-releases" }?.timeZone?.identifier == "Asia/Shanghai")
    }

    @Test("a broken HTML rule is a configuration error at its line")
    func brokenHTMLRule() throws {
        let messages = errors(
            """
            [[source]]
            id = "mfa"
            url = "https://www.mfa.gov.cn/"
            kind = "html"
            date_format = "%Y年%m月%d日 %Q"
            [source.html]
            item = "ul.list1 >> li"
            title = "a"
            link = "a/@@href"
            """)
        try #require(messages.count == 3)
        #expect(messages[0].hasPrefix(#"exportwatch.toml:5: source "mfa": date_format: unsupported directive"#))
        #expect(messages[1].hasPrefix(#"exportwatch.toml:7: source "mfa": html: item: not a supported CSS selector"#))
        #expect(messages[2].hasPrefix(#"exportwatch.toml:9: source "mfa": html: link: not a valid XPath expression"#))
    }

    @Test("an empty file gives the documented defaults")
    func defaults() throws {
        let configuration = try load("")
        #expect(configuration.daemon.privateNetworks == .refuse)
        #expect(configuration.daemon.baselineNewSources == true)
        #expect(configuration.daemon.pollInterval == .seconds(900))
        #expect(configuration.daemon.maxConcurrent == 16)
        #expect(configuration.daemon.maxPerHost == 2)
        #expect(configuration.daemon.failureThreshold == 3)
        #expect(configuration.daemon.maxBodyBytes == 10 * 1024 * 1024)
        #expect(configuration.daemon.maxRedirects == 5)
        #expect(configuration.daemon.lowSpeedTime == .seconds(30) && configuration.daemon.lowSpeedLimit == 64)
        #expect(configuration.daemon.fetcherConfiguration.lowSpeedBytesPerSecond == 64)
        #expect(configuration.daemon.outboxRetention == .seconds(30 * 86_400))
        #expect(configuration.daemon.itemRetention == .seconds(730 * 86_400))
        #expect(configuration.digest.hour == 8 && configuration.digest.minute == 0)
        #expect(configuration.sources.isEmpty && configuration.webhooks.isEmpty)
    }

    @Test("item_retention is a duration from 30 days to ten years, or \"forever\"")
    func itemRetention() throws {
        #expect(try load("[daemon]\nitem_retention = \"400d\"").daemon.itemRetention == .seconds(400 * 86_400))
        #expect(try load("[daemon]\nitem_retention = \"forever\"").daemon.itemRetention == nil)
        #expect(
            errors("[daemon]\nitem_retention = \"7d\"") == [
                #"exportwatch.toml:2: daemon: item_retention: expected a duration from "30d" to "3650d", or "forever", found "7d""#
            ])
        #expect(
            errors("[daemon]\nitem_retention = 730") == [
                #"exportwatch.toml:2: daemon: item_retention: expected a duration from "30d" to "3650d", or "forever", found 730"#
            ])
    }

    @Test("a source's values are read and relative paths follow the file")
    func sourceValues() throws {
        let configuration = try load(
            """
            [daemon]
            state_dir = "state"
            poll_interval = "1h30m"
            max_body_size = "512KiB"

            [[source]]
            id = "mofcom"
            url = "https://www.mofcom.gov.cn/list.html"
            kind = "html"
            interval = "90s"
            headers = { "Accept-Language" = "zh-CN" }
            [source.html]
            item = "//li"
            title = "a"
            link = "a/@href"
            """)
        #expect(configuration.daemon.stateDirectory.path == "/etc/exportwatch/state")
        #expect(configuration.daemon.pollInterval == .seconds(5400))
        #expect(configuration.daemon.maxBodyBytes == 512 * 1024)
        let source = try #require(configuration.sources.first)
        #expect(source.interval == .seconds(90))
        #expect(source.headers == ["Accept-Language": "zh-CN"])
        #expect(source.html == HTMLRules(item: "//li", title: "a", link: "a/@href"))
    }

    @Test("a bad duration is named with its line, key and value")
    func badDuration() {
        let text = """
            [[source]]
            id = "fr-bis"
            url = "https://www.federalregister.gov/documents.rss"
            interval = "fast"
            """
        #expect(
            errors(text) == [
                #"exportwatch.toml:4: source "fr-bis": interval: expected a duration like "15m", found "fast""#
            ])
        #expect(
            errors("[daemon]\npoll_interval = 15") == [
                #"exportwatch.toml:2: daemon: poll_interval: expected a duration like "15m", found 15"#
            ])
        #expect(errors("[daemon]\npoll_interval = \"0s\"").count == 1)
        #expect(
            errors("[daemon]\nconnect_timeout = \"999999999d\"") == [
                #"exportwatch.toml:2: daemon: connect_timeout: expected at most "3650d" (ten years), found "999999999d""#
            ])
        #expect(
            errors("[daemon]\nmax_body_size = \"999999999999GiB\"") == [
                #"exportwatch.toml:2: daemon: max_body_size: expected a size like "10MiB" or a number of bytes, found "999999999999GiB""#
            ])
    }

    @Test("a poll interval under a minute is refused, for the daemon and for a source")
    func pollIntervalFloor() throws {
        #expect(
            errors("[daemon]\npoll_interval = \"59s\"") == [
                #"exportwatch.toml:2: daemon: poll_interval: expected at least "1m", found "59s"; a server is polled at most once a minute"#
            ])
        func source(interval: String) -> String {
            """
            [[source]]
            id = "fr-bis"
            url = "https://www.federalregister.gov/documents.rss"
            interval = "\(interval)"
            """
        }
        #expect(errors(source(interval: "500ms")).count == 1)
        #expect(try load(source(interval: "1m")).sources.first?.interval == .seconds(60))
    }

    @Test("an unknown time zone is an error at load, never a crash later")
    func unknownTimeZone() {
        #expect(
            errors("\n[daemon]\ntime_zone = \"Asia/Shanghia\"") == [
                #"exportwatch.toml:3: daemon: time_zone: expected an IANA time zone like "Asia/Shanghai" or "UTC", found "Asia/Shanghia""#
            ])
    }

    @Test(
        "only http and https URLs are sources",
        arguments: ["file:///etc/passwd", "ftp://example.org/feed", "gopher://x", "not a url", "https://"])
    func nonHTTPURL(url: String) {
        let messages = errors("[[source]]\nid = \"s\"\nurl = \"\(url)\"")
        #expect(messages.count == 1)
        #expect(
            messages.first?.hasPrefix("exportwatch.toml:3: source \"s\": url: expected an http or https URL") == true)
    }

    @Test(
        "a source id is ASCII letters, digits, '-', '_' and '.', starting with a letter or digit",
        arguments: [
            ("fr-bis", true), ("MOFCOM_2024.news", true), ("9to5", true), ("-dash", false), (".dot", false),
            ("has space", false), ("商务部", false), ("café", false), ("a/b", false), ("a@b", false), ("a[b", false),
            ("", false),
        ])
    func sourceIDs(id: String, valid: Bool) throws {
        let text = "[[source]]\nid = \"\(id)\"\nurl = \"https://example.org/feed\""
        if valid {
            #expect(try load(text).sources.map(\.id) == [id])
        } else {
            let messages = errors(text)
            #expect(messages.count == 1)
            #expect(messages.first?.contains("id: expected letters, digits, '-', '_' or '.'") == true)
        }
    }

    @Test("a source without a URL is reported at its table")
    func missingURL() {
        #expect(
            errors("[daemon]\n\n[[source]]\nid = \"s\"") == [
                #"exportwatch.toml:3: source "s": url: missing; every source needs the URL to poll"#
            ])
    }

    @Test("source ids and webhook ids must be unique")
    func duplicateIDs() {
        let text = """
            [[source]]
            id = "a"
            url = "https://example.org/1"
            [[source]]
            id = "a"
            url = "https://example.org/2"
            [[webhook]]
            id = "h"
            url = "https://hooks.example.org/1"
            [[webhook]]
            id = "h"
            url = "https://hooks.example.org/2"
            """
        #expect(
            errors(text) == [
                #"exportwatch.toml:5: source "a": id: already used by the source on line 2; ids must be unique"#,
                #"exportwatch.toml:11: webhook "h": id: already used by the webhook on line 8; ids must be unique"#,
            ])
    }

    @Test("two sources of one URL are valid, with a warning naming both; no sources at all warns too")
    func warnings() throws {
        let configuration = try load(
            """
            [[source]]
            id = "bis"
            url = "https://www.bis.gov/rss.xml"
            [[source]]
            id = "mofcom"
            url = "http://www.mofcom.gov.cn/rss.xml"
            [[source]]
            id = "bis-press"
            url = "https://www.bis.gov/rss.xml"
            """)
        #expect(configuration.sources.count == 3)
        #expect(
            configuration.warnings == [
                #"source "bis-press": url: the same as source "bis"'s; https://www.bis.gov/rss.xml would be polled twice and its items stored twice (remove one of them)"#
            ])
        #expect(try load("[daemon]\n").warnings.first?.hasPrefix("no sources configured") == true)
        #expect(try load("[[source]]\nid = \"a\"\nurl = \"https://example.org/a\"").warnings == [])
    }

    @Test("a webhook's topics must be topics the daemon has: a typo would silence it")
    func webhookTopicsExist() throws {
        let text = """
            [[webhook]]
            id = "chips"
            url = "https://hooks.example.org/1"
            topics = ["chip-control", "entity-list-sanctions"]
            """
        // A folder with no topics.toml beside the file: the built-in topics.
        let path = FileManager.default.temporaryDirectory.appending(path: "ew-\(UUID().uuidString)/exportwatch.toml")
            .path
        let error = #expect(throws: ConfigurationError.self) {
            try loader.topics(for: try load(text), configurationPath: path)
        }
        #expect(
            error?.description
                == #"\#(path): webhook "chips": topics: no topic "chip-control" in the built-in topics (did you mean "chip-controls"?); it would never be sent anything"#
        )
        let fixed = try load(text.replacingOccurrences(of: "chip-control\"", with: "chip-controls\""))
        #expect(try loader.topics(for: fixed, configurationPath: path).count == 10)
    }

    @Test("an html source must carry its rules, and a feed must not")
    func htmlRules() {
        #expect(
            errors("[[source]]\nid = \"p\"\nurl = \"https://example.org/\"\nkind = \"html\"") == [
                #"exportwatch.toml:4: source "p": kind: an html source needs html = { item = …, title = …, link = … } rules"#
            ])
        #expect(
            errors(
                "[[source]]\nid = \"p\"\nurl = \"https://example.org/\"\nkind = \"html\"\nhtml = { item = \"//li\", title = \"a\" }"
            )
                == [#"exportwatch.toml:5: source "p": html: link: missing; html rules need item, title and link"#])
        #expect(
            errors(
                "[[source]]\nid = \"p\"\nurl = \"https://example.org/\"\nhtml = { item = \"//li\", title = \"a\", link = \"a/@href\" }"
            )
                == [#"exportwatch.toml:4: source "p": html: rules are only for kind = "html" sources"#])
        #expect(
            errors("[[source]]\nid = \"p\"\nurl = \"https://example.org/\"\nkind = \"rss\"").first?.contains(
                #"kind: expected one of "feed", "html", found "rss""#) == true)
    }

    @Test("a webhook takes its URL from exactly one of url, url_env and url_file")
    func webhookURLSources() throws {
        #expect(
            errors("[[webhook]]\nid = \"h\"") == [
                #"exportwatch.toml:1: webhook "h": needs one of url, url_env or url_file"#
            ])
        #expect(
            errors("[[webhook]]\nid = \"h\"\nurl = \"https://a.example/x\"\nurl_file = \"/x\"") == [
                #"exportwatch.toml:4: webhook "h": url_file: give only one of url, url_env or url_file, found url and url_file"#
            ])
        let fromEnvironment = try load(
            "[[webhook]]\nid = \"h\"\nurl_env = \"SLACK_URL\"",
            environment: ["SLACK_URL": "https://hooks.slack.com/services/T0/B0/secret"])
        #expect(fromEnvironment.webhooks.first?.url.revealed == "https://hooks.slack.com/services/T0/B0/secret")
        #expect(
            errors("[[webhook]]\nid = \"h\"\nurl_env = \"SLACK_URL\"", environment: [:]) == [
                #"exportwatch.toml:3: webhook "h": url_env: the environment variable SLACK_URL is not set"#
            ])
    }

    @Test("${CREDENTIALS_DIRECTORY} is expanded in *_file values and the credential is read")
    func credentialsDirectory() throws {
        let credentials = FileManager.default.temporaryDirectory.appending(path: "ew-credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: credentials) }
        try "https://hooks.example.org/T123/token\n".write(
            to: credentials.appending(path: "slack-url"), atomically: true, encoding: .utf8)
        try "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nwhsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=\n".write(
            to: credentials.appending(path: "hook-secret"), atomically: true, encoding: .utf8)
        let text = """
            [[webhook]]
            id = "slack"
            format = "slack"
            url_file = "${CREDENTIALS_DIRECTORY}/slack-url"
            signing_secret_file = "${CREDENTIALS_DIRECTORY}/hook-secret"
            """
        let configuration = try load(text, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        let webhook = try #require(configuration.webhooks.first)
        #expect(webhook.url.revealed == "https://hooks.example.org/T123/token")
        #expect(webhook.signingSecrets.count == 2)

        let unset = errors(text, environment: [:])
        #expect(unset.count == 2)
        #expect(
            unset.first?.hasPrefix(
                #"exportwatch.toml:4: webhook "slack": url_file: ${CREDENTIALS_DIRECTORY} is not set"#) == true)
        let missingFile = errors(
            text, environment: ["CREDENTIALS_DIRECTORY": credentials.appending(path: "nowhere").path])
        #expect(missingFile.first?.contains("url_file: cannot read \(credentials.path)/nowhere/slack-url") == true)
    }

    @Test("secrets never appear in messages or descriptions")
    func secretsStayHidden() throws {
        let messages = errors(
            """
            [[webhook]]
            id = "h"
            url = "ftp://user:hunter2@hooks.example.org/"
            signing_secret = "hunter2-not-whsec"
            """)
        #expect(messages.count == 2)
        #expect(!messages.joined().contains("hunter2"))
        let configuration = try load("[[webhook]]\nid = \"h\"\nurl = \"https://hooks.example.org/T/hunter2\"")
        #expect(!"\(configuration)".contains("hunter2"))
        #expect(!String(reflecting: configuration).contains("hunter2"))
    }

    @Test("allow_private_networks is a boolean or a list of networks; baseline_new_sources a boolean")
    func privateNetworksAndBaseline() throws {
        let configuration = try load("[daemon]\nallow_private_networks = true\nbaseline_new_sources = false")
        #expect(configuration.daemon.privateNetworks == .allowAll && !configuration.daemon.baselineNewSources)
        let narrow = try load("[daemon]\nallow_private_networks = [\"10.1.0.0/16\", \"fd00::/8\"]")
        #expect(narrow.daemon.privateNetworks == .allow([IPNetwork("10.1.0.0/16")!, IPNetwork("fd00::/8")!]))
        #expect(narrow.daemon.fetcherConfiguration.privateNetworks == narrow.daemon.privateNetworks)
        #expect(
            errors("[daemon]\nallow_private_networks = \"yes\"") == [
                #"exportwatch.toml:2: daemon: allow_private_networks: expected true, false or a list of networks like ["10.1.0.0/16"], found "yes""#
            ])
        // A list with something other than a string in it: one message, at the line of the key.
        #expect(
            errors("[daemon]\nallow_private_networks = [\n  \"10.0.0.0/8\",\n  42,\n]") == [
                #"exportwatch.toml:2: daemon: allow_private_networks: expected an array of strings, found an array"#
            ])
        #expect(
            errors("[daemon]\nallow_private_networks = [\"10.1.0.0/40\"]") == [
                #"exportwatch.toml:2: daemon: allow_private_networks: expected a network like "10.1.0.0/16" or "fd00::/8", found "10.1.0.0/40""#
            ])
        #expect(
            errors("[daemon]\nbaseline_new_sources = 1") == [
                #"exportwatch.toml:2: daemon: baseline_new_sources: expected true or false, found 1"#
            ])
    }

    @Test("unknown keys and tables are reported, with a suggestion for typos")
    func unknownKeys() {
        #expect(
            errors("[daemon]\nmax_concurent = 4") == [
                #"exportwatch.toml:2: daemon: unknown key "max_concurent" (did you mean "max_concurrent"?)"#
            ])
        #expect(
            errors("[sources]\nx = 1") == [#"exportwatch.toml:1: unknown table "sources" (did you mean "source"?)"#])
    }

    @Test("a syntax error is reported with its line")
    func syntaxError() {
        let messages = errors("[daemon]\nstate_dir = \"/var/lib\"\npoll_interval = \"15m\nmax_concurrent = 4")
        #expect(messages.count == 1)
        #expect(messages.first?.hasPrefix("exportwatch.toml:3: syntax error") == true)
    }

    @Test("every mistake in a file is reported at once, in line order")
    func allErrorsAtOnce() {
        let messages = errors(
            """
            [daemon]
            time_zone = "Nowhere/Special"
            max_per_host = 0

            [digest]
            at = "8am"

            [[source]]
            id = "fr bis"
            url = "https://example.org/"
            """)
        #expect(messages.map { $0.split(separator: ":").dropFirst().first.map(String.init) } == ["2", "3", "6", "9"])
    }

    @Test("the file is --config, else $EXPORTWATCH_CONFIG, else /etc/exportwatch/exportwatch.toml")
    func configurationPath() {
        let withVariable = ConfigurationLoader(environment: ["EXPORTWATCH_CONFIG": "/srv/ew.toml"])
        #expect(withVariable.configurationPath(explicit: "local.toml") == "local.toml")
        #expect(withVariable.configurationPath(explicit: nil) == "/srv/ew.toml")
        #expect(
            ConfigurationLoader(environment: [:]).configurationPath(explicit: nil)
                == "/etc/exportwatch/exportwatch.toml")
    }

    @Test("a missing file is one clear error")
    func missingFile() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:]).load(path: "/nonexistent/ew.toml")
        }
    }
}

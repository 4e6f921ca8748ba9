public import Classification
internal import Dedup
internal import Delivery
public import Feeds
internal import Fetching
public import Foundation
internal import TOML

/// Reads a configuration file, with the environment it refers to, into a validated ``Configuration``.
///
/// This is the one place that reads the file, the `${…}` variables and the credential files a
/// configuration names; everything past it works on plain values. Every mistake in a file is
/// reported at once, each with its line.
public struct ConfigurationLoader: Sendable {
    /// The configuration file used when neither `--config` nor ``pathVariable`` names one.
    public static let defaultPath = "/etc/exportwatch/exportwatch.toml"
    /// The environment variable that names the configuration file.
    public static let pathVariable = "EXPORTWATCH_CONFIG"

    /// The environment `${NAME}` references and `url_env` are read from.
    public var environment: [String: String]

    /// Creates a loader reading the given environment.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The configuration file to read: `explicit` (from `--config`), else `$EXPORTWATCH_CONFIG`,
    /// else ``defaultPath``.
    public func configurationPath(explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[Self.pathVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return Self.defaultPath
    }

    /// Reads and validates the configuration file at `path`.
    ///
    /// Relative paths inside the file are taken relative to the file's folder.
    /// - Throws: ``ConfigurationError`` with every mistake found, each as `path:line: …`.
    public func load(path: String) throws(ConfigurationError) -> Configuration {
        try parse(Self.readText(path), fileName: path, folder: URL(filePath: path).deletingLastPathComponent())
    }

    /// The topics file a configuration uses: its `topics_file`, else `topics.toml` beside it; nil
    /// when neither exists (the daemon then has no topics to classify with).
    public func topicsPath(for configuration: Configuration, configurationPath: String) -> String? {
        if let explicit = configuration.daemon.topicsFile { return explicit.path }
        let folder = (configurationPath as NSString).deletingLastPathComponent
        let beside = folder.isEmpty ? "topics.toml" : folder + "/topics.toml"
        return FileManager.default.fileExists(atPath: beside) ? beside : nil
    }

    /// Reads and validates a topics file (`feeds/topics.toml`): unknown keys, weights and
    /// thresholds outside 0…1, empty groups, duplicate ids, and a term given twice in one topic
    /// (after normalization) are errors, each with its line.
    /// - Throws: ``ConfigurationError`` with every mistake.
    public func loadTopics(path: String) throws(ConfigurationError) -> [Topic] {
        try parseTopics(Self.readText(path), fileName: path)
    }

    /// The topics built into exportwatch (a copy of `feeds/topics.toml`), for a configuration that
    /// names no topics file and has none beside it.
    public func builtInTopics() -> [Topic] {
        // The built-in copy is checked by the tests; it cannot fail to load.
        (try? parseTopics(BuiltInTopics.text, fileName: "built-in topics.toml")) ?? []
    }

    /// ``loadTopics(path:)`` for text in hand.
    public func parseTopics(_ text: String, fileName: String) throws(ConfigurationError) -> [Topic] {
        try read(text, fileName: fileName, folder: URL(filePath: fileName).deletingLastPathComponent()) {
            $0.readTopics($1)
        }
    }

    /// Reads a file of HTML rules, for `exportwatch parse --html-rules`: the keys of a source's
    /// `html` table (`item`, `title`, `link`, `date`, `summary`, `id`) and its `date_format` and
    /// `time_zone`, at the top level.
    /// - Throws: ``ConfigurationError`` with every mistake, as for a configuration.
    public func loadHTMLRules(path: String) throws(ConfigurationError) -> (rules: HTMLRules, timeZone: TimeZone?) {
        try read(Self.readText(path), fileName: path, folder: URL(filePath: path).deletingLastPathComponent()) {
            $0.readRulesFile($1)
        }
    }

    /// Validates a configuration given as text.
    ///
    /// - Parameters:
    ///   - text: the TOML document.
    ///   - fileName: the name used in messages.
    ///   - folder: the folder relative paths are resolved against.
    /// - Throws: ``ConfigurationError`` with every mistake found.
    public func parse(_ text: String, fileName: String, folder: URL) throws(ConfigurationError) -> Configuration {
        var configuration = try read(text, fileName: fileName, folder: folder) { $0.read($1) }
        // `include = ["sources.toml"]`: each file adds its [[source]] and [[webhook]] tables.
        var issues: [ConfigurationIssue] = []
        for file in configuration.includedFiles {
            do {
                let (sources, webhooks) = try read(
                    try Self.readText(file.path), fileName: file.path, folder: file.deletingLastPathComponent()
                ) { $0.readIncluded($1) }
                for source in sources where configuration.sources.contains(where: { $0.id == source.id }) {
                    issues.append(
                        .init(file: file.path, line: nil, message: "source \"\(source.id)\": the id is used twice"))
                }
                for webhook in webhooks where configuration.webhooks.contains(where: { $0.id == webhook.id }) {
                    issues.append(
                        .init(file: file.path, line: nil, message: "webhook \"\(webhook.id)\": the id is used twice"))
                }
                configuration.sources += sources
                configuration.webhooks += webhooks
            } catch {
                issues += error.issues
            }
        }
        if !issues.isEmpty { throw ConfigurationError(issues: issues) }
        return configuration
    }

    /// The most a configuration, included or topics file may hold (16 MiB: a thousand sources
    /// take ~70 KB).
    static let maxFileBytes = 16 << 20

    /// A file's text, or the one error saying why it cannot be read.
    private static func readText(_ path: String) throws(ConfigurationError) -> String {
        do {
            return try BoundedFile.text(atPath: path, limit: maxFileBytes)
        } catch {
            throw ConfigurationError(issues: [.init(file: path, line: nil, message: "cannot read: \(error)")])
        }
    }

    /// Parses TOML text and hands its root table to `body`, which reports mistakes into the
    /// reader's log; throws every mistake at once, in line order, or the syntax error that stopped
    /// the parse.
    private func read<Result>(
        _ text: String, fileName: String, folder: URL, _ body: (ConfigurationReader, TOMLTable) -> Result?
    ) throws(ConfigurationError) -> Result {
        let root: TOMLTable
        do {
            root = try TOMLDocument.parse(text)
        } catch {
            throw ConfigurationError(issues: [
                .init(
                    file: fileName, line: error.line, message: "syntax error: \(error.message) (column \(error.column))"
                )
            ])
        }
        let log = IssueLog(file: fileName)
        let result = body(ConfigurationReader(log: log, environment: environment, folder: folder), root)
        guard log.issues.isEmpty, let result else {
            throw ConfigurationError(issues: log.issues.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        return result
    }
}

/// Collects the issues of one file while it is read.
private final class IssueLog {
    let file: String
    var issues: [ConfigurationIssue] = []

    init(file: String) {
        self.file = file
    }

    /// An issue on `line` (nil: the file as a whole).
    func add(line: Int?, _ message: String) {
        issues.append(ConfigurationIssue(file: file, line: line, message: message))
    }
}

/// Reads the values of one TOML table, reporting each mistake with the line of its key.
private struct TableReader {
    let table: TOMLTable
    /// How messages name the table: `daemon: `, `source "fr-bis": `.
    let label: String
    let log: IssueLog

    /// Reports a mistake in the value of `key`, at its line, or in the table itself, at its start.
    func report(_ key: String?, _ message: String) {
        log.add(line: line(of: key), label + (key.map { "\($0): " } ?? "") + message)
    }

    /// The line of `key`, or where the table begins.
    func line(of key: String?) -> Int? {
        key.flatMap(table.line(of:)) ?? table.line
    }

    func has(_ key: String) -> Bool { table[key] != nil }

    /// Reports every key not in `known`, with the closest known key when it looks like a typo.
    func rejectUnknownKeys(known: [String]) {
        for key in table.keys where !known.contains(key) {
            let hint = ConfigValues.suggestion(for: key, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
            log.add(line: line(of: key), "\(label)unknown key \"\(key)\"\(hint)")
        }
    }

    func string(_ key: String, secret: Bool = false) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else {
            report(key, "expected a string, found \(Self.describe(value, secret: secret))")
            return nil
        }
        return string
    }

    func bool(_ key: String) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.boolean else {
            report(key, "expected true or false, found \(Self.describe(value))")
            return nil
        }
        return bool
    }

    func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = table[key] else { return nil }
        guard let int = value.integer, range.contains(int) else {
            report(
                key,
                "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(Self.describe(value))"
            )
            return nil
        }
        return int
    }

    func number(_ key: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = table[key] else { return nil }
        let number = value.integer.map(Double.init) ?? value.float
        guard let number, range.contains(number) else {
            report(
                key, "expected a number from \(range.lowerBound) to \(range.upperBound), found \(Self.describe(value))")
            return nil
        }
        return number
    }

    func duration(_ key: String) -> Duration? {
        guard let value = table[key] else { return nil }
        guard let text = value.string, let duration = ConfigValues.duration(text), duration > .zero else {
            report(key, "expected a duration like \"15m\", found \(Self.describe(value))")
            return nil
        }
        // Every duration key means hours or days; a longer one is a typo, and a timeout of
        // thousands of years would overflow libcurl's milliseconds when the daemon starts.
        guard duration <= Self.longestDuration else {
            report(key, "expected at most \"3650d\" (ten years), found \(Self.describe(value))")
            return nil
        }
        return duration
    }

    /// The longest duration any key takes.
    private static let longestDuration: Duration = .seconds(3650 * 86400)

    /// A poll interval: a duration of at least a minute. Polling a publisher's server more often
    /// than that learns nothing sooner from feeds that change a few times a day, and gets a
    /// client blocked.
    func pollInterval(_ key: String) -> Duration? {
        guard let interval = duration(key) else { return nil }
        guard interval >= .seconds(60) else {
            report(
                key,
                "expected at least \"1m\", found \(Self.describe(table[key]!)); a server is polled at most once a minute"
            )
            return nil
        }
        return interval
    }

    func byteSize(_ key: String) -> Int? {
        guard let value = table[key] else { return nil }
        let size = value.integer ?? value.string.flatMap(ConfigValues.byteSize)
        guard let size, size > 0 else {
            report(key, "expected a size like \"10MiB\" or a number of bytes, found \(Self.describe(value))")
            return nil
        }
        return size
    }

    func strings(_ key: String) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array, let strings = Optional(array.compactMap(\.string)),
            strings.count == array.count
        else {
            report(key, "expected an array of strings, found \(Self.describe(value))")
            return nil
        }
        return strings
    }

    /// A choice among the raw values of `T`.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            let options = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            report(key, "expected one of \(options), found \"\(text)\"")
            return nil
        }
        return choice
    }

    /// An `http` or `https` URL with a host.
    func httpURL(_ key: String) -> URL? {
        guard let text = string(key) else { return nil }
        guard let url = Self.httpURL(from: text) else {
            report(key, "expected an http or https URL, found \"\(text)\"")
            return nil
        }
        return url
    }

    /// `text` as an http or https URL with a host. One parse: `URL(string:)` accepts and encodes
    /// as `URLComponents(string:)` and its `url` do, which parsed twice (a fifth of the time that
    /// loading a thousand sources took).
    static func httpURL(from text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host(), !host.isEmpty
        else { return nil }
        return url
    }

    func subtable(_ key: String, label: String) -> TableReader? {
        guard let value = table[key] else { return nil }
        guard let subtable = value.table else {
            report(key, "expected a table, found \(Self.describe(value))")
            return nil
        }
        return TableReader(table: subtable, label: self.label + label, log: log)
    }

    static func describe(_ value: TOMLValue, secret: Bool = false) -> String {
        switch value {
        case .string(let string): secret ? "a string" : "\"\(string)\""
        case .integer(let integer): "\(integer)"
        case .float(let float): "\(float)"
        case .boolean(let boolean): "\(boolean)"
        case .table: "a table"
        case .array: "an array"
        case .dateTime: "a date or time"
        }
    }
}

/// Turns the document's tables into a ``Configuration``, collecting every mistake.
private struct ConfigurationReader {
    let log: IssueLog
    let environment: [String: String]
    let folder: URL

    func read(_ root: TOMLTable) -> Configuration {
        var configuration = Configuration()
        let top = TableReader(table: root, label: "", log: log)
        let tables = ["daemon", "digest", "metrics", "source", "webhook", "include"]
        for key in root.keys where !tables.contains(key) {
            let hint =
                ConfigValues.suggestion(for: key, among: tables)
                .map { " (did you mean \"\($0)\"?)" } ?? ""
            log.add(line: root.line(of: key), "unknown table \"\(key)\"\(hint)")
        }
        if let daemon = top.subtable("daemon", label: "daemon: ") {
            configuration.daemon = readDaemon(daemon)
        }
        if let digest = top.subtable("digest", label: "digest: ") {
            configuration.digest = readDigest(digest)
        }
        if let metrics = top.subtable("metrics", label: "metrics: ") {
            metrics.rejectUnknownKeys(known: ["listen"])
            if let listen = metrics.string("listen") {
                if let address = MetricsSettings.Address(listen) {
                    configuration.metrics.listen = address
                } else {
                    metrics.report(
                        "listen",
                        "expected an address and port like \"127.0.0.1:9464\" or \"[::1]:9464\", found \"\(listen)\"")
                }
            }
        }
        configuration.sources = readArray(root, key: "source", label: "source") { readSource($0) }
        configuration.webhooks = readArray(root, key: "webhook", label: "webhook") { readWebhook($0) }
        rejectDuplicateIDs(in: root, key: "source")
        rejectDuplicateIDs(in: root, key: "webhook")
        if let paths = top.strings("include") {
            configuration.includedFiles = paths.compactMap { path in
                let (expanded, missing) = ConfigValues.expandVariables(path, environment: environment)
                for name in missing { top.report("include", "${\(name)} is not set") }
                guard missing.isEmpty else { return nil }
                let url = resolve(expanded, directory: false)
                if !FileManager.default.fileExists(atPath: url.path) {
                    top.report("include", "\(url.path) does not exist")
                    return nil
                }
                return url
            }
        }
        return configuration
    }

    /// An included file: only `[[source]]` and `[[webhook]]` tables.
    func readIncluded(_ root: TOMLTable) -> ([SourceSettings], [WebhookSettings]) {
        for key in root.keys where !["source", "webhook"].contains(key) {
            log.add(
                line: root.line(of: key),
                "an included file holds only [[source]] and [[webhook]] tables, found \"\(key)\"")
        }
        let sources = readArray(root, key: "source", label: "source") { readSource($0) }
        let webhooks = readArray(root, key: "webhook", label: "webhook") { readWebhook($0) }
        rejectDuplicateIDs(in: root, key: "source")
        rejectDuplicateIDs(in: root, key: "webhook")
        return (sources, webhooks)
    }

    private func readArray<T>(
        _ root: TOMLTable, key: String, label: String, _ element: (TableReader) -> T?
    ) -> [T] {
        guard let value = root[key] else { return [] }
        guard let array = value.array else {
            log.add(
                line: root.line(of: key), "\(key): expected [[\(key)]] tables, found \(TableReader.describe(value))")
            return []
        }
        var result: [T] = []
        for (index, entry) in array.enumerated() {
            guard let table = entry.table else {
                log.add(line: root.line(of: key), "\(key) #\(index + 1): expected a table")
                continue
            }
            let id = table["id"]?.string
            let name = id.map { "\(label) \"\($0)\": " } ?? "\(label) #\(index + 1): "
            if let value = element(TableReader(table: table, label: name, log: log)) {
                result.append(value)
            }
        }
        return result
    }

    /// Reports every entry whose id an earlier entry already has, whether or not either is otherwise valid.
    private func rejectDuplicateIDs(in root: TOMLTable, key: String) {
        let tables = root[key]?.array?.map(\.table) ?? []
        let ids = tables.map { $0?["id"]?.string }
        var seen: Set<String> = []
        for (index, id) in ids.enumerated() {
            guard let id, !seen.insert(id).inserted else { continue }
            let first = tables[ids.firstIndex(of: id)!]
            let firstLine = first?.line(of: "id").map { " on line \($0)" } ?? ""
            log.add(
                line: tables[index]?.line(of: "id") ?? tables[index]?.line,
                "\(key) \"\(id)\": id: already used by the \(key)\(firstLine); ids must be unique")
        }
    }

    private func readDaemon(_ table: TableReader) -> DaemonSettings {
        table.rejectUnknownKeys(known: [
            "state_dir", "digest_dir", "time_zone", "poll_interval", "topics_file", "max_concurrent", "max_per_host",
            "failure_threshold", "allow_private_networks", "baseline_new_sources", "user_agent", "connect_timeout",
            "request_timeout", "low_speed_time", "low_speed_limit", "max_body_size", "max_redirects",
            "max_items_per_feed", "outbox_retention", "item_retention",
        ])
        var settings = DaemonSettings()
        if let path = table.string("state_dir") { settings.stateDirectory = resolve(path, directory: true) }
        if let path = table.string("digest_dir") { settings.digestDirectory = resolve(path, directory: true) }
        if let timeZone = readTimeZone(table) { settings.timeZone = timeZone }
        if let interval = table.pollInterval("poll_interval") { settings.pollInterval = interval }
        if let path = table.string("topics_file") { settings.topicsFile = expandFile(table, "topics_file", path) }
        if let value = table.int("max_concurrent", in: 1...1000) { settings.maxConcurrent = value }
        if let value = table.int("max_per_host", in: 1...100) { settings.maxPerHost = value }
        if settings.maxPerHost > settings.maxConcurrent {
            table.report(
                "max_per_host",
                "must not exceed max_concurrent (\(settings.maxConcurrent)), found \(settings.maxPerHost)")
        }
        if let value = table.int("failure_threshold", in: 1...100) { settings.failureThreshold = value }
        if let policy = readPrivateNetworks(table) { settings.privateNetworks = policy }
        if let value = table.bool("baseline_new_sources") { settings.baselineNewSources = value }
        if let agent = table.string("user_agent") {
            if agent.isEmpty || agent.contains(where: \.isNewline) {
                table.report("user_agent", "expected a non-empty single line")
            } else {
                settings.userAgent = agent
            }
        }
        if let value = table.duration("connect_timeout") { settings.connectTimeout = value }
        if let value = table.duration("request_timeout") { settings.requestTimeout = value }
        if let value = table.duration("low_speed_time") { settings.lowSpeedTime = value }
        if let value = table.int("low_speed_limit", in: 1...100_000_000) { settings.lowSpeedLimit = value }
        if let value = table.byteSize("max_body_size") { settings.maxBodyBytes = value }
        if let value = table.int("max_redirects", in: 0...20) { settings.maxRedirects = value }
        if let value = table.int("max_items_per_feed", in: 1...100_000) { settings.maxItemsPerFeed = value }
        if let value = table.duration("outbox_retention") { settings.outboxRetention = value }
        if let value = table.table["item_retention"] {
            // At least a month: the digest's two weeks and story matching read the last weeks' items.
            if value.string == "forever" {
                settings.itemRetention = nil
            } else if let duration = value.string.flatMap(ConfigValues.duration),
                (.seconds(30 * 86_400)...Duration.seconds(3650 * 86_400)).contains(duration)
            {
                settings.itemRetention = duration
            } else {
                table.report(
                    "item_retention",
                    "expected a duration from \"30d\" to \"3650d\", or \"forever\", found \(TableReader.describe(value))"
                )
            }
        }
        return settings
    }

    /// `time_zone`: an IANA zone name; an unknown one is an error now, never a crash later.
    private func readTimeZone(_ table: TableReader) -> TimeZone? {
        guard let zone = table.string("time_zone") else { return nil }
        guard let timeZone = TimeZone(identifier: zone), zone.contains("/") || zone == "UTC" else {
            table.report("time_zone", "expected an IANA time zone like \"Asia/Shanghai\" or \"UTC\", found \"\(zone)\"")
            return nil
        }
        return timeZone
    }

    /// `allow_private_networks`: `true`, `false`, or a list of networks in CIDR form.
    private func readPrivateNetworks(_ table: TableReader) -> PrivateNetworkPolicy? {
        guard let value = table.table["allow_private_networks"] else { return nil }
        if value.kind == .boolean { return table.bool("allow_private_networks").map { $0 ? .allowAll : .refuse } }
        guard value.kind == .array else {
            table.report(
                "allow_private_networks",
                "expected true, false or a list of networks like [\"10.1.0.0/16\"], found \(TableReader.describe(value))"
            )
            return nil
        }
        // A list that is not all strings is reported once, by strings(_:).
        guard let list = table.strings("allow_private_networks") else { return nil }
        var networks: [IPNetwork] = []
        for text in list {
            guard let network = IPNetwork(text) else {
                table.report(
                    "allow_private_networks",
                    "expected a network like \"10.1.0.0/16\" or \"fd00::/8\", found \"\(text)\"")
                continue
            }
            networks.append(network)
        }
        return .allow(networks)
    }

    private func readDigest(_ table: TableReader) -> DigestSettings {
        table.rejectUnknownKeys(known: ["at", "formats", "atom_feed"])
        var settings = DigestSettings()
        if let at = table.string("at") {
            if let time = ConfigValues.timeOfDay(at) {
                (settings.hour, settings.minute) = time
            } else {
                table.report("at", "expected a 24-hour time like \"08:00\", found \"\(at)\"")
            }
        }
        if let formats = table.strings("formats") {
            var chosen: [DigestSettings.Format] = []
            for name in formats {
                if let format = DigestSettings.Format(rawValue: name) {
                    if !chosen.contains(format) { chosen.append(format) }
                } else {
                    table.report("formats", "expected \"md\", \"html\" or \"json\", found \"\(name)\"")
                }
            }
            settings.formats = chosen
        }
        if let value = table.bool("atom_feed") { settings.atomFeed = value }
        return settings
    }

    private func readSource(_ table: TableReader) -> SourceSettings? {
        table.rejectUnknownKeys(known: [
            "id", "url", "kind", "interval", "headers", "html", "date_format", "time_zone", "identity",
        ])
        let id = readID(table)
        let url = table.httpURL("url")
        if !table.has("url") { table.report(nil, "url: missing; every source needs the URL to poll") }
        let kind = table.choice("kind", of: SourceSettings.Kind.self) ?? .feed
        let interval = table.pollInterval("interval")
        var headers: [String: String] = [:]
        if let headerTable = table.subtable("headers", label: "headers: ") {
            for name in headerTable.table.keys {
                guard let value = headerTable.string(name) else { continue }
                if !Self.isHeaderName(name) {
                    headerTable.report(name, "not a valid HTTP header name")
                } else if value.contains(where: { $0 == "\r" || $0 == "\n" }) {
                    headerTable.report(name, "a header value must be a single line")
                } else {
                    headers[name] = value
                }
            }
        }
        var html: HTMLRules?
        let dateFormat = table.string("date_format")
        if let rules = table.subtable("html", label: "html: ") {
            html = readHTMLRules(rules, dateFormat: dateFormat)
            if kind != .html { table.report("html", "rules are only for kind = \"html\" sources") }
        } else if kind == .html, !table.has("html") {
            table.report("kind", "an html source needs html = { item = …, title = …, link = … } rules")
        }
        if dateFormat != nil, kind != .html { table.report("date_format", "only for kind = \"html\" sources") }
        if let format = dateFormat, kind == .html, !HTMLRules.isValidDateFormat(format) {
            table.report("date_format", "unsupported directive in \"\(format)\" (use %Y %y %m %d %e %H %M %S %b %B)")
            html = nil
        }
        let timeZone = readTimeZone(table)
        let identity = table.choice("identity", of: IdentityPolicy.self) ?? .auto
        guard let id, let url else { return nil }
        if kind == .html, html == nil { return nil }
        return SourceSettings(
            id: id, url: url, kind: kind, interval: interval, headers: headers, html: html, timeZone: timeZone,
            identity: identity)
    }

    func readTopics(_ root: TOMLTable) -> [Topic] {
        for key in root.keys where key != "topic" {
            log.add(line: root.line(of: key), "unknown key \"\(key)\" (a topics file holds [[topic]] tables)")
        }
        let topics = readArray(root, key: "topic", label: "topic") { table -> Topic? in
            table.rejectUnknownKeys(known: [
                "id", "name", "threshold", "terms", "require", "exclude", "identifier_weights",
            ])
            let id = readID(table)
            let name = table.string("name") ?? id ?? ""
            let threshold = table.number("threshold", in: 0...1) ?? 0.5
            var terms: [Topic.Term] = []
            var seen: [String: (String, Double)] = [:]
            if let termTable = table.subtable("terms", label: "terms: ") {
                for key in termTable.table.keys {
                    guard let weight = termTable.number(key, in: 0...1) else { continue }
                    let normalized = TextNormalizer.normalize(key)
                    if let (earlier, earlierWeight) = seen[normalized] {
                        if earlierWeight != weight {
                            termTable.report(
                                key,
                                "the same term as \"\(earlier)\" after normalization, with another weight (\(earlierWeight))"
                            )
                        }
                        continue
                    }
                    seen[normalized] = (key, weight)
                    terms.append(Topic.Term(key, weight: weight))
                }
            } else if !table.has("terms") {
                table.report(nil, "terms: missing; a topic needs weighted terms")
            }
            var groups: [Topic.Group] = []
            if let value = table.table["require"] {
                if let array = value.array {
                    for (index, entry) in array.enumerated() {
                        guard let groupTable = entry.table else { continue }
                        let group = TableReader(table: groupTable, label: table.label + "require: ", log: log)
                        group.rejectUnknownKeys(known: ["name", "terms", "identifiers"])
                        let groupTerms = group.strings("terms") ?? []
                        if groupTerms.isEmpty { group.report("terms", "a group needs at least one term") }
                        groups.append(
                            Topic.Group(
                                name: group.string("name") ?? "group \(index + 1)", terms: groupTerms,
                                identifiersCount: group.bool("identifiers") ?? false))
                    }
                } else {
                    table.report("require", "expected [[topic.require]] tables")
                }
            }
            let exclusions = table.strings("exclude") ?? []
            var identifierWeights: [RegulatoryIdentifier.Kind: Double] = [:]
            if let weightsTable = table.subtable("identifier_weights", label: "identifier_weights: ") {
                for key in weightsTable.table.keys {
                    guard let kind = RegulatoryIdentifier.Kind(rawValue: key) else {
                        weightsTable.report(
                            key, "unknown identifier kind (fr-document, fr-citation, cfr, eccn, rin, cn-announcement)")
                        continue
                    }
                    if let weight = weightsTable.number(key, in: 0...1) { identifierWeights[kind] = weight }
                }
            }
            guard let id else { return nil }
            let topic = Topic(
                id: id, name: name, threshold: threshold, terms: terms, groups: groups, exclusions: exclusions,
                identifierWeights: identifierWeights)
            // Cited identifiers add one weight each, so any identifier weight makes every threshold
            // reachable; without one, a threshold above what all the terms give together is a topic
            // that can never pass: an error, not silence.
            if !terms.isEmpty, identifierWeights.values.allSatisfy({ $0 == 0 }), topic.bestTermScore < threshold {
                table.report(
                    "threshold",
                    "\(threshold) cannot be reached: all the topic's terms together score \(topic.bestTermScore); "
                        + "it would never pass")
            }
            return topic
        }
        rejectDuplicateIDs(in: root, key: "topic")
        return topics
    }

    func readRulesFile(_ root: TOMLTable) -> (rules: HTMLRules, timeZone: TimeZone?)? {
        let table = TableReader(table: root, label: "", log: log)
        let dateFormat = table.string("date_format")
        if let format = dateFormat, !HTMLRules.isValidDateFormat(format) {
            table.report("date_format", "unsupported directive in \"\(format)\" (use %Y %y %m %d %e %H %M %S %b %B)")
        }
        let timeZone = readTimeZone(table)
        let rules = readHTMLRules(table, dateFormat: dateFormat, extraKeys: ["date_format", "time_zone"])
        return rules.map { ($0, timeZone) }
    }

    private func readHTMLRules(_ table: TableReader, dateFormat: String?, extraKeys: [String] = []) -> HTMLRules? {
        table.rejectUnknownKeys(known: ["item", "title", "link", "date", "summary", "id"] + extraKeys)
        var missing = false
        func rule(_ key: String, required: Bool) -> String? {
            guard let text = table.string(key) else {
                if required, !table.has(key) {
                    table.report(nil, "\(key): missing; html rules need item, title and link")
                    missing = true
                }
                return nil
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty {
                table.report(key, "a rule must not be empty")
                missing = true
                return nil
            }
            return text
        }
        let item = rule("item", required: true)
        let title = rule("title", required: true)
        let link = rule("link", required: true)
        let date = rule("date", required: false)
        let summary = rule("summary", required: false)
        let id = rule("id", required: false)
        guard !missing, let item, let title, let link else { return nil }
        // Each rule is translated (CSS) and compiled (XPath) now, so that a broken one is a
        // configuration error with its line rather than a source that silently finds nothing.
        var valid = true
        for (key, value) in [
            ("item", item), ("title", title), ("link", link), ("date", date), ("summary", summary), ("id", id),
        ] {
            guard let value else { continue }
            do {
                _ = try HTMLRules.xpath(for: value, withinItem: key != "item")
            } catch {
                table.report(key, error.description)
                valid = false
            }
        }
        guard valid else { return nil }
        return HTMLRules(
            item: item, title: title, link: link, date: date, summary: summary, id: id, dateFormat: dateFormat)
    }

    private func readWebhook(_ table: TableReader) -> WebhookSettings? {
        table.rejectUnknownKeys(known: [
            "id", "url", "url_env", "url_file", "format", "topics", "min_score", "signing_secret",
            "signing_secret_file", "signature", "events", "every_source", "max_per_minute", "template_file",
            "content_type",
        ])
        let id = readID(table)
        let url = readWebhookURL(table)
        let format = table.choice("format", of: WebhookSettings.Format.self) ?? .json
        let topics = table.strings("topics") ?? []
        for topic in topics where !Self.isIdentifier(topic) {
            table.report("topics", "expected topic ids like \"chip-controls\", found \"\(topic)\"")
        }
        let minScore = table.number("min_score", in: 0...1) ?? 0
        let signature = table.choice("signature", of: WebhookSettings.SignatureScheme.self) ?? .standard
        let secrets = readSigningSecrets(table, scheme: signature)
        var events = ["policy_item.created", "policy_item.updated"]
        if let chosen = table.strings("events") {
            for event in chosen where !WebhookSettings.eventTypes.contains(event) {
                let hint =
                    ConfigValues.suggestion(for: event, among: WebhookSettings.eventTypes)
                    .map { " (did you mean \"\($0)\"?)" } ?? ""
                table.report("events", "unknown event type \"\(event)\"\(hint)")
            }
            if chosen.isEmpty { table.report("events", "expected at least one event type") }
            events = chosen
        }
        let everySource = table.bool("every_source") ?? false
        let maxPerMinute = table.int("max_per_minute", in: 1...10_000) ?? 20
        var templateFile: URL?
        if let path = table.string("template_file") {
            templateFile = expandFile(table, "template_file", path)
            if format != .template { table.report("template_file", "only for format = \"template\"") }
        } else if format == .template {
            table.report("format", "format = \"template\" needs template_file (a Mustache template)")
        }
        let contentType = table.string("content_type")
        if contentType != nil, format != .template { table.report("content_type", "only for format = \"template\"") }
        var template: WebhookTemplate?
        if let templateFile, format == .template, let text = readCredential(table, "template_file", templateFile) {
            do {
                template = try WebhookTemplate(text: text, contentType: contentType ?? "text/plain; charset=utf-8")
            } catch {
                table.report("template_file", "\(templateFile.path): \(error)")
            }
        }
        guard let id, let url else { return nil }
        return WebhookSettings(
            id: id, url: url, format: format, topics: topics, minScore: minScore, signingSecrets: secrets,
            signature: signature, events: events, everySource: everySource, maxPerMinute: maxPerMinute,
            templateFile: templateFile, contentType: contentType, template: template)
    }

    /// The webhook URL from exactly one of `url`, `url_env`, `url_file`; never echoed in messages.
    private func readWebhookURL(_ table: TableReader) -> Secret? {
        let given = ["url", "url_env", "url_file"].filter(table.has)
        guard given.count == 1, let key = given.first else {
            if given.isEmpty {
                table.report(nil, "needs one of url, url_env or url_file")
            } else {
                table.report(
                    given[1], "give only one of url, url_env or url_file, found \(given.joined(separator: " and "))")
            }
            return nil
        }
        let value: String?
        switch key {
        case "url":
            value = table.string("url", secret: true)
        case "url_env":
            guard let name = table.string("url_env") else { return nil }
            value = environment[name]
            if value == nil { table.report("url_env", "the environment variable \(name) is not set") }
        default:
            guard let path = table.string("url_file"), let file = expandFile(table, "url_file", path) else {
                return nil
            }
            value = readCredential(table, "url_file", file)
        }
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard TableReader.httpURL(from: trimmed) != nil else {
            table.report(
                key,
                "the webhook URL it gives is not an http or https URL (the value is not shown: it may hold a token)")
            return nil
        }
        return Secret(trimmed)
    }

    private func readSigningSecrets(_ table: TableReader, scheme: WebhookSettings.SignatureScheme) -> [Secret] {
        var secrets: [String] = []
        var key = "signing_secret"
        if table.has("signing_secret"), table.has("signing_secret_file") {
            table.report("signing_secret_file", "give only one of signing_secret or signing_secret_file")
            return []
        }
        if let value = table.table["signing_secret"] {
            if value.kind == .array, let list = table.strings("signing_secret") {
                secrets = list
            } else if let single = table.string("signing_secret", secret: true) {
                secrets = [single]
            }
        } else if let path = table.string("signing_secret_file") {
            key = "signing_secret_file"
            guard let file = expandFile(table, key, path), let text = readCredential(table, key, file) else {
                return []
            }
            // One secret per line: during a rotation the old and the new secret both sign.
            secrets = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            if secrets.isEmpty { table.report(key, "the file \(file.path) holds no secret") }
        }
        if scheme == .standard {
            for secret in secrets {
                do {
                    _ = try WebhookSigner.standardKey(from: secret)
                } catch {
                    table.report(key, "\(error) (the value is not shown)")
                }
            }
        }
        return secrets.map(Secret.init)
    }

    private func readID(_ table: TableReader) -> String? {
        guard let id = table.string("id") else {
            if !table.has("id") { table.report(nil, "id: missing; every entry needs a stable id") }
            return nil
        }
        guard Self.isIdentifier(id) else {
            table.report(
                "id", "expected letters, digits, '-', '_' or '.', starting with a letter or digit, found \"\(id)\"")
            return nil
        }
        return id
    }

    /// Expands `${NAME}` in a `*_file` value and resolves it against the configuration's folder.
    private func expandFile(_ table: TableReader, _ key: String, _ path: String) -> URL? {
        let (expanded, missing) = ConfigValues.expandVariables(path, environment: environment)
        for name in missing {
            let hint =
                name == "CREDENTIALS_DIRECTORY"
                ? " (systemd sets it for LoadCredential=; set it yourself outside systemd)" : ""
            table.report(key, "${\(name)} is not set\(hint)")
        }
        guard missing.isEmpty else { return nil }
        return resolve(expanded, directory: false)
    }

    /// A credential's or a template's text (at most 1 MiB).
    private func readCredential(_ table: TableReader, _ key: String, _ file: URL) -> String? {
        do {
            return try BoundedFile.text(atPath: file.path, limit: 1 << 20)
        } catch {
            table.report(key, "cannot read \(file.path): \(error)")
            return nil
        }
    }

    private func resolve(_ path: String, directory: Bool) -> URL {
        let hint: URL.DirectoryHint = directory ? .isDirectory : .notDirectory
        if path.hasPrefix("/") { return URL(filePath: path, directoryHint: hint).standardizedFileURL }
        return URL(filePath: path, directoryHint: hint, relativeTo: folder).standardizedFileURL.absoluteURL
    }

    /// Letters, digits, '-', '_' and '.' of ASCII, starting with a letter or digit. Read as bytes:
    /// Unicode's property tables, asked per scalar, were most of reading a source's id.
    static func isIdentifier(_ text: String) -> Bool {
        func isLetterOrDigit(_ byte: UInt8) -> Bool {
            // Setting bit 0x20 folds A-Z onto a-z (and moves no other byte into that range).
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = text.utf8.first, isLetterOrDigit(first) else { return false }
        return text.utf8.allSatisfy {
            isLetterOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                        || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0))
            }
    }

}

public import Dedup
public import Delivery
public import Feeds
public import Fetching
public import Foundation

/// The whole configuration of one exportwatch daemon, as read from its TOML file (DESIGN.md §4).
///
/// Every value has been validated: durations are positive, time zones exist, URLs are http(s),
/// ids are unique. ``ConfigurationLoader`` makes it; nothing else reads files or the environment.
public struct Configuration: Sendable, Equatable {
    /// Settings of the daemon as a whole (`[daemon]`).
    public var daemon: DaemonSettings
    /// When and how the daily digest is written (`[digest]`).
    public var digest: DigestSettings
    /// The sources to poll (`[[source]]`), in file order.
    public var sources: [SourceSettings]
    /// The webhooks to notify (`[[webhook]]`), in file order.
    public var webhooks: [WebhookSettings]
    /// The files whose `[[source]]` and `[[webhook]]` tables were added (`include`).
    public var includedFiles: [URL] = []
    /// `[metrics]`: the optional Prometheus endpoint.
    public var metrics = MetricsSettings()

    /// Creates a configuration; the defaults are those of an empty file.
    public init(
        daemon: DaemonSettings = DaemonSettings(),
        digest: DigestSettings = DigestSettings(),
        sources: [SourceSettings] = [],
        webhooks: [WebhookSettings] = []
    ) {
        self.daemon = daemon
        self.digest = digest
        self.sources = sources
        self.webhooks = webhooks
    }

    /// What is valid but almost certainly not meant, for `check-config`, `run` and a reload to
    /// print: no sources at all (the daemon would run and report every cycle a success, hiding a
    /// forgotten `include` or a sources file left empty), and two sources of the same URL (the
    /// page would be polled twice and its items stored twice, under two ids).
    public var warnings: [String] {
        guard !sources.isEmpty else {
            return [
                "no sources configured: nothing will be polled (add [[source]] tables, or include = [\"sources.toml\"])"
            ]
        }
        var firstOfURL: [String: String] = [:]
        return sources.compactMap { source in
            let url = source.url.absoluteString
            guard let first = firstOfURL[url] else {
                firstOfURL[url] = source.id
                return nil
            }
            return "source \"\(source.id)\": url: the same as source \"\(first)\"'s; \(url) would be polled "
                + "twice and its items stored twice (remove one of them)"
        }
    }
}

/// `[daemon]`: where state lives, how often and how hard to poll.
public struct DaemonSettings: Sendable, Equatable {
    /// The folder of the SQLite database (`state_dir`).
    public var stateDirectory = URL(filePath: "/var/lib/exportwatch", directoryHint: .isDirectory)
    /// The folder the digest files are written to (`digest_dir`).
    public var digestDirectory = URL(filePath: "/var/lib/exportwatch/digests", directoryHint: .isDirectory)
    /// The zone that digests and "today" follow (`time_zone`).
    public var timeZone = TimeZone(identifier: "UTC")!
    /// How often a source without its own `interval` is polled (`poll_interval`).
    public var pollInterval: Duration = .seconds(15 * 60)
    /// The topics file (`topics_file`); nil means `topics.toml` beside the config, else the built-in copy.
    public var topicsFile: URL?
    /// Transfers at once (`max_concurrent`).
    public var maxConcurrent = 16
    /// Transfers at once to one host (`max_per_host`).
    public var maxPerHost = 2
    /// Consecutive failures before a source is reported down (`failure_threshold`).
    public var failureThreshold = 3
    /// Which private, loopback or link-local addresses sources may reach (`allow_private_networks`:
    /// `false`, `true`, or a list of networks such as `["10.1.0.0/16"]`).
    public var privateNetworks: PrivateNetworkPolicy = .refuse
    /// Whether a new source's first fetch only records a baseline and announces nothing (`baseline_new_sources`).
    public var baselineNewSources = true
    /// The `User-Agent` header sent with every request (`user_agent`).
    public var userAgent = "exportwatch/\(ExportwatchVersion.current)"
    /// How long connecting to a server may take (`connect_timeout`).
    public var connectTimeout: Duration = .seconds(10)
    /// How long a whole transfer may take (`request_timeout`).
    public var requestTimeout: Duration = .seconds(60)
    /// A transfer slower than ``lowSpeedLimit`` bytes per second for this long is abandoned (`low_speed_time`).
    public var lowSpeedTime: Duration = .seconds(30)
    /// See ``lowSpeedTime`` (`low_speed_limit`, bytes per second).
    public var lowSpeedLimit = 64
    /// The largest response body accepted (`max_body_size`); a larger one fails the fetch.
    public var maxBodyBytes = 10 * 1024 * 1024
    /// How many redirects one fetch follows (`max_redirects`).
    public var maxRedirects = 5
    /// How many items of one feed are taken; the rest are dropped with a warning (`max_items_per_feed`).
    public var maxItemsPerFeed = 1000
    /// How long delivered and dead-lettered outbox rows, and their attempts, are kept (`outbox_retention`).
    public var outboxRetention: Duration = .seconds(30 * 86_400)
    /// How long items are kept after they were first seen, once their source no longer lists them
    /// (`item_retention`); nil keeps them all (`"forever"`).
    public var itemRetention: Duration? = .seconds(730 * 86_400)

    /// Creates the default settings.
    public init() {}

    /// The fetcher's limits and manners under these settings.
    public var fetcherConfiguration: FetcherConfiguration {
        var configuration = FetcherConfiguration()
        configuration.maxConcurrent = maxConcurrent
        configuration.maxPerHost = maxPerHost
        configuration.connectTimeout = connectTimeout
        configuration.requestTimeout = requestTimeout
        configuration.lowSpeedTime = lowSpeedTime
        configuration.lowSpeedBytesPerSecond = lowSpeedLimit
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxRedirects = maxRedirects
        configuration.userAgent = userAgent
        configuration.privateNetworks = privateNetworks
        return configuration
    }
}

/// `[digest]`: the daily digest.
public struct DigestSettings: Sendable, Equatable {
    /// A digest file format.
    public enum Format: String, Sendable, CaseIterable {
        case markdown = "md"
        case html
        case json
    }

    /// The local time of day (in the daemon's zone) at which the previous day's digest is built (`at`).
    public var hour = 8
    /// The minute of ``hour`` (`at`).
    public var minute = 0
    /// Which files are written (`formats`).
    public var formats: [Format] = Format.allCases
    /// Whether `alerts.atom` is kept beside the digests (`atom_feed`).
    public var atomFeed = true

    /// Creates the default settings.
    public init() {}
}

/// `[metrics]`: where `/metrics` (Prometheus text) and `/healthz` are served, if anywhere.
public struct MetricsSettings: Sendable, Equatable {
    /// An IP address and a port.
    public struct Address: Sendable, Equatable {
        public var host: String
        public var port: UInt16

        /// Reads `127.0.0.1:9464` or `[::1]:9464`; nil for anything else (names are not resolved).
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                return nil
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard IPAddress(host) != nil else { return nil }
            self.host = host
            self.port = port
        }
    }

    /// `listen`: nil (the default) serves nothing.
    public var listen: Address?

    /// No endpoint.
    public init() {}
}

/// One `[[source]]`: a feed or an HTML page to poll.
public struct SourceSettings: Sendable, Equatable {
    /// What a source's documents are.
    public enum Kind: String, Sendable, CaseIterable {
        /// RSS, Atom or JSON Feed; the parser detects which.
        case feed
        /// An HTML list page, read with the source's ``HTMLRules``.
        case html
    }

    /// The stable key of the source (`id`); never reused for another source.
    public var id: String
    /// The URL to poll (`url`), http or https.
    public var url: URL
    /// Feed or HTML page (`kind`, default `feed`).
    public var kind: Kind
    /// How often to poll (`interval`); nil means the daemon's `poll_interval`.
    public var interval: Duration?
    /// Extra request headers (`headers`), e.g. an API key a site asks for.
    public var headers: [String: String]
    /// How items are found on an HTML page (`html`, with `date_format`); present exactly when ``kind`` is `.html`.
    public var html: HTMLRules?
    /// The zone of dates the source writes without one (`time_zone`); nil means the daemon's.
    public var timeZone: TimeZone?
    /// How its items are told apart (`identity`): `auto` (guids until they prove untrustworthy),
    /// `guid`, `link` or `content`.
    public var identity: IdentityPolicy

    /// Creates a source.
    public init(
        id: String, url: URL, kind: Kind = .feed, interval: Duration? = nil, headers: [String: String] = [:],
        html: HTMLRules? = nil, timeZone: TimeZone? = nil, identity: IdentityPolicy = .auto
    ) {
        self.identity = identity
        self.id = id
        self.url = url
        self.kind = kind
        self.interval = interval
        self.headers = headers
        self.html = html
        self.timeZone = timeZone
    }
}

/// One `[[webhook]]`: where and how policy events are sent.
public struct WebhookSettings: Sendable, Equatable {
    /// The body format a receiver expects.
    public enum Format: String, Sendable, CaseIterable {
        case json, slack, discord, teams, template
    }

    /// How the request is signed.
    public enum SignatureScheme: String, Sendable, CaseIterable {
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
        case standard
        /// GitHub style: `X-Hub-Signature-256: sha256=<hex>` over the body.
        case hub
    }

    /// The event types a webhook can ask for (DESIGN.md §7).
    public static let eventTypes = [
        "policy_item.created", "policy_item.updated", "source.down", "source.recovered", "source.retired",
        "source.parse_empty", "digest.created",
    ]

    /// The webhook's stable id (`id`).
    public var id: String
    /// Where events are posted, read from `url`, `url_env` or `url_file`. Never logged.
    public var url: Secret
    /// The body format (`format`).
    public var format: Format
    /// Only items in these topics (`topics`); empty means every relevant item.
    public var topics: [String]
    /// Only items scoring at least this in one of ``topics`` (`min_score`).
    public var minScore: Double
    /// The signing secrets (`signing_secret` or `signing_secret_file`, one per line for rotation).
    public var signingSecrets: [Secret]
    /// How requests are signed (`signature`).
    public var signature: SignatureScheme
    /// Which event types are sent (`events`).
    public var events: [String]
    /// Whether a known story's new sources are announced too (`every_source`).
    public var everySource: Bool
    /// Events per minute past which pending events go out as one batch (`max_per_minute`).
    public var maxPerMinute: Int
    /// The Mustache template file for `format = "template"` (`template_file`).
    public var templateFile: URL?
    /// The `Content-Type` of a template's output (`content_type`).
    public var contentType: String?
    /// The parsed template of `template_file`.
    public var template: WebhookTemplate?

    /// Creates a webhook with the defaults of DESIGN.md §4.
    public init(
        id: String, url: Secret, format: Format = .json, topics: [String] = [], minScore: Double = 0,
        signingSecrets: [Secret] = [], signature: SignatureScheme = .standard,
        events: [String] = ["policy_item.created", "policy_item.updated"], everySource: Bool = false,
        maxPerMinute: Int = 20, templateFile: URL? = nil, contentType: String? = nil, template: WebhookTemplate? = nil
    ) {
        self.template = template
        self.id = id
        self.url = url
        self.format = format
        self.topics = topics
        self.minScore = minScore
        self.signingSecrets = signingSecrets
        self.signature = signature
        self.events = events
        self.everySource = everySource
        self.maxPerMinute = maxPerMinute
        self.templateFile = templateFile
        self.contentType = contentType
    }
}

/// A value that must never be printed: a webhook URL (it often carries a token) or a signing secret.
///
/// Its `description` is a placeholder, so string interpolation, logs and error messages cannot
/// reveal it by accident; code that needs the value reads ``revealed``.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value itself. Read it only to use it, never to show it.
    public let revealed: String

    /// Wraps a secret value.
    public init(_ value: String) { revealed = value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}

extension WebhookSettings {
    /// The webhook as the delivery worker uses it.
    public var webhook: Webhook {
        let format: Webhook.Format =
            switch self.format {
            case .json: .json
            case .slack: .slack
            case .discord: .discord
            case .teams: .teams
            case .template:
                template.map(Webhook.Format.template) ?? .json
            }
        let scheme: WebhookSigner.Scheme
        if signingSecrets.isEmpty {
            scheme = .none
        } else if signature == .hub {
            scheme = .hub(secret: Data(signingSecrets[0].revealed.utf8))
        } else {
            // The loader accepted only secrets that decode.
            scheme = .standard(keys: signingSecrets.compactMap { try? WebhookSigner.standardKey(from: $0.revealed) })
        }
        return Webhook(
            // The loader accepted only http(s) URLs; anything else would be refused when sent.
            id: id, url: URL(string: url.revealed) ?? URL(filePath: "/"), format: format,
            signer: WebhookSigner(scheme: scheme),
            events: Set(events), topics: Set(topics), minScore: minScore, everySource: everySource,
            maxPerMinute: maxPerMinute)
    }
}

/// The limits and manners every fetch of one ``HTTPFetcher`` follows (the `[daemon]` keys).
public struct FetcherConfiguration: Sendable, Equatable {
    /// Transfers at once (`max_concurrent`).
    public var maxConcurrent = 16
    /// Transfers at once to one host name (`max_per_host`).
    public var maxPerHost = 2
    /// Time to connect (`connect_timeout`).
    public var connectTimeout: Duration = .seconds(10)
    /// Time for the whole fetch, redirects included (`request_timeout`).
    public var requestTimeout: Duration = .seconds(60)
    /// A transfer slower than ``lowSpeedBytesPerSecond`` for this long is abandoned.
    public var lowSpeedTime: Duration = .seconds(30)
    /// See ``lowSpeedTime``.
    public var lowSpeedBytesPerSecond = 64
    /// The largest decoded body accepted (`max_body_size`).
    public var maxBodyBytes = 10 * 1024 * 1024
    /// Redirects followed (`max_redirects`).
    public var maxRedirects = 5
    /// The `User-Agent` header.
    public var userAgent = "exportwatch"
    /// Which private, loopback and link-local addresses may be connected to (`allow_private_networks`).
    public var privateNetworks: PrivateNetworkPolicy = .refuse

    /// Creates the default configuration.
    public init() {}
}

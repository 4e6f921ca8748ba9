public import Foundation

/// The daemon's view of the web: fetches many documents at once through one libcurl multi handle,
/// politely (per-host limits, conditional GET) and safely (http/https only, no private addresses
/// unless allowed, bounded size and time).
///
/// Redirects are followed here, one exchange per hop, so that each hop's status is known (a 301
/// moves a source, a 302 does not) and every hop passes the scheme and address checks.
///
/// ```swift
/// let fetcher = HTTPFetcher(configuration: FetcherConfiguration())
/// switch try await fetcher.fetch(FetchRequest(url: feedURL, etag: storedETag)) {
/// case .fetched(let body, let provenance): …
/// case .notModified: …      // nothing to parse
/// case .failed(let error): logger.warning("\(error)")
/// }
/// ```
public final class HTTPFetcher: Sendable {
    /// The limits every fetch follows.
    public let configuration: FetcherConfiguration
    private let driver: CurlDriver

    /// Starts the fetcher's driver thread.
    public init(configuration: FetcherConfiguration) {
        self.configuration = configuration
        driver = CurlDriver(configuration: configuration)
        // Every fetched body is hashed; a daemon builds its fetcher while its store opens.
        SHA256.prepare()
    }

    deinit {
        driver.stop()
    }

    /// Fetches one document, following up to `maxRedirects` redirects.
    ///
    /// Every failure (transport, status, limits, policy) comes back as `.failed` with a message
    /// naming the URL; only cancellation throws.
    /// - Throws: `CancellationError` when the calling task is cancelled; the transfer is stopped.
    public func fetch(_ request: FetchRequest) async throws -> FetchOutcome {
        let fetchedAt = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var url = request.url
        var hops: [Provenance.Hop] = []
        var headers = request.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        if let etag = request.etag { headers.append((name: "If-None-Match", value: etag)) }
        if let lastModified = request.lastModified { headers.append((name: "If-Modified-Since", value: lastModified)) }

        while true {
            guard Self.isHTTP(url) else {
                let what =
                    hops.isEmpty
                    ? "only http and https URLs are fetched" : "a redirect to \(url.scheme ?? "?"): was refused"
                return .failed(FetchError(code: .scheme, url: url, message: what))
            }
            let remaining = configuration.requestTimeout - (clock.now - start)
            guard remaining > .zero else {
                return .failed(
                    FetchError(
                        code: .timeout, url: url,
                        message: "timed out after \(configuration.requestTimeout) (redirects included)"))
            }
            let response: Exchange.Response
            do {
                response = try await driver.perform(Exchange.Request(url: url, headers: headers, timeout: remaining))
            } catch let failure as Exchange.Failure {
                return .failed(error(for: failure, url: url))
            }
            hops.append(Provenance.Hop(url: url, status: response.status))

            if [301, 302, 303, 307, 308].contains(response.status) {
                guard let location = response.redirectURL, let next = URL(string: location) else {
                    return .failed(
                        FetchError(
                            code: .redirects, url: url, message: "HTTP \(response.status) without a usable Location"))
                }
                guard hops.count <= configuration.maxRedirects else {
                    return .failed(
                        FetchError(
                            code: .redirects, url: url, message: "more than \(configuration.maxRedirects) redirects"))
                }
                url = next
                continue
            }

            let provenance = Provenance(
                requestedURL: request.url, finalURL: url, hops: hops, status: response.status,
                etag: response.headers["etag"], lastModified: response.headers["last-modified"],
                contentType: response.headers["content-type"], contentEncoding: response.headers["content-encoding"],
                cacheControl: response.headers["cache-control"],
                retryAfter: response.headers["retry-after"].flatMap { HTTPDate.retryAfter($0, now: Date()) },
                fetchedAt: fetchedAt, byteCount: response.body.count, sha256: SHA256.hex(of: response.body),
                timings: .init(
                    dns: response.dns, connect: response.connect, tls: response.tls, firstByte: response.firstByte,
                    total: clock.now - start))
            switch response.status {
            case 200..<300:
                return .fetched(body: response.body, provenance: provenance)
            case 304:
                return .notModified(provenance: provenance)
            default:
                return .failed(
                    FetchError(code: .httpStatus, url: url, message: "HTTP \(response.status)", provenance: provenance))
            }
        }
    }

    /// POSTs `body` to `url` once (a webhook delivery): no redirects followed, the same address
    /// checks as a fetch, the response body kept up to `maxBodyBytes`.
    ///
    /// - Returns: the response, whatever its status; or the transport failure.
    /// - Throws: `CancellationError` when the calling task is cancelled; the transfer is stopped.
    public func post(
        _ body: Data, to url: URL, headers: [(name: String, value: String)], timeout: Duration
    ) async throws -> Result<PostResponse, FetchError> {
        guard Self.isHTTP(url) else {
            return .failure(FetchError(code: .scheme, url: url, message: "only http and https URLs are posted to"))
        }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await driver.perform(
                Exchange.Request(url: url, headers: headers, timeout: timeout, body: body))
            return .success(
                PostResponse(
                    status: response.status, body: response.body,
                    retryAfter: response.headers["retry-after"].flatMap { HTTPDate.retryAfter($0, now: Date()) },
                    location: response.redirectURL, duration: clock.now - start))
        } catch let failure as Exchange.Failure {
            return .failure(error(for: failure, url: url))
        }
    }

    private func error(for failure: Exchange.Failure, url: URL) -> FetchError {
        switch failure {
        case .bodyTooLarge(let limit):
            FetchError(code: .bodyTooLarge, url: url, message: "the body is larger than max_body_size (\(limit) bytes)")
        case .privateAddress(let address):
            FetchError(
                code: .privateAddress, url: url,
                message: "refused to connect to \(address)"
                    + (Self.proxyVariable(for: url).map { " (the URL's host, or the proxy that \($0) names)" } ?? "")
                    + ", a private, loopback or link-local address "
                    + "(allow_private_networks in the configuration, --insecure-allow-private for exportwatch fetch)")
        case .curl(let code, let message, let timedOut):
            FetchError(code: timedOut ? .timeout : .transport, url: url, message: message, curlCode: code)
        }
    }

    /// The environment variable naming the proxy libcurl would take for `url`, if one is set:
    /// `http_proxy` (lower case only) or `https_proxy`/`HTTPS_PROXY` by scheme, else
    /// `all_proxy`/`ALL_PROXY`. `no_proxy` is not weighed: a message says "or".
    static func proxyVariable(
        for url: URL, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        let byScheme = url.scheme?.lowercased() == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]
        return (byScheme + ["all_proxy", "ALL_PROXY"]).first { environment[$0]?.isEmpty == false }
    }

    private static func isHTTP(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return false }
        return url.host?.isEmpty == false
    }
}

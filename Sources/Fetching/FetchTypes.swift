public import Foundation

/// One document to fetch: where, with which extra headers, and the validators of the last fetch.
public struct FetchRequest: Sendable, Equatable {
    /// The URL to fetch; http or https.
    public var url: URL
    /// Extra request headers (a source's `headers`).
    public var headers: [String: String]
    /// The `ETag` of the last response, sent as `If-None-Match`.
    public var etag: String?
    /// The `Last-Modified` of the last response, sent as `If-Modified-Since`.
    public var lastModified: String?

    /// Creates a request.
    public init(url: URL, headers: [String: String] = [:], etag: String? = nil, lastModified: String? = nil) {
        self.url = url
        self.headers = headers
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// Where a response came from and how it was obtained: stored with every item, so that every alert
/// can be traced to the exact bytes it came from.
public struct Provenance: Sendable, Equatable {
    /// One response on the way: a redirect, or the final answer.
    public struct Hop: Sendable, Equatable {
        /// The URL requested.
        public var url: URL
        /// The HTTP status it answered with.
        public var status: Int
    }

    /// How long the phases of the final request took, from its start.
    public struct Timings: Sendable, Equatable {
        /// Until the name was resolved.
        public var dns: Duration
        /// Until the TCP connection was made.
        public var connect: Duration
        /// Until the TLS handshake was done (zero for plain http).
        public var tls: Duration
        /// Until the first byte of the response arrived.
        public var firstByte: Duration
        /// The whole fetch, redirects included.
        public var total: Duration
    }

    /// The URL asked for.
    public var requestedURL: URL
    /// The URL that gave the final answer, after redirects.
    public var finalURL: URL
    /// Every response, redirects first, the final one last.
    public var hops: [Hop]
    /// The final status.
    public var status: Int
    /// The final response's `ETag`.
    public var etag: String?
    /// The final response's `Last-Modified`.
    public var lastModified: String?
    /// The final response's `Content-Type`, with its parameters (the charset among them).
    public var contentType: String?
    /// The `Content-Encoding` the body arrived in (`gzip`, `br`, …); the body handed on is decoded.
    public var contentEncoding: String?
    /// The `charset` parameter of ``contentType``, if any.
    public var charset: String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
            }
        }
        return nil
    }

    /// The final response's `Cache-Control`.
    public var cacheControl: String?

    /// `Cache-Control: max-age` in seconds (`s-maxage` is for shared caches and ignored), when
    /// given and the response may be stored at all. The value is delta-seconds (digits, quoted
    /// or not), at most 2³¹ as RFC 9111 §1.2.2 says; anything else in the header (`=`, `max-age=inf`,
    /// `max-age=-1`) is ignored, as the server's mistake.
    public var maxAge: Double? {
        guard let cacheControl else { return nil }
        var age: Double?
        for directive in cacheControl.lowercased().split(separator: ",") {
            // Never empty: a lone `=` splits into two empty strings.
            let parts = directive.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if parts[0] == "no-store" || parts[0] == "no-cache" { return nil }
            guard parts[0] == "max-age", parts.count == 2 else { continue }
            let digits = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                age = min(Double(digits) ?? .infinity, 2_147_483_648)
            }
        }
        return age
    }
    /// The final response's `Retry-After`, as an instant (from seconds or an HTTP date).
    public var retryAfter: Date?
    /// When the fetch started.
    public var fetchedAt: Date
    /// The decoded body's size in bytes.
    public var byteCount: Int
    /// The SHA-256 of the decoded body, lower-case hex.
    public var sha256: String
    /// How long it took.
    public var timings: Timings
}

/// How a fetch ended.
public enum FetchOutcome: Sendable, Equatable {
    /// A 2xx response and its decoded body.
    case fetched(body: Data, provenance: Provenance)
    /// 304: the document is unchanged since the validators sent.
    case notModified(provenance: Provenance)
    /// No usable document; the error says why.
    case failed(FetchError)

    /// The provenance of the final response, when there was one.
    public var provenance: Provenance? {
        switch self {
        case .fetched(_, let provenance), .notModified(let provenance): provenance
        case .failed(let error): error.provenance
        }
    }
}

/// Why a fetch gave no document, with a message that names the URL and what to do.
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// The server answered with a status that is not 2xx, 304 or a redirect followed.
        case httpStatus
        /// Connecting or transferring timed out, or the transfer stalled.
        case timeout
        /// The body was larger than `max_body_size`.
        case bodyTooLarge
        /// More redirects than `max_redirects`, or a redirect without a usable `Location`.
        case redirects
        /// The URL or a redirect used a scheme other than http and https.
        case scheme
        /// The server's address is private, loopback or link-local, and such addresses are not allowed.
        case privateAddress
        /// DNS, TCP, TLS or another transport failure.
        case transport
    }

    /// The kind of failure.
    public var code: Code
    /// The URL whose fetch failed (the hop that failed, after redirects).
    public var url: URL
    /// What happened, for a person.
    public var message: String
    /// libcurl's result code, when libcurl reported the failure.
    public var curlCode: Int?
    /// The final response's provenance, when the server answered (an HTTP error status).
    public var provenance: Provenance?

    /// The HTTP status of an `.httpStatus` failure.
    public var status: Int? { code == .httpStatus ? provenance?.status : nil }

    /// `fetching https://…/rss failed (curl 28): timed out after 30 s`.
    public var description: String {
        let detail = curlCode.map { " (curl \($0))" } ?? ""
        return "fetching \(url.absoluteString) failed\(detail): \(message)"
    }
}

/// The answer to a POST (``HTTPFetcher/post(_:to:headers:timeout:)``).
public struct PostResponse: Sendable, Equatable {
    /// The HTTP status.
    public var status: Int
    /// The response body (bounded by `max_body_size`).
    public var body: Data
    /// `Retry-After`, as an instant.
    public var retryAfter: Date?
    /// Where a 3xx pointed.
    public var location: String?
    /// How long the exchange took.
    public var duration: Duration
}

internal import CCurl

/// What the libcurl this process loaded can do.
///
/// The daemon relies on HTTP and HTTPS, on compressed bodies (gzip through libz, brotli) and on
/// HTTP/2; `exportwatch --version` prints this, and a test checks it, so a build against a
/// libcurl without them is caught before it silently fetches less.
public struct LibcurlInfo: Sendable, Equatable {
    /// libcurl's version, e.g. `7.88.1`.
    public let version: String
    /// The TLS backend and its version, e.g. `OpenSSL/3.0.19`; nil when built without TLS.
    public let tlsBackend: String?
    /// The URL schemes this libcurl can fetch, lower-cased (`http`, `https`, `ftp`, …).
    public let protocols: Set<String>
    /// The optional features the daemon relies on that this libcurl was built with.
    public let features: Set<Feature>

    /// An optional libcurl feature.
    public enum Feature: String, Sendable, CaseIterable, Comparable {
        case tls
        case ipv6
        case libz
        case brotli
        case zstd
        case http2

        public static func < (lhs: Feature, rhs: Feature) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The library loaded into this process.
    public static let current: LibcurlInfo = {
        guard let data = ew_version_info()?.pointee else {
            return LibcurlInfo(version: "unknown", tlsBackend: nil, protocols: [], features: [])
        }
        var protocols = Set<String>()
        if var cursor = data.protocols {
            while let name = cursor.pointee {
                protocols.insert(String(cString: name).lowercased())
                cursor += 1
            }
        }
        let bits = Int32(data.features)
        let flags: [(Feature, Int32)] = [
            (.tls, ew_feature_ssl()), (.ipv6, ew_feature_ipv6()), (.libz, ew_feature_libz()),
            (.brotli, ew_feature_brotli()), (.zstd, ew_feature_zstd()), (.http2, ew_feature_http2()),
        ]
        return LibcurlInfo(
            version: String(cString: data.version),
            tlsBackend: data.ssl_version.map { String(cString: $0) },
            protocols: protocols,
            features: Set(flags.filter { bits & $0.1 != 0 }.map(\.0))
        )
    }()

    /// The features exportwatch needs that this libcurl lacks; empty when it has them all.
    ///
    /// `zstd` is welcome but not required: Debian 12's libcurl is built without it.
    public var missingRequirements: [String] {
        var missing = ["http", "https"].filter { !protocols.contains($0) }
        missing += [Feature.tls, .libz, .brotli, .http2].filter { !features.contains($0) }.map(\.rawValue)
        return missing
    }
}

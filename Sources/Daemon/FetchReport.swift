public import Feeds
public import Fetching
internal import Foundation

/// What `exportwatch fetch URL` prints: the provenance of one fetch, for a person checking a source.
public enum FetchReport {
    /// The report's lines.
    public static func text(for outcome: FetchOutcome) -> String {
        var lines: [String] = []
        if case .failed(let error) = outcome { lines.append("error: \(error)") }
        guard let provenance = outcome.provenance else { return lines.joined(separator: "\n") }
        lines.append("status: \(provenance.status)")
        lines.append("final url: \(provenance.finalURL.absoluteString)")
        if provenance.hops.count > 1 {
            lines.append(
                "hops: " + provenance.hops.map { "\($0.status) \($0.url.absoluteString)" }.joined(separator: " -> "))
        }
        lines.append("etag: \(provenance.etag ?? "-")")
        lines.append("last-modified: \(provenance.lastModified ?? "-")")
        lines.append("content-type: \(provenance.contentType ?? "-")")
        lines.append("encoding: \(provenance.contentEncoding ?? "identity")")
        lines.append("size: \(provenance.byteCount) bytes")
        lines.append("sha256: \(provenance.sha256)")
        let timings = provenance.timings
        lines.append(
            "timings: dns \(milliseconds(timings.dns)), connect \(milliseconds(timings.connect)), "
                + "tls \(milliseconds(timings.tls)), first byte \(milliseconds(timings.firstByte)), "
                + "total \(milliseconds(timings.total))")
        return lines.joined(separator: "\n")
    }

    /// What a fetched document parsed to: its format and title, then one line per item.
    public static func text(for feed: ParsedFeed) -> String {
        var lines = ["format: \(feed.format.rawValue)", "title: \(feed.title ?? "-")", "items: \(feed.items.count)"]
        for item in feed.items {
            let date = (item.published ?? item.updated)?.rfc3339 ?? "no date"
            lines.append("  \(date)  \(item.title ?? "(untitled)")  \(item.link ?? "")")
        }
        lines += feed.warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return value < 10 ? String(format: "%.1f ms", value) : "\(Int(value.rounded())) ms"
    }
}

// libFuzzer harness: what a hostile server's responses do to a source's fetch state, poll after
// poll: statuses, Cache-Control, Retry-After, validators, redirects, and the next poll they lead
// to, which must stay in the future and within two days. One response per input line:
// STATUS|Cache-Control|Retry-After|ETag|Last-Modified|final URL|Content-Type.
// Built by Fuzz/run.sh with Sources/Fetching.
import Foundation

/// A fixed sequence for the schedule's jitter, so that an input replays the same way.
struct FixedSequence: RandomNumberGenerator {
    var state: UInt64 = 1
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFetchState(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    var state = SourceFetchState(url: URL(string: "https://example.org/feed")!)
    var random = FixedSequence()
    let policy = PollPolicy(interval: .seconds(900), failureThreshold: 3)
    var now = Date(timeIntervalSince1970: 1_700_000_000)
    for line in text.split(separator: "\n").prefix(40) {
        let fields = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
        func field(_ index: Int) -> String? { index < fields.count ? fields[index] : nil }
        let status = Int(field(0) ?? "") ?? 200
        let final = field(5).flatMap(URL.init(string:)) ?? state.currentURL
        let provenance = Provenance(
            requestedURL: state.currentURL, finalURL: final, hops: [.init(url: final, status: status)], status: status,
            etag: field(3), lastModified: field(4), contentType: field(6), contentEncoding: nil,
            cacheControl: field(1), retryAfter: field(2).flatMap { HTTPDate.retryAfter($0, now: now) },
            fetchedAt: now, byteCount: 0, sha256: field(3) ?? "",
            timings: .init(dns: .zero, connect: .zero, tls: .zero, firstByte: .zero, total: .zero))
        _ = provenance.charset
        let outcome: FetchOutcome =
            switch status {
            case 304: .notModified(provenance: provenance)
            case 200..<300: .fetched(body: Data(), provenance: provenance)
            default:
                .failed(
                    FetchError(
                        code: .httpStatus, url: final, message: "HTTP \(status)", curlCode: nil, provenance: provenance)
                )
            }
        if case .parse = state.record(outcome, at: now, policy: policy, using: &random).decision {
            _ = state.recordParsed(itemCount: status % 3)
        }
        _ = state.request(headers: ["Accept": "*/*"])
        guard let due = state.nextDueAt else { break }  // retired by a 410
        let wait = due.timeIntervalSince(now)
        precondition(wait >= 0 && wait <= 2 * 86400, "the next poll is \(wait) s away")
        now = due
    }
    return 0
}

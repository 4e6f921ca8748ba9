// Fetch benchmark: one cycle over every URL in a list, cold and then warm (conditional GET),
// through HTTPFetcher, as Benchmarks/fetch.sh runs it beside curl. Prints one line:
//   cold_seconds warm_seconds cold_bytes fetched_count not_modified_count failed_count
// and writes URL<TAB>ETag lines to the file given as the third argument, for curl's warm pass.

import Fetching
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let concurrency = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: fetch-benchmark URLS_FILE CONCURRENCY ETAGS_OUT\n".utf8))
    exit(2)
}
let urls = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n").compactMap {
    $0.split(separator: " ").first.flatMap { URL(string: String($0)) }
}

let configuration = {
    var configuration = FetcherConfiguration()
    configuration.maxConcurrent = concurrency
    // Every URL is on one loopback host; the comparison with curl --parallel-max is of the engine.
    configuration.maxPerHost = concurrency
    configuration.privateNetworks = .allowAll
    return configuration
}()

/// Fetches every request at once (the fetcher queues them within its limits); returns the outcomes
/// in request order and the wall time.
func cycle(_ requests: [FetchRequest], configuration: FetcherConfiguration) async throws -> ([FetchOutcome], Double) {
    let fetcher = HTTPFetcher(configuration: configuration)
    let start = ContinuousClock.now
    let outcomes = try await withThrowingTaskGroup(of: (Int, FetchOutcome).self) { group in
        for (index, request) in requests.enumerated() {
            group.addTask { (index, try await fetcher.fetch(request)) }
        }
        var outcomes = [FetchOutcome?](repeating: nil, count: requests.count)
        for try await (index, outcome) in group { outcomes[index] = outcome }
        return outcomes.map { $0! }
    }
    let elapsed = ContinuousClock.now - start
    return (outcomes, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

let (cold, coldSeconds) = try await cycle(urls.map { FetchRequest(url: $0) }, configuration: configuration)
let warmRequests = zip(urls, cold).map { url, outcome in
    FetchRequest(url: url, etag: outcome.provenance?.etag, lastModified: outcome.provenance?.lastModified)
}
let (warm, warmSeconds) = try await cycle(warmRequests, configuration: configuration)

var bytes = 0
var fetched = 0
var failed = 0
for outcome in cold {
    if case .fetched(let body, _) = outcome {
        bytes += body.count
        fetched += 1
    } else {
        failed += 1
    }
}
let notModified = warm.filter { if case .notModified = $0 { true } else { false } }.count
let etags = zip(urls, cold).compactMap { url, outcome in outcome.provenance?.etag.map { "\(url.absoluteString)\t\($0)" }
}
try (etags.joined(separator: "\n") + "\n").write(toFile: arguments[3], atomically: true, encoding: .utf8)
print(String(format: "%.3f %.3f %d %d %d %d", coldSeconds, warmSeconds, bytes, fetched, notModified, failed))

// Parse benchmark: FeedParser over a corpus held in memory, beside a raw libxml2 SAX2 pass over
// the same bytes (no-op callbacks, the same parser options) in the same process, as
// Benchmarks/parse.sh runs it. Prints, per round and as medians:
//   raw MB/s, parse MB/s and items/s, parse+JSON MB/s, and the ratios.

import CLibXML2
import Feeds
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: parse-benchmark FILES_LIST [ROUNDS]\n".utf8))
    exit(2)
}
let listFile = URL(filePath: arguments[1])
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let paths = try String(contentsOf: listFile, encoding: .utf8).split(separator: "\n").map(String.init)
    .filter { !$0.hasSuffix(".gz") }
let documents = paths.map {
    FileManager.default.contents(atPath: listFile.deletingLastPathComponent().appending(path: $0).path)!
}
let megabytes = Double(documents.reduce(0) { $0 + $1.count }) / 1_000_000

func seconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// libxml2's SAX2 parser with callbacks that do nothing: the floor any SAX-based parser stands on.
func rawPass() {
    var sax = xmlSAXHandler()
    sax.initialized = ew_sax2_magic()
    sax.startElementNs = { _, _, _, _, _, _, _, _, _ in }
    sax.endElementNs = { _, _, _, _ in }
    sax.characters = { _, _, _ in }
    sax.cdataBlock = { _, _, _ in }
    let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_RECOVER.rawValue | XML_PARSE_NOWARNING.rawValue)
    for document in documents {
        document.withUnsafeBytes { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = ew_sax_parse(&sax, nil, chars.baseAddress, Int32(chars.count), nil, options)
            }
        }
    }
}

let parser = FeedParser()
var items = 0
var raw: [Double] = []
var parse: [Double] = []
var json: [Double] = []
for round in 1...rounds {
    raw.append(seconds(rawPass))
    items = 0
    parse.append(
        seconds {
            for document in documents { items += (try? parser.parse(document))?.items.count ?? 0 }
        })
    var output: [UInt8] = []
    output.reserveCapacity(1 << 21)
    json.append(
        seconds {
            for (index, document) in documents.enumerated() {
                if let feed = try? parser.parse(document) { FeedJSON.append(feed, file: paths[index], to: &output) }
                // As `exportwatch parse` does: flush (here, drop) the buffer every megabyte.
                if output.count > 1 << 20 { output.removeAll(keepingCapacity: true) }
            }
        })
    FileHandle.standardError.write(
        Data(
            String(
                format: "round %d: raw %.0f MB/s, parse %.0f MB/s, parse+json %.0f MB/s\n", round,
                megabytes / raw.last!,
                megabytes / parse.last!, megabytes / json.last!
            ).utf8))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let (r, p, j) = (median(raw), median(parse), median(json))
print(
    String(format: "%d documents, %.1f MB, %d items; medians of %d rounds", documents.count, megabytes, items, rounds))
print(String(format: "raw libxml2 SAX: %.0f MB/s", megabytes / r))
print(
    String(
        format: "exportwatch parse: %.0f MB/s, %.0f items/s = %.0f%% of raw SAX (goal >= 60%%)", megabytes / p,
        Double(items) / p, 100 * r / p))
print(String(format: "parse + JSON: %.0f MB/s; JSON adds %.0f%% (goal <= 25%%)", megabytes / j, 100 * (j - p) / p))

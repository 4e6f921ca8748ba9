// Classification benchmark: every item of the corpus's items.jsonl through the classifier built
// from feeds/topics.toml (normalization, matching, identifiers, scoring), as Benchmarks/classify.sh
// runs it beside grep. Prints one line: seconds, megabytes of item text, items, relevant items.

import Classification
import Daemon
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: classify-benchmark ITEMS_JSONL TOPICS_TOML\n".utf8))
    exit(2)
}
let lines = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n")
let items: [(String, String)] = lines.compactMap { line in
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
    return (object["title"] as? String ?? "", object["summary"] as? String ?? "")
}
let megabytes = Double(items.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }) / 1_000_000
let classifier = Classifier(topics: try ConfigurationLoader(environment: [:]).loadTopics(path: arguments[2]))

let start = ContinuousClock.now
var relevant = 0
for (title, summary) in items where classifier.classify(title: title, summary: summary).relevant { relevant += 1 }
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "%.3f %.1f %d %d", seconds, megabytes, items.count, relevant))

import ArgumentParser
import Classification
import Daemon
import Foundation

/// `exportwatch classify`: JSON Lines of items in, topics out (DESIGN.md §6).
struct Classify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify items read as JSON Lines {\"id\",\"title\",\"summary\"} from standard input.",
        discussion: """
            Prints {"id","relevant","topics":[{"id","score","matched"}],"identifiers":[{"kind","value"}]} per line,
            listing the topics that reach their threshold. --explain prints, per item, the normalized text with
            the matched terms marked, and every topic's score. A line that is not a JSON object, or is longer
            than 16 MiB, is reported on standard error with its number and skipped; the exit status is then 1.
            """
    )

    @Option(
        name: .long,
        help:
            "The topics file (default: feeds/topics.toml, else /etc/exportwatch/topics.toml, else the built-in topics)."
    )
    var topics: String?

    @Flag(name: .long, help: "Explain each verdict instead of printing JSON.")
    var explain = false

    func run() async throws {
        let loader = ConfigurationLoader()
        let path =
            topics
            ?? ["feeds/topics.toml", "/etc/exportwatch/topics.toml"].first {
                FileManager.default.fileExists(atPath: $0)
            }
        let classifier = Classifier(topics: try path.map(loader.loadTopics) ?? loader.builtInTopics())
        var failed = false
        var lineNumber = 0
        var lines = BoundedLines(limit: Self.maxLineBytes)
        while let next = try readLine(from: &lines) {
            lineNumber += 1
            guard case .text(let line) = next else {
                FileHandle.standardError.write(
                    Data("stdin:\(lineNumber): longer than \(Self.maxLineBytes >> 20) MiB, skipped\n".utf8))
                failed = true
                continue
            }
            // Not trimmingCharacters(in:): it copies the whole line through NSString, and took half
            // of classifying 46,000 items.
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                FileHandle.standardError.write(Data("stdin:\(lineNumber): not a JSON object\n".utf8))
                failed = true
                continue
            }
            let id = object["id"].map { "\($0)" }
            let result = classifier.classify(
                title: object["title"] as? String ?? "", summary: object["summary"] as? String ?? "",
                explaining: explain)
            print(
                explain
                    ? ClassificationReport.explanation(result, id: id) : ClassificationReport.jsonLine(result, id: id))
        }
        if failed { throw ExitCode.failure }
    }

    /// The longest input line read: an item's title and summary, with room for JSON's escapes,
    /// of a body the daemon would accept (`max_body_size`, 10 MiB by default).
    static let maxLineBytes = 16 << 20

    /// The next line of standard input; a read that fails ends the command with the reason.
    private func readLine(from lines: inout BoundedLines) throws -> BoundedLines.Line? {
        do {
            return try lines.next()
        } catch {
            FileHandle.standardError.write(Data("stdin: cannot read: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

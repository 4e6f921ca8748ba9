import ArgumentParser
import Daemon
import Feeds
import Foundation

/// `exportwatch parse FILE...`: feeds on disk to the normalized JSON Lines of DESIGN.md §5.
struct Parse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse feed files (RSS, Atom, JSON Feed) into normalized JSON Lines, one line per file.",
        discussion: "A file with no feed gives {\"file\", \"error\"}; the exit status is then 1, after the other files."
    )

    @Option(name: .long, help: "The URL the documents came from, for resolving relative links.")
    var baseURL: String?

    @Option(name: .long, help: "The charset an HTTP Content-Type would have given (overrides the XML declaration).")
    var charset: String?

    @Option(name: .long, help: "The IANA time zone of dates that name none (default UTC).")
    var timeZone: String = "UTC"

    @Option(
        name: .long,
        help:
            "Read the files as HTML list pages with these rules (TOML: item, title, link, date, summary, id, date_format, time_zone)."
    )
    var htmlRules: String?

    @Argument(help: "The files to parse.")
    var files: [String]

    func run() async throws {
        guard let zone = TimeZone(identifier: timeZone) else { throw ValidationError("unknown time zone \(timeZone)") }
        let base = try baseURL.map { text in
            guard let url = URL(string: text), url.scheme != nil else { throw ValidationError("not a URL: \(text)") }
            return url
        }
        let parser = FeedParser(dates: FeedDateParser(timeZone: zone, cstIsChina: zone.identifier == "Asia/Shanghai"))
        var htmlParser: HTMLSourceParser?
        if let htmlRules {
            let (rules, rulesZone) = try ConfigurationLoader().loadHTMLRules(path: htmlRules)
            let pageZone = rulesZone ?? zone
            htmlParser = HTMLSourceParser(
                rules: try rules.compiled(),
                dates: FeedDateParser(timeZone: pageZone, cstIsChina: pageZone.identifier == "Asia/Shanghai"))
        }
        var failed = false
        var output: [UInt8] = []
        output.reserveCapacity(1 << 21)
        for file in files {
            do {
                // A feed file as large as the daemon's default max_body_size accepts, and more.
                let data = try BoundedFile.data(atPath: file, limit: 64 << 20)
                let feed =
                    try htmlParser?.parse(data, pageURL: base, charset: charset)
                    ?? parser.parse(data, documentURL: base, charset: charset)
                FeedJSON.append(feed, file: file, to: &output)
            } catch let error as BoundedFile.Failure {
                failed = true
                output += (FeedJSON.errorLine(file: file, error: "cannot read the file: \(error)") + "\n").utf8
            } catch {
                failed = true
                output += (FeedJSON.errorLine(file: file, error: "\(error)") + "\n").utf8
            }
            if output.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(output))
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(output))
        if failed { throw ExitCode.failure }
    }
}

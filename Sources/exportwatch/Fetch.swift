import ArgumentParser
import Daemon
import Feeds
import Fetching
import Foundation

/// `exportwatch fetch URL`: fetches one URL as the daemon would and prints where it came from.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract:
            "Fetch one URL as the daemon would; print status, final URL, hops, validators, size, SHA-256, timings."
    )

    @Argument(help: "The http or https URL to fetch.")
    var url: String

    @Option(name: .long, help: "An extra request header, as NAME:VALUE (repeatable).")
    var header: [String] = []

    @Flag(name: .long, help: "Allow private, loopback and link-local addresses (off in the daemon unless configured).")
    var insecureAllowPrivate = false

    @Option(name: .long, help: "Read the page as HTML: the rule (XPath or CSS) for each repeating item.")
    var item: String?
    @Option(name: .long, help: "With --item: the title rule, inside each item.")
    var title: String?
    @Option(name: .long, help: "With --item: the link rule, inside each item (e.g. a@href).")
    var link: String?
    @Option(name: .long, help: "With --item: the date rule, inside each item.")
    var date: String?

    func run() async throws {
        guard let target = URL(string: url) else { throw ValidationError("not a URL: \(url)") }
        var htmlParser: HTMLSourceParser?
        if let item {
            guard let title, let link else { throw ValidationError("--item needs --title and --link too") }
            do {
                htmlParser = HTMLSourceParser(
                    rules: try HTMLRules(item: item, title: title, link: link, date: date).compiled())
            } catch {
                throw ValidationError("\(error)")
            }
        }
        var headers: [String: String] = [:]
        for entry in header {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else {
                throw ValidationError("--header takes NAME:VALUE, found \"\(entry)\"")
            }
            headers[String(entry[..<colon])] = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var settings = DaemonSettings()
        if insecureAllowPrivate { settings.privateNetworks = .allowAll }
        let fetcher = HTTPFetcher(configuration: settings.fetcherConfiguration)
        let outcome = try await fetcher.fetch(FetchRequest(url: target, headers: headers))
        print(FetchReport.text(for: outcome))
        guard case .fetched(let body, let provenance) = outcome else {
            if case .failed = outcome { throw ExitCode.failure }
            return
        }
        do {
            let feed =
                try htmlParser?.parse(body, pageURL: provenance.finalURL, charset: provenance.charset)
                ?? FeedParser().parse(body, documentURL: provenance.finalURL, charset: provenance.charset)
            print(FetchReport.text(for: feed))
            if let item, feed.items.isEmpty {
                // Rules being tried: nothing found is the answer to act on, and scripts see it.
                print("the item rule \"\(item)\" found nothing on this page: compare it with the page's markup")
                throw ExitCode.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("parse: \(error)")
            throw ExitCode.failure
        }
    }
}

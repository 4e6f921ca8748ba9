import ArgumentParser
import Daemon
import Feeds
import Foundation

/// `exportwatch sources …`: the configured sources and what the store knows of them.
struct Sources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract:
            "List the configured sources, bring back a retired one, import them from OPML or export them as OPML.",
        subcommands: [List.self, Revive.self, ImportOPML.self, ExportOPML.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Print each source's id, kind, poll interval, health, last success, next poll and URL."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (_, configuration) = try options.load()
            let rows = try await SourceOverview.rows(for: configuration)
            print(SourceOverview.table(rows, zone: configuration.daemon.timeZone))
        }
    }

    struct Revive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revive",
            abstract: "Bring back a source that a 410 Gone retired, at the same URL.",
            discussion: """
                A retired source is not polled again until its url changes; this makes it healthy and due now, for a
                site that answered 410 by mistake. A running daemon polls it within a minute.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The source id.") var id: String

        func run() async throws {
            do {
                try await SourceOverview.revive(options.load().configuration, sourceID: id)
            } catch let refused as SourceOverview.ReviveRefused {
                guard case .notRetired = refused else { throw ValidationError(refused.description) }
                throw NothingDone(description: refused.description)
            }
            print("source \(id) is healthy again and due now")
        }
    }

    struct ImportOPML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-opml",
            abstract: "Print [[source]] tables for a feed reader's OPML export, to add to a sources file.",
            discussion: """
                Ids are made from the titles and do not clash with the configuration's (when it loads); a feed
                the configuration or the file already has is skipped with a comment.
                """
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The OPML file.") var file: String

        func run() async throws {
            let data: Data
            do {
                data = try BoundedFile.data(atPath: file, limit: 16 << 20)
            } catch {
                throw ValidationError("cannot read \(file): \(error)")
            }
            let subscriptions: [OPML.Subscription]
            do {
                subscriptions = try OPML.subscriptions(in: data)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            let existing = (try? options.load().configuration.sources) ?? []
            print(SourceImport.toml(for: subscriptions, existing: existing), terminator: "")
        }
    }

    struct ExportOPML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-opml", abstract: "Print the configured feed sources as OPML.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            print(SourceImport.opml(for: try options.load().configuration), terminator: "")
        }
    }
}

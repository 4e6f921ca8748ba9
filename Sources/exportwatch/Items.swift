import ArgumentParser
import Daemon
import Digest
import Foundation
import Store

/// `exportwatch items …`: what has been collected, and why an item was (not) sent.
struct Items: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "items",
        abstract: "List collected items, or show one with its provenance, topics, story and deliveries.",
        subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Print collected items, newest first.")

        @OptionGroup var options: ConfigOptions
        @Option(help: "Only items that passed this topic.") var topic: String?
        @Option(help: "Only items of this source.") var source: String?
        @Option(help: "Only items first seen on or after this day (YYYY-MM-DD, in time_zone).") var since: String?
        @Option(help: "Only items whose title or summary contains this text.") var query: String?
        @Option(help: "At most this many items.") var limit = 50
        @Flag(help: "JSON Lines instead of a table.") var json = false

        func run() async throws {
            let (path, configuration) = try options.load()
            var start: Date?
            if let since {
                guard let day = DayWindow(day: since, timeZone: configuration.daemon.timeZone) else {
                    throw ValidationError("--since: expected a day like 2024-05-10, found \"\(since)\"")
                }
                start = day.start
            }
            let items: [ItemOverview]
            do {
                items = try await ItemsOverview.items(
                    configuration, configurationPath: path,
                    filter: ItemFilter(topic: topic, source: source, since: start, query: query, limit: max(1, limit)))
            } catch let unknown as UnknownFilter {
                throw ValidationError(unknown.description)
            }
            if items.isEmpty, let note = ItemsOverview.missingStoreNote(configuration) {
                FileHandle.standardError.write(Data("\(note)\n".utf8))
            }
            if json {
                if !items.isEmpty { print(try ItemsOverview.jsonLines(items)) }
            } else {
                print(ItemsOverview.table(items, zone: configuration.daemon.timeZone))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print one item: provenance, topics and matched terms, identifiers, story, events and deliveries."
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The item id (itm_…), or the id of one of its events (evt_…).") var id: String

        func run() async throws {
            let configuration = try options.load().configuration
            guard let item = try await ItemsOverview.item(configuration, id: id) else {
                throw ValidationError(ItemsOverview.missingStoreNote(configuration) ?? "no item \(id) in the store")
            }
            print(ItemsOverview.detail(item, zone: configuration.daemon.timeZone))
        }
    }
}

import ArgumentParser
import Daemon

/// `exportwatch sources …`: the configured sources and what the store knows of them.
struct Sources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "List the configured sources.",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each source's id, kind, poll interval, health and URL."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (_, configuration) = try options.load()
            let rows = try await SourceOverview.rows(for: configuration)
            print(SourceOverview.table(rows))
        }
    }
}

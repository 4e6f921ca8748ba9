import ArgumentParser
import Daemon
import Digest
import Foundation
import Store

/// `exportwatch digest`: (re)builds one day's digest files and `alerts.atom`.
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Build (or rebuild) one day's digest files in digest_dir, and alerts.atom.",
        discussion: """
            The day is local to [daemon] time_zone; by default the day before today. Rebuilding a day
            whose items did not change writes the same bytes.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "The day, YYYY-MM-DD.")
    var date: String?

    func run() async throws {
        let (path, configuration) = try options.load()
        let zone = configuration.daemon.timeZone
        let day: DayWindow
        if let date {
            guard let window = DayWindow(day: date, timeZone: zone) else {
                throw ValidationError("--date: expected a day like 2024-05-10, found \"\(date)\"")
            }
            day = window
        } else {
            day = DayWindow.containing(Date(), timeZone: zone).previous
        }
        let topics = try ConfigurationLoader().topics(for: configuration, configurationPath: path)
        let store = try SQLiteEventStore(stateDirectory: configuration.daemon.stateDirectory)
        let builder = configuration.digestBuilder(store: store, topics: topics)
        let built = try await builder.build(day)
        try await builder.writeAlertsFeed()
        let folder = configuration.daemon.digestDirectory.path
        print(
            "\(built.day): \(built.stories) stories; wrote \(built.files.map { "\(folder)/\($0)" }.joined(separator: ", "))"
        )
    }
}

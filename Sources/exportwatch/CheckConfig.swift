import ArgumentParser
import Daemon
import Foundation

/// `exportwatch check-config`: validates the configuration and reports every mistake with its line.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and its topics file; print every error as FILE:LINE: message."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let (path, configuration) = try options.load()
        let sources = configuration.sources.count
        let webhooks = configuration.webhooks.count
        var summary = "\(sources) source\(sources == 1 ? "" : "s"), \(webhooks) webhook\(webhooks == 1 ? "" : "s")"
        let loader = ConfigurationLoader()
        // Also checks that each webhook's topics exist.
        let topics = try loader.topics(for: configuration, configurationPath: path)
        if let topicsPath = loader.topicsPath(for: configuration, configurationPath: path) {
            summary += ", \(topics.count) topics from \(topicsPath)"
        } else {
            summary += ", \(topics.count) built-in topics"
        }
        print("\(path): valid (\(summary))")
        for warning in configuration.warnings {
            FileHandle.standardError.write(Data("\(path): warning: \(warning)\n".utf8))
        }
    }
}

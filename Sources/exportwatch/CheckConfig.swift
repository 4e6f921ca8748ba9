import ArgumentParser
import Daemon

/// `exportwatch check-config`: validates the configuration and reports every mistake with its line.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration; print every error as FILE:LINE: message."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let (path, configuration) = try options.load()
        let sources = configuration.sources.count
        let webhooks = configuration.webhooks.count
        print(
            "\(path): valid (\(sources) source\(sources == 1 ? "" : "s"), \(webhooks) webhook\(webhooks == 1 ? "" : "s"))"
        )
    }
}

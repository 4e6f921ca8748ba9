import ArgumentParser
import Daemon
import Feeds
import Fetching
import Foundation
import Logging

/// The `exportwatch` command: parses arguments and hands over to the `Daemon` module.
struct Exportwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exportwatch",
        abstract: "Watches news and government publications on export controls of AI chips and models.",
        discussion: """
            Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.
            The configuration file is --config, else $EXPORTWATCH_CONFIG, else \(ConfigurationLoader.defaultPath).
            """,
        version: versionText,
        subcommands: [
            Run.self, CheckConfig.self, Sources.self, Items.self, Fetch.self, Parse.self, Classify.self, Webhooks.self,
            DigestCommand.self, DemoCommand.self,
        ]
    )

    static var versionText: String {
        let curl = LibcurlInfo.current
        let tls = curl.tlsBackend.map { " \($0)" } ?? ""
        return
            "exportwatch \(ExportwatchVersion.current) (libcurl \(curl.version)\(tls), libxml2 \(XMLLibraryInfo.version))"
    }
}

/// Options shared by every subcommand that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String?

    func load() throws(ConfigurationError) -> (path: String, configuration: Configuration) {
        let loader = ConfigurationLoader()
        let path = loader.configurationPath(explicit: config)
        return (path, try loader.load(path: path))
    }
}

/// A command that ran and found nothing to do, for the reason given: Main prints it as any other
/// runtime failure (`exportwatch: REASON` on standard error) and exits 1.
struct NothingDone: Error, CustomStringConvertible {
    let description: String
}

@main
enum Main {
    static func main() async {
        do {
            LogLineHandler.bootstrap(level: try LogLineHandler.level())
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try Exportwatch.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(2)
        } catch let error as ValidationError {
            // Thrown by a command's run(), after its arguments parsed: the mistake is in what they
            // name (a day, a URL, an id the store lacks). ArgumentParser would add the root
            // command's usage ("exportwatch <subcommand>"), which does not help; a mistake found
            // while parsing arrives as its own error type, with the subcommand's usage.
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            Foundation.exit(2)
        } catch {
            // Usage mistakes exit 2 as DESIGN.md §3 says (ArgumentParser's own default is 64).
            if Exportwatch.exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((Exportwatch.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            if error is ExitCode || error is CleanExit || "\(type(of: error))".contains("CommandError") {
                Exportwatch.exit(withError: error)
            }
            FileHandle.standardError.write(Data("exportwatch: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}

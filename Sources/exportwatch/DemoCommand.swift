import ArgumentParser
import Daemon

/// `exportwatch demo`: the whole job offline on bundled fixtures.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole job offline: loopback feeds, a webhook receiver, two cycles, a digest."
    )

    func run() async throws {
        let ok = try await Demo.run { print($0) }
        if !ok { throw ExitCode(1) }
    }
}

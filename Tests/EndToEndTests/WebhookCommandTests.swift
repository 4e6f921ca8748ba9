import Foundation
import TestSupport
import Testing

/// `exportwatch webhooks …` run as a user runs it, against a receiver on 127.0.0.1.
@Suite("Webhook commands")
struct WebhookCommandTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test(
        "webhooks test sends a signed sample event and prints the answer; list shows the webhook; no secret is printed")
    func testAndList() async throws {
        let server = try await ScriptedHTTPServer(
            script: ["/hooks/T0KEN": [.init(status: 200, body: "thanks")]], verify: .init(standard: [Self.secret]))
        defer { server.stop() }
        let folder = try scratchFolder("ew-hooks")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try """
        [daemon]
        state_dir = "\(folder.path)/state"
        allow_private_networks = true

        [[source]]
        id = "fr-bis"
        url = "https://www.federalregister.gov/api/v1/documents.rss"

        [[webhook]]
        id = "policy"
        url = "\(server.url("/hooks/T0KEN").absoluteString)"
        signing_secret = "\(Self.secret)"
        topics = ["chip-controls"]
        """.write(to: config, atomically: true, encoding: .utf8)

        let test = try await CommandLineTests.exportwatch("webhooks", "test", "policy", "--config", config.path)
        #expect(test.status == 0, "\(test.errors)")
        #expect(test.output.hasPrefix("HTTP 200") && test.output.contains("thanks"))
        let request = try #require(try await server.requests(atLeast: 1).first)
        #expect(request.verified?.standard == [true])
        #expect(request.header("webhook-id")?.hasPrefix("evt_test_") == true)

        let list = try await CommandLineTests.exportwatch("webhooks", "list", "--config", config.path)
        #expect(list.status == 0, "\(list.errors)")
        #expect(
            list.output.contains("policy") && list.output.contains("chip-controls") && list.output.contains("active"))

        let check = try await CommandLineTests.exportwatch("check-config", "--config", config.path)
        for run in [test, list, check] {
            #expect(!(run.output + run.errors).contains("T0KEN") && !(run.output + run.errors).contains("MfKQ9r8"))
        }

        let unknown = try await CommandLineTests.exportwatch("webhooks", "test", "nope", "--config", config.path)
        #expect(unknown.status == 2 && unknown.errors.contains("no webhook \"nope\""))
        let retry = try await CommandLineTests.exportwatch("webhooks", "retry", "--config", config.path)
        #expect(retry.status == 2)
        let nothing = try await CommandLineTests.exportwatch("webhooks", "retry", "evt_nope", "--config", config.path)
        #expect(nothing.status == 1 && nothing.output == "requeued 0 outbox rows\n")
        #expect(nothing.errors.contains("evt_nope has no dead letter to requeue"), "\(nothing.errors)")
    }
}

/// `exportwatch digest` run as a user runs it.
@Suite("Digest command")
struct DigestCommandTests {
    @Test("digest --date writes the day's three files and alerts.atom, and says where")
    func buildsADay() async throws {
        let folder = try scratchFolder("ew-digest-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appending(path: "exportwatch.toml")
        try """
        [daemon]
        state_dir = "\(folder.path)/state"
        digest_dir = "\(folder.path)/digests"
        time_zone = "Asia/Shanghai"

        [[source]]
        id = "fr-bis"
        url = "https://www.federalregister.gov/api/v1/documents.rss"
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = try await CommandLineTests.exportwatch("digest", "--date", "2024-05-10", "--config", config.path)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.hasPrefix("2024-05-10: 0 stories; wrote "))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appending(path: "digests").path).sorted()
        #expect(files == ["2024-05-10.html", "2024-05-10.json", "2024-05-10.md", "alerts.atom"])
        let bad = try await CommandLineTests.exportwatch("digest", "--date", "2024-13-40", "--config", config.path)
        #expect(bad.status == 2)
    }
}

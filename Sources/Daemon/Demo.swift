internal import Delivery
internal import Digest
internal import FlyingFox
internal import FlyingSocks
import Foundation
import Logging
internal import Store

/// `exportwatch demo`: the whole job offline. A loopback server plays three sources (an agency
/// RSS feed, a Chinese ministry's HTML list page, a news Atom feed carrying a wire copy of the
/// agency's story) and a webhook receiver; two cycles run in a temporary state folder, the second
/// after new items were published; then the digest is built. Everything printed comes from the
/// store and from what the receiver got.
public enum Demo {
    /// What the loopback server serves and what it received.
    actor Stage {
        var round = 1
        var received: [(id: String, verified: Bool, body: Data)] = []
        let signer: WebhookSigner

        init(signer: WebhookSigner) { self.signer = signer }

        func nextRound() { round += 1 }

        func document(_ path: String) -> (type: String, body: String)? {
            switch path {
            case "/bis.xml": ("application/rss+xml", DemoFixtures.agencyFeed(round: round))
            case "/mofcom.html": ("text/html; charset=utf-8", DemoFixtures.ministryPage(round: round))
            case "/news.atom": ("application/atom+xml", DemoFixtures.newsFeed(round: round))
            default: nil
            }
        }

        /// Checks a delivery's Standard Webhooks signature against the demo's secret.
        func receive(id: String, timestamp: String, signature: String, body: Data) -> Bool {
            let expected = signer.headers(id: id, timestamp: Int(timestamp) ?? 0, body: body)
                .first { $0.name == "webhook-signature" }?.value
            let verified = expected == signature
            received.append((id, verified, body))
            return verified
        }
    }

    /// Runs the demo, printing as it goes. Returns false when something did not work.
    public static func run(print: @Sendable (String) -> Void) async throws -> Bool {
        let folder = FileManager.default.temporaryDirectory.appending(
            path: "exportwatch-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let stage = Stage(signer: WebhookSigner(scheme: .standard(keys: [try WebhookSigner.standardKey(from: secret)])))

        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), logger: .disabled)
        await server.appendRoute("POST /hook") { request in
            let body = try await request.bodyData
            _ = await stage.receive(
                id: request.headers[HTTPHeader("webhook-id")] ?? "",
                timestamp: request.headers[HTTPHeader("webhook-timestamp")] ?? "",
                signature: request.headers[HTTPHeader("webhook-signature")] ?? "", body: body)
            return HTTPResponse(statusCode: .noContent)
        }
        await server.appendRoute("GET *") { request in
            guard let document = await stage.document(request.path) else { return HTTPResponse(statusCode: .notFound) }
            return HTTPResponse(
                statusCode: .ok, headers: [HTTPHeader("Content-Type"): document.type], body: Data(document.body.utf8))
        }
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        try await server.waitUntilListening()
        guard case .ip4(_, let port) = await server.listeningAddress else { return false }

        let text = DemoFixtures.configuration(port: Int(port), folder: folder.path, secret: secret)
        let configuration = try ConfigurationLoader().parse(text, fileName: "demo.toml", folder: folder)
        let topics = ConfigurationLoader().builtInTopics()
        let quiet = Logger(label: "exportwatch-demo") { _ in SwiftLogNoOpLogHandler() }
        let parts = try DaemonParts(configuration: configuration, topics: topics, logger: quiet)

        print("exportwatch demo: 3 sources and a webhook receiver on 127.0.0.1:\(port); state in \(folder.path)")
        var ok = true
        var seen: Set<String> = []
        for round in 1...2 {
            if round == 2 {
                await stage.nextRound()
                print("\n… new items are published …")
            }
            let before = await stage.received.count
            let report = try await parts.poll(configuration.sources)
            let pending = try await parts.deliver(until: .now + .seconds(10))
            print(
                "\ncycle \(round): \(report.polled) sources polled, \(report.newItems) new items, \(report.newRelevantItems) relevant"
            )
            let items = try await parts.store.items(matching: ItemFilter(limit: 1_000))
            for item in items.reversed() where !seen.contains(item.id) {
                print("  \(item.relevant ? "relevant" : "ignored ") \(item.source): \(item.title)")
                if let topic = item.topics.first {
                    let terms = topic.matched.prefix(3).joined(separator: ", ")
                    let story =
                        item.events.contains(where: \.announcesStory)
                        ? "announces its story" : "joins a story already announced: no second alert"
                    print("           \(topic.id) \(String(format: "%.2f", topic.score)) [\(terms)]; \(story)")
                }
            }
            seen.formUnion(items.map(\.id))
            let received = await stage.received.dropFirst(before)
            for delivery in received {
                let event = try? PolicyEventBody.decode(delivery.body)
                let title =
                    event.map {
                        "\($0.type) \($0.item.title) (story sources: \($0.story.sources.joined(separator: ", ")))"
                    } ?? "?"
                print("  webhook got \(delivery.id): \(title), signature \(delivery.verified ? "valid" : "INVALID")")
                ok = ok && delivery.verified
            }
            if pending > 0 {
                print("  \(pending) deliveries still pending")
                ok = false
            }
        }
        let today = DayWindow.containing(Date(), timeZone: configuration.daemon.timeZone)
        let built = try await parts.digests.build(today)
        try await parts.digests.writeAlertsFeed()
        print(
            "\ndigest of \(today.day) (\(built.stories) stories): "
                + built.files.map { configuration.daemon.digestDirectory.appending(path: $0).path }.joined(
                    separator: ", "))
        print("alerts feed: \(configuration.daemon.digestDirectory.appending(path: "alerts.atom").path)")
        print("\nLook around: exportwatch items list --config \(folder.appending(path: "demo.toml").path)")
        try text.write(to: folder.appending(path: "demo.toml"), atomically: true, encoding: .utf8)
        await server.stop()
        return ok
    }
}

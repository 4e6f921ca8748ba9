import ArgumentParser
import Daemon
import Foundation

/// `exportwatch webhooks …`: the webhooks, their outbox, dead letters and a test delivery.
struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract:
            "Inspect webhooks and their outbox, requeue failed events, drop a removed webhook's rows, send a test event.",
        subcommands: [List.self, Outbox.self, Retry.self, Discard.self, Test.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Print each webhook's format, events, topics, outbox counts and state (disabled after a 410).")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            print(try await WebhookOverview.list(options.load().configuration))
        }
    }

    struct Outbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outbox", abstract: "Print the newest outbox rows.")

        @OptionGroup var options: ConfigOptions
        @Flag(help: "Only the dead letters (permanent failures and exhausted retries).")
        var failed = false

        func run() async throws {
            print(try await WebhookOverview.outbox(options.load().configuration, failedOnly: failed))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Put dead letters back in the outbox, due now: one event's, or all of them.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The event id (evt_… or bat_…) to requeue.")
        var eventID: String?
        @Flag(help: "Requeue every dead letter.")
        var allFailed = false

        func validate() throws {
            guard (eventID == nil) != (!allFailed) else {
                throw ValidationError("give either an EVENT_ID or --all-failed")
            }
        }

        func run() async throws {
            let count = try await WebhookOverview.retry(
                options.load().configuration, eventID: allFailed ? nil : eventID)
            print("requeued \(count) outbox row\(count == 1 ? "" : "s")")
            if count == 0, let eventID, !allFailed {
                throw NothingDone(
                    description: "\(eventID) has no dead letter to requeue (it may be pending, sent, or not an event "
                        + "id; `webhooks outbox --failed` lists the dead letters)")
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "discard",
            abstract: "Dead-letter the pending rows of a webhook taken out of the configuration.",
            discussion: """
                A removed webhook's rows are kept and wait for it to come back; this gives them up. They stay in
                `webhooks outbox --failed` (and `webhooks retry` puts them back) until outbox_retention prunes them.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The id of the removed webhook.")
        var id: String

        func run() async throws {
            let count: Int
            do {
                count = try await WebhookOverview.discard(options.load().configuration, webhookID: id)
            } catch let refused as WebhookOverview.DiscardRefused {
                throw ValidationError(refused.description)
            }
            print("discarded \(count) pending outbox row\(count == 1 ? "" : "s") of webhook \(id)")
            if count == 0 {
                throw NothingDone(
                    description: "the outbox holds no pending row of webhook \"\(id)\" (`webhooks list` names the "
                        + "removed webhooks that have some)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Send a signed sample event to one webhook and print the response.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The webhook id.")
        var id: String

        func run() async throws {
            let configuration = try options.load().configuration
            guard let (ok, report) = try await WebhookOverview.test(configuration, webhookID: id) else {
                let known = configuration.webhooks.map(\.id).joined(separator: ", ")
                throw ValidationError("no webhook \"\(id)\" (configured: \(known.isEmpty ? "none" : known))")
            }
            print(report)
            if !ok { throw ExitCode(1) }
        }
    }
}

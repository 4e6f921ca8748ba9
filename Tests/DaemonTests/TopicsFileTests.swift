import Classification
import Foundation
import Logging
import Store
import Testing

@testable import Daemon

/// The shipped topics file, loaded as the daemon loads it, against the labelled development set.
@Suite("Topics file")
struct TopicsFileTests {
    static let topicsPath = URL(filePath: #filePath).deletingLastPathComponent().appending(
        path: "../../feeds/topics.toml"
    )
    .standardizedFileURL.path

    struct Labelled: Decodable {
        var id: String
        var title: String
        var summary: String
        var topics: [String]
    }

    @Test("feeds/topics.toml is valid and defines the ten topics of DESIGN.md §6")
    func shippedTopics() throws {
        let topics = try ConfigurationLoader(environment: [:]).loadTopics(path: Self.topicsPath)
        #expect(
            Set(topics.map(\.id)) == [
                "ai-model-controls", "chip-controls", "cloud-compute", "us-legislation", "entity-list-sanctions",
                "multilateral-regimes", "china-response", "ai-governance-dialogue", "industry-impact", "open-source-ai",
            ])
        #expect(topics.allSatisfy { !$0.terms.isEmpty && !$0.groups.isEmpty })
    }

    @Test("on the development set: micro-F1 ≥ 0.85 and relevance-F1 ≥ 0.93, Chinese as good as English")
    func developmentSet() throws {
        let classifier = Classifier(topics: try ConfigurationLoader(environment: [:]).loadTopics(path: Self.topicsPath))
        let url = Bundle.module.url(forResource: "Fixtures/classify-dev", withExtension: "jsonl")!
        let items = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Labelled.self, from: Data($0.utf8))
        }
        #expect(items.count >= 150)
        func scores(_ subset: [Labelled]) -> (micro: Double, relevance: Double) {
            var (tp, fp, fn, rtp, rfp, rfn) = (0, 0, 0, 0, 0, 0)
            for item in subset {
                let result = classifier.classify(title: item.title, summary: item.summary)
                let predicted = Set(result.topics.filter(\.passes).map(\.id))
                let gold = Set(item.topics)
                tp += gold.intersection(predicted).count
                fp += predicted.subtracting(gold).count
                fn += gold.subtracting(predicted).count
                if result.relevant && !gold.isEmpty { rtp += 1 }
                if result.relevant && gold.isEmpty { rfp += 1 }
                if !result.relevant && !gold.isEmpty { rfn += 1 }
            }
            return (Double(2 * tp) / Double(2 * tp + fp + fn), Double(2 * rtp) / Double(2 * rtp + rfp + rfn))
        }
        let chinese = items.filter { $0.title.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF } }
        let english = items.filter { item in !chinese.contains { $0.id == item.id } }
        let all = scores(items)
        #expect(all.micro >= 0.85, "micro-F1 \(all.micro)")
        #expect(all.relevance >= 0.93, "relevance-F1 \(all.relevance)")
        #expect(scores(chinese).micro >= 0.85 && scores(english).micro >= 0.85)
        #expect(chinese.count >= 60 && english.count >= 60)
    }

    @Test("the built-in topics are feeds/topics.toml (run scripts/generate-built-in-topics after editing it)")
    func builtInCopy() throws {
        let shipped = try String(contentsOfFile: Self.topicsPath, encoding: .utf8)
        func lines(_ text: String) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            .filter { !$0.isEmpty }
        }
        #expect(lines(BuiltInTopics.text) == lines(shipped))
        #expect(ConfigurationLoader(environment: [:]).builtInTopics().count == 10)
    }

    @Test("mistakes in a topics file are reported with their lines")
    func topicsErrors() {
        let text = """
            [[topic]]
            id = "chips"
            threshold = 1.5
            [topic.terms]
            "Export Controls" = 0.4
            "export controls" = 0.5
            [[topic.require]]
            terms = []
            """
        do {
            _ = try ConfigurationLoader(environment: [:]).parseTopics(text, fileName: "topics.toml")
            Issue.record("expected the topics file to be rejected")
        } catch {
            let messages = error.issues.map(\.description)
            #expect(
                messages.contains {
                    $0.hasPrefix("topics.toml:3: topic \"chips\": threshold: expected a number from 0.0 to 1.0")
                })
            #expect(messages.contains { $0.contains("after normalization, with another weight") })
            #expect(messages.contains { $0.contains("a group needs at least one term") })
        }
    }

    @Test("a threshold that all the topic's terms together cannot reach is an error, unless identifiers count")
    func unreachableThreshold() throws {
        let text = """
            [[topic]]
            id = "open-models"
            threshold = 0.8
            [topic.terms]
            "open weights" = 0.4
            "llama" = 0.5
            """
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:]).parseTopics(text, fileName: "topics.toml")
        }
        #expect(
            error?.description
                == #"topics.toml:3: topic "open-models": threshold: 0.8 cannot be reached: all the topic's terms together score 0.7; it would never pass"#
        )
        let reachable = text.replacingOccurrences(of: "threshold = 0.8", with: "threshold = 0.7")
        #expect(try ConfigurationLoader(environment: [:]).parseTopics(reachable, fileName: "topics.toml").count == 1)
        let withIdentifiers = text + "\n[topic.identifier_weights]\neccn = 0.3\n"
        #expect(
            try ConfigurationLoader(environment: [:]).parseTopics(withIdentifiers, fileName: "topics.toml").count == 1)
    }

    @Test("opening the daemon's parts reports a topics file's mistakes before a store that cannot open")
    func topicsMistakesComeFirst() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ew-open-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A file where the state folder should be: the store cannot open.
        let stateFile = folder.appending(path: "state")
        try Data().write(to: stateFile)
        let topicsFile = folder.appending(path: "topics.toml")
        try "[[topic]]\nid = \"chips\"\nthreshold = 1.5\n".write(to: topicsFile, atomically: true, encoding: .utf8)
        let configurationPath = folder.appending(path: "exportwatch.toml").path
        let configuration = try ConfigurationLoader(environment: [:]).parse(
            "[daemon]\nstate_dir = \"\(stateFile.path)\"\n", fileName: configurationPath, folder: folder)
        let logger = Logger(label: "exportwatch-test")

        await #expect(throws: ConfigurationError.self) {
            try await DaemonParts.open(
                configuration: configuration, configurationPath: configurationPath, logger: logger)
        }
        // Without the topics file (the built-in topics then), the store's error is the one left.
        try FileManager.default.removeItem(at: topicsFile)
        await #expect(throws: StoreError.self) {
            try await DaemonParts.open(
                configuration: configuration, configurationPath: configurationPath, logger: logger)
        }
    }
}

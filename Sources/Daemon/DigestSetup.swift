public import Classification
public import Digest
public import Store

extension ConfigurationLoader {
    /// The topics a configuration uses: its topics file, or the built-in copy when it names none
    /// and has none beside it.
    /// - Throws: ``ConfigurationError`` for a topics file with mistakes, and for a webhook whose
    ///   `topics` names a topic that is not among them (a typo there would silence the webhook).
    public func topics(for configuration: Configuration, configurationPath: String) throws(ConfigurationError)
        -> [Topic]
    {
        let path = topicsPath(for: configuration, configurationPath: configurationPath)
        let topics = if let path { try loadTopics(path: path) } else { builtInTopics() }
        let known = topics.map(\.id)
        let issues = configuration.webhooks.flatMap { webhook in
            webhook.topics.filter { !known.contains($0) }.map { topic in
                let hint = ConfigValues.suggestion(for: topic, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                return ConfigurationIssue(
                    file: configurationPath, line: nil,
                    message: "webhook \"\(webhook.id)\": topics: no topic \"\(topic)\" in "
                        + (path ?? "the built-in topics") + hint + "; it would never be sent anything")
            }
        }
        guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        return topics
    }
}

extension Configuration {
    /// The digest builder of this configuration, writing to `digest_dir`.
    public func digestBuilder(store: any EventStore, topics: [Topic]) -> DigestBuilder {
        DigestBuilder(
            store: store, folder: daemon.digestDirectory,
            schedule: DigestSchedule(hour: digest.hour, minute: digest.minute, timeZone: daemon.timeZone),
            formats: digest.formats.map { format in
                switch format {
                case .markdown: .markdown
                case .html: .html
                case .json: .json
                }
            }, atomFeed: digest.atomFeed, topics: topics.map { ($0.id, $0.name) },
            receivers: webhooks.filter { $0.events.contains("digest.created") }.map(\.id))
    }
}

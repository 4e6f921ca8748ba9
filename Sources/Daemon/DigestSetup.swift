public import Classification
public import Digest
public import Store

extension ConfigurationLoader {
    /// The topics a configuration uses: its topics file, or the built-in copy when it names none
    /// and has none beside it.
    /// - Throws: ``ConfigurationError`` for a topics file with mistakes.
    public func topics(for configuration: Configuration, configurationPath: String) throws(ConfigurationError)
        -> [Topic]
    {
        guard let path = topicsPath(for: configuration, configurationPath: configurationPath)
        else { return builtInTopics() }
        return try loadTopics(path: path)
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

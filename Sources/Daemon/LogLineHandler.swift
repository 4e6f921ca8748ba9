public import Foundation
public import Logging

/// A swift-log handler that writes one line per event to standard error:
/// `2026-05-10T06:30:00Z info exportwatch: fetched source=fr-bis status=200 items=20`.
///
/// When `JOURNAL_STREAM` is set (systemd connected standard error to the journal), each line
/// starts with a `<N>` syslog priority instead of the time and level, so journald keeps the
/// level and adds its own timestamp.
public struct LogLineHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let journal: Bool
    private let write: @Sendable (String) -> Void

    /// Creates a handler.
    /// - Parameters:
    ///   - label: the logger's label, printed before the message.
    ///   - journal: whether to prefix syslog priorities for journald (see ``bootstrap(level:environment:)``).
    ///   - write: where finished lines go; standard error by default.
    public init(
        label: String, journal: Bool, write: @escaping @Sendable (String) -> Void = LogLineHandler.standardError
    ) {
        self.label = label
        self.journal = journal
        self.write = write
    }

    /// The level `EXPORTWATCH_LOG_LEVEL` asks for (`trace`, `debug`, `info`, `notice`, `warning`,
    /// `error` or `critical`, in any case), or `info` when it is unset or empty. `debug` adds a
    /// line for every poll that found nothing new; `warning` keeps only what needs attention.
    /// - Throws: ``LogLevelError`` for any other value.
    public static func level(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(LogLevelError) -> Logger.Level {
        guard let text = environment[LogLevelError.variable], !text.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else { throw LogLevelError(found: text) }
        return level
    }

    /// Installs this handler for the whole process. Call once, from the executable, before logging.
    public static func bootstrap(
        level: Logger.Level, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let journal = environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false
        LoggingSystem.bootstrap { label in
            var handler = LogLineHandler(label: label, journal: journal)
            handler.logLevel = level
            return handler
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        write(format(level: event.level, message: "\(event.message)", metadata: merged, date: Date()))
    }

    /// The line for one event, without its trailing newline.
    func format(level: Logger.Level, message: String, metadata: Logger.Metadata, date: Date) -> String {
        var line = journal ? "<\(Self.syslogPriority(level))>" : "\(date.formatted(.iso8601)) \(level) "
        line += "\(label): \(Self.singleLine(message))"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(Self.quoted("\(metadata[key]!)"))"
        }
        return line
    }

    /// The syslog priority journald reads from a `<N>` prefix (sd-daemon.h).
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A value as it appears after `key=`: bare when plain, quoted with escapes otherwise.
    static func quoted(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy {
                !$0.properties.isWhitespace && $0 != "\"" && $0 != "=" && $0.value >= 0x20
            }
        guard !plain else { return value }
        var escaped = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// Messages stay on one line so that one event is one line, whatever a feed put in a title.
    private static func singleLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? text.split(whereSeparator: \.isNewline).joined(separator: " ") : text
    }

    /// Writes a line to standard error in one `write` call, so concurrent lines never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}

/// An `EXPORTWATCH_LOG_LEVEL` that names no level.
public struct LogLevelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable read.
    public static let variable = "EXPORTWATCH_LOG_LEVEL"
    /// What it held.
    public var found: String

    public var description: String {
        let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        return "\(Self.variable): expected one of \(levels); found \"\(found)\""
    }
}

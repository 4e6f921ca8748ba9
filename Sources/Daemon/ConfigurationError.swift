/// One mistake in a configuration file, located by line.
public struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file's name as the user gave it.
    public var file: String
    /// The 1-based line of the offending key, table or syntax error; nil when the file as a whole is wrong.
    public var line: Int?
    /// What is wrong, naming the key, what was expected and what was found (never a secret's value).
    public var message: String

    /// Creates an issue.
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the form editors and CI logs link to.
    public var description: String {
        if let line { "\(file):\(line): \(message)" } else { "\(file): \(message)" }
    }
}

/// A configuration that cannot be used, with every mistake found in it, not only the first.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every mistake, in file order.
    public var issues: [ConfigurationIssue]

    /// Creates an error from its issues.
    public init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

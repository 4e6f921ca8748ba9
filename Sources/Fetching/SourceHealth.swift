/// A source's health, as a state machine: `ok` → `failing` after `failure_threshold` consecutive
/// failures → `ok` on the first success; `ok` → `empty` when a page that used to give items
/// gives none (its markup changed under the rules) → `ok` when items come back; `retired` when
/// the server says 410 Gone.
///
/// Each event returns the transition to announce, if any, so that `source.down` and
/// `source.recovered` are told exactly once per crossing and never in between.
public struct SourceHealth: Sendable, Equatable {
    /// Where a source stands.
    public enum State: Sendable, Equatable {
        /// Working, or failing fewer times in a row than the threshold.
        case ok
        /// Failed `failure_threshold` or more times in a row; `reason` is the latest failure.
        case failing(reason: String)
        /// Fetched fine, but the document that used to give items gives none: the site changed.
        case empty(reason: String)
        /// Gone for good (HTTP 410): not polled until its configuration changes.
        case retired(reason: String)

        /// `ok`, `failing`, `empty` or `retired`: the name stored and shown.
        public var name: String {
            switch self {
            case .ok: "ok"
            case .failing: "failing"
            case .empty: "empty"
            case .retired: "retired"
            }
        }

        /// Why the source is not ok; nil when it is.
        public var reason: String? {
            switch self {
            case .ok: nil
            case .failing(let reason), .empty(let reason), .retired(let reason): reason
            }
        }
    }

    /// A crossing worth announcing, named as its webhook event type.
    public enum Transition: String, Sendable, Equatable {
        case down = "source.down"
        case recovered = "source.recovered"
        case retired = "source.retired"
        case parseEmpty = "source.parse_empty"
    }

    /// The current state.
    public private(set) var state: State
    /// Failures in a row; 0 after a success.
    public private(set) var consecutiveFailures: Int

    /// A healthy source with no failures.
    public init() {
        self.init(state: .ok, consecutiveFailures: 0)
    }

    /// Restores a stored health.
    public init(state: State, consecutiveFailures: Int) {
        self.state = state
        self.consecutiveFailures = consecutiveFailures
    }

    /// Whether the source is retired.
    public var isRetired: Bool {
        if case .retired = state { true } else { false }
    }

    /// A poll fetched its document. A source that is `empty` stays so until items come back.
    public mutating func recordSuccess() -> Transition? {
        consecutiveFailures = 0
        switch state {
        case .ok, .retired, .empty:
            return nil
        case .failing:
            state = .ok
            return .recovered
        }
    }

    /// A fetched document was read: `itemCount` items, where the previous read gave `previousCount`.
    /// - Parameter byRules: whether it was an HTML page read with a source's rules: rules that have
    ///   never found an item on their page are wrong (or the page builds its list with script), and
    ///   such a source is `empty` from its first read, not `ok` with nothing to show for it.
    public mutating func recordItems(_ itemCount: Int, previousCount: Int?, byRules: Bool = false) -> Transition? {
        switch state {
        case .ok where itemCount == 0 && (previousCount ?? 0) > 0:
            state = .empty(reason: "the page gave no items where it gave \(previousCount!) before; check its rules")
            return .parseEmpty
        case .ok where itemCount == 0 && byRules:
            state = .empty(
                reason: "the rules have found no items on the page; check them with exportwatch fetch URL --item …")
            return .parseEmpty
        case .empty where itemCount > 0:
            state = .ok
            return .recovered
        default:
            return nil
        }
    }

    /// A poll failed; `threshold` is `failure_threshold`.
    public mutating func recordFailure(reason: String, threshold: Int) -> Transition? {
        guard !isRetired else { return nil }
        consecutiveFailures += 1
        switch state {
        case .ok where consecutiveFailures >= threshold:
            state = .failing(reason: reason)
            return .down
        case .failing:
            state = .failing(reason: reason)
            return nil
        case .ok, .retired, .empty:
            return nil
        }
    }

    /// The server said the source is gone for good.
    public mutating func recordGone(reason: String) -> Transition? {
        guard !isRetired else { return nil }
        state = .retired(reason: reason)
        return .retired
    }
}

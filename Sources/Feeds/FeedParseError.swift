/// A document that holds no feed at all.
public struct FeedParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why, e.g. `not a feed: the root element is <html>` or `not XML or JSON: …`.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

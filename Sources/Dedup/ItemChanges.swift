import Classification

/// One field of a known item that changed materially.
public struct FieldChange: Sendable, Equatable {
    /// Which field: `title`, `summary` or `content`.
    public var field: String
    /// The stored text.
    public var before: String
    /// The text now.
    public var after: String

    /// Creates a change.
    public init(field: String, before: String, after: String) {
        self.field = field
        self.before = before
        self.after = after
    }
}

/// The text of an item as compared between fetches.
public struct ItemText: Sendable, Equatable {
    public var title: String
    public var summary: String?
    public var content: String?

    /// Creates an item's text.
    public init(title: String, summary: String?, content: String?) {
        self.title = title
        self.summary = summary
        self.content = content
    }
}

/// Tells a material edit of an item from a cosmetic one.
///
/// Texts are compared as words (Latin) and characters (Chinese) after normalisation, so changes
/// of whitespace, markup, entities, case, full-width forms and tracking parameters in links
/// vanish. The title changed materially when any word did; a summary or the content when at
/// least ``minimumChangedWords`` words were added or removed, or any changed word holds a digit
/// (a date, an amount, an ECCN). The date is not compared: a re-dated item is the same item.
public enum ChangeDetector {
    /// Words that must change in a summary or the content for the edit to count.
    public static let minimumChangedWords = 3

    /// What changed between the stored text and the fetched one.
    /// - Returns: the material changes (empty when none) and whether anything changed at all.
    public static func compare(stored: ItemText, fetched: ItemText) -> (material: [FieldChange], anyChange: Bool) {
        var material: [FieldChange] = []
        let anyChange = stored != fetched
        guard anyChange else { return ([], false) }
        if words(stored.title) != words(fetched.title) {
            material.append(FieldChange(field: "title", before: stored.title, after: fetched.title))
        }
        for (field, before, after) in [
            ("summary", stored.summary, fetched.summary), ("content", stored.content, fetched.content),
        ] where before != after && changedMaterially(before ?? "", after ?? "") {
            material.append(FieldChange(field: field, before: before ?? "", after: after ?? ""))
        }
        return (material, anyChange)
    }

    static func changedMaterially(_ before: String, _ after: String) -> Bool {
        var counts: [Substring: Int] = [:]
        for word in words(before) { counts[word, default: 0] += 1 }
        for word in words(after) { counts[word, default: 0] -= 1 }
        var changed = 0
        for (word, count) in counts where count != 0 {
            if word.contains(where: \.isNumber) { return true }
            changed += abs(count)
        }
        return changed >= minimumChangedWords
    }

    /// The words of a text, links reduced to their canonical form first.
    static func words(_ text: String) -> [Substring] {
        let withCanonicalLinks = text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.hasPrefix("http://") || word.hasPrefix("https://")
                ? CanonicalURL.canonicalize(String(word)) ?? String(word) : String(word)
        }.joined(separator: " ")
        return StoryText.tokens(of: TextNormalizer.normalize(withCanonicalLinks), droppingFunctionWords: false)
            .map(\.text)
    }
}

import Foundation

/// The digest as Markdown: what a person reads in a mail client or a repository.
public enum MarkdownRenderer {
    /// The file's text.
    public static func render(_ digest: DigestDay) -> String {
        var lines: [String] = []
        lines.append("# exportwatch digest: \(digest.day) (\(digest.timeZone))")
        lines.append("")
        lines.append(
            "**\(digest.storyCount) \(plural(digest.storyCount, "story", "stories"))** from "
                + "\(digest.itemCount) relevant \(plural(digest.itemCount, "item", "items")) · "
                + "\(digest.sourcesPolled) \(plural(digest.sourcesPolled, "source", "sources")) polled · "
                + "\(digest.sourcesFailing.count) failing")
        lines.append("")
        lines.append("_\(escape(digest.basis))_")
        if !digest.topics.isEmpty {
            lines += ["", "| Topic | Stories | Items |", "|---|---:|---:|"]
            for topic in digest.topics {
                lines.append("| \(escape(topic.name)) | \(topic.stories) | \(topic.items) |")
            }
        }
        for section in digest.sections {
            lines += ["", "## \(escape(section.name)) (\(section.stories.count))", ""]
            for story in section.stories {
                var line = "- **\(linked(story.title, story.link))** · \(escape(story.source)) · \(story.localTime)"
                line += " · score \(String(format: "%.2f", story.score))"
                if story.updated { line += " · **updated**" }
                lines.append(line)
                var details: [String] = []
                if !story.matched.isEmpty {
                    details.append("matched: " + story.matched.map(escape).joined(separator: ", "))
                }
                if !story.identifiers.isEmpty {
                    details.append(
                        "identifiers: "
                            + story.identifiers.map { "`\($0.replacing("`", with: "'"))`" }.joined(separator: ", "))
                }
                if !details.isEmpty { lines.append("  " + details.joined(separator: " · ")) }
                for report in story.otherReports {
                    lines.append(
                        "  - also \(escape(report.source)) · \(report.localTime): \(linked(report.title, report.link))")
                }
            }
        }
        if digest.sections.isEmpty { lines += ["", "No relevant items were first seen this day."] }
        if !digest.problems.isEmpty {
            lines += ["", "## Sources with problems", ""]
            for problem in digest.problems {
                var line = "- \(escape(problem.source)): \(problem.type)"
                if let time = problem.localTime { line += " at \(time)" }
                if let reason = problem.reason { line += ": \(escape(reason))" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func plural(_ count: Int, _ one: String, _ many: String) -> String { count == 1 ? one : many }

    /// Feed text with Markdown's inline active characters escaped, on one line.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character.isNewline {
                escaped.append(" ")
                continue
            }
            // What is active inside a line (feed text never starts one here): emphasis, code,
            // links, HTML, table cells, strike-through.
            if "\\`*_[]<>|~".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// `[title](link)` when the link is http(s), with characters that would end the link escaped.
    static func linked(_ title: String, _ link: String?) -> String {
        guard let link, link.hasPrefix("http://") || link.hasPrefix("https://") else { return escape(title) }
        let target = link.replacing(" ", with: "%20").replacing("(", with: "%28").replacing(")", with: "%29")
            .replacing("<", with: "%3C").replacing(">", with: "%3E")
        return "[\(escape(title))](\(target))"
    }
}

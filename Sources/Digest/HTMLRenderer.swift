import Foundation

/// The digest as one self-contained HTML page: inline CSS, no scripts, no remote fonts or images,
/// readable on a phone, with a 14-day chart of relevant items per topic as an SVG embedded in the
/// page (a `data:` URI, not an `<svg>` element: the HTML parser of libxml2 2.9, Debian 12's, takes
/// every SVG element for an invalid tag, and the page must parse without errors). Every string from
/// a feed is escaped, so a title holding markup shows as text.
public enum HTMLRenderer {
    /// The page.
    public static func render(_ digest: DigestDay, topicNames: [String: String]) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>exportwatch digest \(escape(digest.day))</title>
            <style>
            body{margin:0 auto;max-width:46rem;padding:1rem;line-height:1.5;color:#1f2328;background:#fff;
            font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Source Han Sans SC",
            "PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif}
            h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #d0d7de}
            a{color:#0969da;overflow-wrap:anywhere}.meta,.basis{color:#57606a;font-size:.9rem}
            table{border-collapse:collapse;margin:.8rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #eaeef2;text-align:left}
            td.n{text-align:right}ul{padding-left:1.1rem}li{margin:.5rem 0}.also{font-size:.9rem;color:#57606a}
            .updated{background:#fff8c5;border-radius:3px;padding:0 .3rem;font-size:.8rem}
            code{font-size:.85rem;background:#f6f8fa;padding:0 .2rem}img.chart{max-width:100%;height:auto;background:#fff}
            @media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#4493f8}
            .meta,.basis,.also{color:#9198a1}code{background:#161b22}td,th{border-color:#30363d}}
            </style>
            </head>
            <body>
            <h1>exportwatch digest: \(escape(digest.day))</h1>

            """
        html += "<p class=\"meta\">\(escape(digest.timeZone)) · <strong>\(digest.storyCount)</strong> stories from "
        html += "\(digest.itemCount) relevant items · \(digest.sourcesPolled) sources polled · "
        html += "\(digest.sourcesFailing.count) failing</p>\n"
        html += "<p class=\"basis\">\(escape(digest.basis))</p>\n"
        if !digest.topics.isEmpty {
            html += "<table><thead><tr><th>Topic</th><th>Stories</th><th>Items</th></tr></thead><tbody>\n"
            for topic in digest.topics {
                html += "<tr><td>\(escape(topic.name))</td><td class=\"n\">\(topic.stories)</td>"
                html += "<td class=\"n\">\(topic.items)</td></tr>\n"
            }
            html += "</tbody></table>\n"
        }
        if let svg = chart(digest.chart, topicNames: topicNames) {
            let total = digest.chart.map { $0.counts.values.reduce(0, +) }.reduce(0, +)
            html += "<p><img class=\"chart\" width=\"560\" alt=\"Relevant items per topic over the last "
            html += "\(digest.chart.count) days: \(total) in all\" src=\"data:image/svg+xml;base64,"
            html += Data(svg.utf8).base64EncodedString() + "\"></p>\n"
        }
        for section in digest.sections {
            html += "<h2>\(escape(section.name)) (\(section.stories.count))</h2>\n<ul>\n"
            for story in section.stories {
                html += "<li><strong>\(linked(story.title, story.link))</strong>"
                if story.updated { html += " <span class=\"updated\">updated</span>" }
                html += "<br><span class=\"meta\">\(escape(story.source)) · \(escape(story.localTime)) · score "
                html += "\(String(format: "%.2f", story.score))"
                if !story.matched.isEmpty { html += " · matched: " + story.matched.map(escape).joined(separator: ", ") }
                if !story.identifiers.isEmpty {
                    html += " · " + story.identifiers.map { "<code>\(escape($0))</code>" }.joined(separator: " ")
                }
                html += "</span>"
                if !story.otherReports.isEmpty {
                    html += "\n<ul class=\"also\">\n"
                    for report in story.otherReports {
                        html += "<li>\(escape(report.source)) · \(escape(report.localTime)): "
                        html += "\(linked(report.title, report.link))</li>\n"
                    }
                    html += "</ul>"
                }
                html += "</li>\n"
            }
            html += "</ul>\n"
        }
        if digest.sections.isEmpty { html += "<p>No relevant items were first seen this day.</p>\n" }
        if !digest.problems.isEmpty {
            html += "<h2>Sources with problems</h2>\n<ul>\n"
            for problem in digest.problems {
                html += "<li>\(escape(problem.source)): \(escape(problem.type))"
                if let time = problem.localTime { html += " at \(escape(time))" }
                if let reason = problem.reason { html += ": \(escape(reason))" }
                html += "</li>\n"
            }
            html += "</ul>\n"
        }
        html += "</body>\n</html>\n"
        return html
    }

    /// Stacked bars of relevant items per topic per day, one colour per topic, with a legend: a
    /// standalone SVG document; nil when the days hold no items.
    static func chart(_ days: [DigestDay.ChartDay], topicNames: [String: String]) -> String? {
        let topics = Array(Set(days.flatMap(\.counts.keys))).sorted()
        guard !topics.isEmpty else { return nil }
        let palette = [
            "#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bc4c00", "#1b7c83", "#bf3989", "#57606a",
            "#116329",
        ]
        let width = 560
        let height = 160
        let barWidth = width / max(days.count, 1)
        let maximum = max(1, days.map { $0.counts.values.reduce(0, +) }.max() ?? 1)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height + 40 + 16 * ((topics.count + 2) / 3))\" "
        svg += "role=\"img\" aria-label=\"Relevant items per topic, last \(days.count) days\">\n"
        svg += "<title>Relevant items per topic, last \(days.count) days</title>\n"
        for (index, day) in days.enumerated() {
            var top = height
            for (colour, topic) in topics.enumerated() {
                let count = day.counts[topic] ?? 0
                guard count > 0 else { continue }
                let barHeight = max(1, count * height / maximum)
                top -= barHeight
                svg +=
                    "<rect x=\"\(index * barWidth + 2)\" y=\"\(top)\" width=\"\(barWidth - 4)\" height=\"\(barHeight)\" "
                svg += "fill=\"\(palette[colour % palette.count])\"><title>\(escape(day.day)) "
                svg += "\(escape(topicNames[topic] ?? topic)): \(count)</title></rect>\n"
            }
            let total = day.counts.values.reduce(0, +)
            svg += "<text x=\"\(index * barWidth + barWidth / 2)\" y=\"\(height + 14)\" font-size=\"10\" "
            svg += "text-anchor=\"middle\" fill=\"#57606a\">\(escape(String(day.day.suffix(5))))</text>\n"
            if total > 0 {
                svg += "<text x=\"\(index * barWidth + barWidth / 2)\" y=\"\(max(10, top - 2))\" font-size=\"9\" "
                svg += "text-anchor=\"middle\" fill=\"#57606a\">\(total)</text>\n"
            }
        }
        for (colour, topic) in topics.enumerated() {
            let x = (colour % 3) * (width / 3)
            let y = height + 30 + 16 * (colour / 3)
            svg +=
                "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(palette[colour % palette.count])\"/>"
            svg += "<text x=\"\(x + 14)\" y=\"\(y)\" font-size=\"11\" fill=\"#57606a\">"
            svg += "\(escape(topicNames[topic] ?? topic))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Text and attribute values escaped for HTML.
    static func escape(_ text: String) -> String { MarkupText.escape(text) }

    /// A link, only for http(s) URLs (a `javascript:` link from a feed becomes plain text).
    static func linked(_ title: String, _ link: String?) -> String {
        guard let link, link.hasPrefix("http://") || link.hasPrefix("https://") else { return escape(title) }
        return "<a href=\"\(escape(link))\">\(escape(title))</a>"
    }
}

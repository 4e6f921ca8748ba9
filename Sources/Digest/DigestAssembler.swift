public import Foundation
public import Store

/// Makes a ``DigestDay`` from what the store holds about a day. Pure, so the same records always
/// give the same digest, byte for byte once rendered.
public enum DigestAssembler {
    /// The basis sentence every digest states.
    static func basis(_ window: DayWindow) -> String {
        "Items are placed in the day on which exportwatch first saw them, in \(window.timeZone.identifier) "
            + "(00:00 to 24:00 local time, a \(window.hours)-hour day); items first seen earlier appear again "
            + "when they changed materially during the day."
    }

    /// Assembles a day's digest.
    /// - Parameters:
    ///   - topics: every topic's id and name, in the topics file's order.
    ///   - chartDays: the 14 windows ending with `window`, and the (first-seen, topic) pairs of their relevant items.
    public static func assemble(
        window: DayWindow, items: [DigestItemRecord], reports: [StoryReportRecord], polls: PollSummary,
        problems: [SourceProblemRecord], topics: [(id: String, name: String)], chartDays: [DayWindow],
        chartTimes: [(Date, String)]
    ) -> DigestDay {
        let order = Dictionary(topics.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let reportsByStory = Dictionary(grouping: reports, by: \.storyID)

        var stories: [(topic: String, story: DigestDay.Story)] = []
        for (storyID, storyItems) in Dictionary(grouping: items, by: \.storyID) {
            let ordered = storyItems.sorted { ($0.firstSeen, $0.id) < ($1.firstSeen, $1.id) }
            let primary = ordered[0]
            guard
                let best = primary.topics.min(by: {
                    ($0.score, -(order[$0.id] ?? .max)) > ($1.score, -(order[$1.id] ?? .max))
                })
            else { continue }
            let others = (reportsByStory[storyID] ?? []).filter { $0.itemID != primary.id }
                .sorted { ($0.firstSeen, $0.itemID) < ($1.firstSeen, $1.itemID) }
                .map {
                    DigestDay.Report(
                        source: $0.source, title: $0.title, link: $0.link, localTime: window.localTime($0.firstSeen))
                }
            stories.append(
                (
                    best.id,
                    DigestDay.Story(
                        id: primary.storyPublicID, title: primary.title, link: primary.link, source: primary.source,
                        firstSeen: primary.firstSeen, localTime: window.localTime(primary.firstSeen), score: best.score,
                        matched: best.matched, identifiers: primary.identifiers,
                        updated: storyItems.contains(where: \.updatedInWindow), otherReports: others)
                ))
        }

        let newItems = items.filter { $0.firstSeen >= window.start && $0.firstSeen < window.end }
        var counts: [DigestDay.TopicCount] = []
        for topic in topics {
            let storyCount = stories.count { $0.topic == topic.id }
            let itemCount = newItems.count { $0.topics.contains { $0.id == topic.id } }
            if storyCount > 0 || itemCount > 0 {
                counts.append(.init(id: topic.id, name: topic.name, stories: storyCount, items: itemCount))
            }
        }
        counts.sort { ($0.stories, $0.items, -(order[$0.id] ?? 0)) > ($1.stories, $1.items, -(order[$1.id] ?? 0)) }

        let sections = counts.filter { $0.stories > 0 }.map { count in
            DigestDay.Section(
                topic: count.id, name: count.name,
                stories: stories.filter { $0.topic == count.id }.map(\.story).sorted {
                    ($0.score, $1.firstSeen, $1.id) > ($1.score, $0.firstSeen, $0.id)
                })
        }

        var problemList = problems.filter { ["source.down", "source.retired", "source.parse_empty"].contains($0.type) }
            .map {
                DigestDay.Problem(
                    source: $0.source, type: $0.type, reason: $0.reason, localTime: window.localTime($0.at))
            }
        for source in polls.failing where !problemList.contains(where: { $0.source == source }) {
            problemList.append(.init(source: source, type: "failing", reason: nil, localTime: nil))
        }

        let chart = chartDays.map { day in
            var perTopic: [String: Int] = [:]
            for (seen, topic) in chartTimes where seen >= day.start && seen < day.end {
                perTopic[topic, default: 0] += 1
            }
            return DigestDay.ChartDay(day: day.day, counts: perTopic)
        }

        return DigestDay(
            day: window.day, timeZone: window.timeZone.identifier, start: window.start, end: window.end,
            hours: window.hours, basis: basis(window), storyCount: stories.count, itemCount: newItems.count,
            sourcesPolled: polls.polled, sourcesFailing: polls.failing, topics: counts, sections: sections,
            problems: problemList, chart: chart)
    }
}

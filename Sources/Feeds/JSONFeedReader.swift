import Foundation

/// Reads JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).
struct JSONFeedReader {
    let documentURL: URL?
    let dates: FeedDateParser
    let limits: FeedParser.Limits

    func read(_ data: Data) throws(FeedParseError) -> ParsedFeed {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw FeedParseError("not XML or JSON: the JSON is malformed")
        }
        guard let root = object as? [String: Any], let version = root["version"] as? String,
            version.contains("jsonfeed.org/version/") || version.hasPrefix("1")
        else { throw FeedParseError("not a feed: JSON without a JSON Feed version") }
        let isVersion10 = version.hasSuffix("/1") || version == "1" || version == "1.0"
        var feed = ParsedFeed(format: isVersion10 ? .jsonFeed10 : .jsonFeed11)
        feed.title = (root["title"] as? String).map(FeedText.plain).flatMap { $0.isEmpty ? nil : $0 }
        feed.link = url(root["home_page_url"], base: documentURL)
        feed.feedLink = url(root["feed_url"], base: documentURL)
        let base = documentURL ?? (feed.link ?? feed.feedLink).flatMap { URL(string: $0) }
        feed.description = root["description"] as? String
        feed.language = root["language"] as? String
        feed.image = url(root["icon"], base: base) ?? url(root["favicon"], base: base)
        feed.authors = authors(root)
        let entries = root["items"] as? [Any] ?? []
        for entry in entries.prefix(limits.maxItems) {
            guard let entry = entry as? [String: Any] else { continue }
            var item = ParsedItem()
            item.id = (entry["id"] as? String) ?? (entry["id"] as? NSNumber)?.stringValue
            item.title = (entry["title"] as? String).map(FeedText.plain).flatMap { $0.isEmpty ? nil : $0 }
            item.link = url(entry["url"], base: base)
            if let link = item.link { item.links = [Link(rel: "alternate", type: nil, href: link)] }
            if let external = url(entry["external_url"], base: base) {
                item.links.append(Link(rel: "related", type: nil, href: external))
            }
            item.summary = entry["summary"] as? String
            item.content = (entry["content_html"] as? String) ?? (entry["content_text"] as? String)
            item.published = (entry["date_published"] as? String).flatMap(dates.parse)
            item.updated = (entry["date_modified"] as? String).flatMap(dates.parse)
            item.authors = authors(entry)
            item.categories = (entry["tags"] as? [Any])?.compactMap { $0 as? String } ?? []
            item.enclosures = ((entry["attachments"] as? [Any]) ?? []).compactMap { attachment in
                guard let attachment = attachment as? [String: Any], let link = url(attachment["url"], base: base)
                else {
                    return nil
                }
                let size = (attachment["size_in_bytes"] as? NSNumber).map { $0.intValue }
                return Enclosure(url: link, type: attachment["mime_type"] as? String, length: size)
            }
            feed.items.append(item)
        }
        // JSON Feed dates only its items; the feed was updated when its newest item was.
        feed.published = feed.items.compactMap(\.published).max()
        feed.updated = feed.items.compactMap { $0.updated ?? $0.published }.max()
        if entries.count > limits.maxItems {
            feed.warnings.append(
                "\(entries.count - limits.maxItems) items beyond the limit of \(limits.maxItems) were dropped")
        }
        return feed
    }

    /// `authors` (1.1) or `author` (1.0).
    private func authors(_ object: [String: Any]) -> [Person] {
        let list = (object["authors"] as? [Any]) ?? (object["author"].map { [$0] } ?? [])
        return list.compactMap { entry in
            guard let entry = entry as? [String: Any] else { return nil }
            let person = Person(name: entry["name"] as? String, email: nil, uri: entry["url"] as? String)
            return person.name == nil && person.uri == nil ? nil : person
        }
    }

    private func url(_ value: Any?, base: URL?) -> String? {
        guard let text = value as? String, !FeedText.collapse(text).isEmpty else { return nil }
        return FeedURL.resolve(text, against: base)
    }
}

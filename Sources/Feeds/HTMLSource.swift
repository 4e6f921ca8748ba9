public import Foundation

/// How items are found on an HTML page that has no feed: a rule for the repeating element and,
/// inside it, rules for the title, link and optionally date, summary and id (DESIGN.md §4,
/// `html = { item = …, title = …, link = … }`).
///
/// Each rule is XPath when it looks like XPath (it has a `/`, `::`, `(` or starts with `@`), and
/// otherwise a selector of the ``CSSSelector`` subset, such as `ul.list1 > li` or `a@href`.
public struct HTMLRules: Sendable, Equatable {
    public var item: String
    public var title: String
    public var link: String
    public var date: String?
    public var summary: String?
    public var id: String?
    /// How the date text is written, strftime-style (`%Y年%m月%d日`, `%Y-%m-%d %H:%M`); nil tries the common forms.
    public var dateFormat: String?

    /// Creates a rule set.
    public init(
        item: String, title: String, link: String, date: String? = nil, summary: String? = nil, id: String? = nil,
        dateFormat: String? = nil
    ) {
        self.item = item
        self.title = title
        self.link = link
        self.date = date
        self.summary = summary
        self.id = id
        self.dateFormat = dateFormat
    }

    /// The rules as XPath, each checked to compile.
    /// - Throws: ``HTMLRuleError`` naming the rule (`item`, `title`, …) that does not compile.
    public func compiled() throws(HTMLRuleError) -> CompiledHTMLRules {
        func translate(_ key: String, _ rule: String?, withinItem: Bool) throws(HTMLRuleError) -> String? {
            guard let rule else { return nil }
            do {
                return try Self.xpath(for: rule, withinItem: withinItem)
            } catch {
                throw HTMLRuleError(description: "\(key): \(error.description)")
            }
        }
        if let dateFormat, !Self.isValidDateFormat(dateFormat) {
            throw HTMLRuleError(
                description:
                    "date_format: unsupported directive in \"\(dateFormat)\" (use %Y %y %m %d %e %H %M %S %b %B)")
        }
        return CompiledHTMLRules(
            item: try translate("item", item, withinItem: false)!,
            title: try translate("title", title, withinItem: true)!,
            link: try translate("link", link, withinItem: true)!,
            date: try translate("date", date, withinItem: true),
            summary: try translate("summary", summary, withinItem: true),
            id: try translate("id", id, withinItem: true),
            dateFormat: dateFormat)
    }

    /// One rule as XPath: translated when it is CSS, then compiled to check it.
    /// - Parameter withinItem: the rule is evaluated inside each item (all rules but `item`).
    /// - Throws: ``HTMLRuleError`` saying what is wrong with the rule.
    public static func xpath(for rule: String, withinItem: Bool) throws(HTMLRuleError) -> String {
        let xpath: String
        if isXPath(rule) {
            xpath = rule
        } else {
            do {
                xpath = try CSSSelector.xpath(rule, withinItem: withinItem)
            } catch {
                throw HTMLRuleError(description: "not a supported CSS selector (\(error)): \(rule)")
            }
        }
        try HTMLDocument.validate(xpath)
        return xpath
    }

    /// Whether every `%` directive of a `date_format` is one the parser reads.
    public static func isValidDateFormat(_ format: String) -> Bool {
        DateFormat.isValid(format)
    }

    /// Whether a rule is XPath rather than CSS.
    static func isXPath(_ rule: String) -> Bool {
        rule.contains("/") || rule.contains("::") || rule.contains("(") && !rule.contains(":nth-child(")
            || rule.hasPrefix("@") || rule.contains("[@") || rule.contains(#/\[\s*\d/#)
    }
}

/// ``HTMLRules`` translated to XPath and checked, ready for ``HTMLSourceParser``.
public struct CompiledHTMLRules: Sendable, Equatable {
    public var item: String
    public var title: String
    public var link: String
    public var date: String?
    public var summary: String?
    public var id: String?
    public var dateFormat: String?
}

/// Turns an HTML list page into items with ``CompiledHTMLRules``.
///
/// Charset: the HTTP charset, else the page's `<meta charset>` / `http-equiv`, else detection
/// (UTF-8 when the bytes are valid UTF-8, GB18030 when they look like two-byte Chinese, else
/// Windows-1252); GB2312 and GBK are read as GB18030. Links resolve against `<base href>`, then
/// the page's URL. An item's id is its `id` rule's value, else its link.
public struct HTMLSourceParser: Sendable {
    /// The rules.
    public var rules: CompiledHTMLRules
    /// How dates without a zone are read (the source's `time_zone`).
    public var dates: FeedDateParser
    /// Bounds on items and field lengths.
    public var limits: FeedParser.Limits

    /// Creates a parser.
    public init(rules: CompiledHTMLRules, dates: FeedDateParser = FeedDateParser(), limits: FeedParser.Limits = .init())
    {
        self.rules = rules
        self.dates = dates
        self.limits = limits
    }

    /// The page's items, as a feed of format `html`.
    /// - Throws: ``FeedParseError`` when the bytes are not a page at all; ``HTMLRuleError`` when
    ///   a rule fails to evaluate.
    public func parse(_ data: Data, pageURL: URL?, charset: String? = nil) throws -> ParsedFeed {
        let encoding = HTMLCharset.encoding(of: data, httpCharset: charset)
        guard let document = HTMLDocument(data, encoding: encoding) else {
            throw FeedParseError("not an HTML page: the document is empty")
        }
        var feed = ParsedFeed(format: .html)
        let root = try document.nodes("/*").first
        let baseHref = try root.flatMap { try document.text("//base/@href", in: $0) }
        let base = baseHref.flatMap { FeedURL.resolve($0, against: pageURL) }.flatMap(URL.init(string:)) ?? pageURL
        feed.title = try root.flatMap { try document.text("//title", in: $0) }.map(FeedText.collapse).flatMap {
            $0.isEmpty ? nil : $0
        }
        feed.link = pageURL?.absoluteString
        feed.language = try root.flatMap { try document.text("@lang", in: $0) }.flatMap { $0.isEmpty ? nil : $0 }

        let nodes = try document.nodes(rules.item)
        for node in nodes.prefix(limits.maxItems) {
            var item = ParsedItem()
            item.title = try document.text(rules.title, in: node).map(clean)
            item.link = try document.text(rules.link, in: node).map(FeedText.trim).flatMap {
                FeedURL.resolve($0, against: base)
            }
            if let rule = rules.summary { item.summary = try document.text(rule, in: node).map(clean) }
            if let rule = rules.date, let text = try document.text(rule, in: node) {
                item.published = date(from: text)
            }
            item.id = try rules.id.flatMap { try document.text($0, in: node) }.map(FeedText.collapse) ?? item.link
            if let link = item.link { item.links = [Link(rel: "alternate", type: nil, href: link)] }
            guard item.title?.isEmpty == false || item.link != nil else { continue }
            feed.items.append(item)
        }
        if nodes.count > limits.maxItems {
            feed.warnings.append(
                "\(nodes.count - limits.maxItems) items beyond the limit of \(limits.maxItems) were dropped")
        }
        return feed
    }

    private func clean(_ text: String) -> String {
        let collapsed = FeedText.collapse(text)
        guard collapsed.utf8.count > limits.maxFieldBytes else { return collapsed }
        return String(decoding: collapsed.utf8.prefix(limits.maxFieldBytes), as: UTF8.self)
    }

    /// With a `date_format`, exactly that; else the common English and Chinese forms, also when
    /// the date sits inside other text (`[2024-05-10]`, `发布时间：2024年5月10日`).
    private func date(from text: String) -> Date? {
        let trimmed = FeedText.collapse(text)
        if let format = rules.dateFormat {
            return DateFormat.parse(trimmed, format: format, timeZone: dates.timeZone)
        }
        if let date = dates.parse(trimmed) { return date }
        let pattern = #/\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(\s*\d{1,2}[:：]\d{2}([:：]\d{2})?)?/#
        guard let match = trimmed.firstMatch(of: pattern) else { return nil }
        return dates.parse(String(match.output.0).replacingOccurrences(of: "：", with: ":"))
    }
}

/// The encoding an HTML page is read in.
enum HTMLCharset {
    static func encoding(of data: Data, httpCharset: String?) -> String? {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { return "UTF-8" }
        if let label = httpCharset.flatMap(CharsetLabel.normalized) { return label }
        let head = String(decoding: data.prefix(4096), as: UTF8.self).lowercased()
        if let range = head.range(of: #"charset\s*=\s*["']?([a-z0-9_\-]+)"#, options: .regularExpression) {
            let declared = head[range].split(separator: "=").last.map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
            }
            if let label = declared.flatMap(CharsetLabel.normalized) { return label }
        }
        if String(validatingUTF8Bytes: data) != nil { return "UTF-8" }
        return looksLikeDoubleByteChinese(data) ? "GB18030" : "WINDOWS-1252"
    }

    /// In GBK text, bytes ≥ 0x81 come in pairs; in Latin-1 text they stand alone between ASCII.
    private static func looksLikeDoubleByteChinese(_ data: Data) -> Bool {
        var paired = 0
        var single = 0
        var index = data.startIndex
        while index < data.endIndex {
            let byte = data[index]
            if byte >= 0x81, byte != 0xFF {
                let next = data.index(after: index)
                if next < data.endIndex, data[next] >= 0x40, data[next] != 0x7F, data[next] != 0xFF {
                    paired += 1
                    index = data.index(after: next)
                    continue
                }
                single += 1
            }
            index = data.index(after: index)
        }
        return paired > single * 4
    }
}

extension String {
    /// The bytes as a string, or nil when they are not valid UTF-8.
    init?(validatingUTF8Bytes data: Data) {
        guard let string = String(data: data, encoding: .utf8) else { return nil }
        self = string
    }
}

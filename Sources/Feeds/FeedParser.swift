public import Foundation

/// Reads RSS 0.90–2.0, RSS 1.0 (RDF), Atom 0.3 and 1.0 and JSON Feed 1.0 and 1.1 into one
/// ``ParsedFeed`` (DESIGN.md §5).
///
/// ```swift
/// let parser = FeedParser()
/// let feed = try parser.parse(body, documentURL: provenance.finalURL, charset: "gbk")
/// ```
///
/// Encodings: a byte-order mark wins, then the HTTP charset, then the XML declaration (as the
/// XML media-type rules, RFC 7303, and browsers have it). GB2312 and GBK are read as their
/// superset GB18030, since sites that declare GB2312 routinely use GBK characters. A document
/// whose declared encoding does not fit its bytes is re-read as GB18030 when that fits, with a
/// warning, rather than turned into mojibake.
public struct FeedParser: Sendable {
    /// Bounds on what one document may produce.
    public struct Limits: Sendable, Equatable {
        /// Items taken from one document; the rest are dropped with a warning (`max_items_per_feed`).
        public var maxItems = 1000
        /// The longest text of one field, in UTF-8 bytes; longer text is cut with a warning.
        public var maxFieldBytes = 1 << 20

        /// The default limits.
        public init() {}
    }

    /// The bounds.
    public var limits: Limits
    /// How dates without a zone are read (the source's zone).
    public var dates: FeedDateParser

    /// Creates a parser.
    public init(limits: Limits = Limits(), dates: FeedDateParser = FeedDateParser()) {
        self.limits = limits
        self.dates = dates
    }

    /// Parses one document.
    ///
    /// - Parameters:
    ///   - data: the document's bytes.
    ///   - documentURL: where it came from, for resolving relative URLs.
    ///   - charset: the `charset` of the HTTP `Content-Type`, if any.
    /// - Throws: ``FeedParseError`` when the document holds no feed at all; a feed that parsed
    ///   only with recovery is returned with `warnings`.
    public func parse(_ data: Data, documentURL: URL? = nil, charset: String? = nil) throws(FeedParseError)
        -> ParsedFeed
    {
        let start = Self.contentStart(data)
        if start < data.count, data[data.startIndex + start] == UInt8(ascii: "{") {
            return try JSONFeedReader(documentURL: documentURL, dates: dates, limits: limits).read(data)
        }
        let hasBOM = Self.hasByteOrderMark(data)
        var encoding = hasBOM ? nil : charset.flatMap(CharsetLabel.normalized)
        if encoding == nil, !hasBOM, let declared = Self.declaredEncoding(data), CharsetLabel.isChineseGB(declared) {
            encoding = "GB18030"
        }
        var (feed, report, root) = parseXML(data, documentURL: documentURL, encoding: encoding)
        var warnings: [String] = []
        if report.encodingError, encoding != "GB18030", !hasBOM {
            let (retried, retryReport, retryRoot) = parseXML(data, documentURL: documentURL, encoding: "GB18030")
            if retried != nil, !retryReport.encodingError {
                let declared = encoding ?? Self.declaredEncoding(data) ?? "UTF-8"
                warnings.append("the document is not valid \(declared); its bytes were read as GB18030")
                (feed, report, root) = (retried, retryReport, retryRoot)
            }
        }
        if !report.wellFormed {
            let (repaired, notes) = XMLRepair.repaired(data)
            let (retried, retryReport, retryRoot) = parseXML(repaired, documentURL: documentURL, encoding: encoding)
            if retried != nil, retryReport.errorCount <= report.errorCount, let summary = notes.summary {
                warnings.append(summary)
                (feed, report, root) = (retried, retryReport, retryRoot)
            }
        }
        guard var feed else {
            if root?.lowercased() == "html", let named = Self.advertisedFeeds(in: data, documentURL: documentURL).first
            {
                throw FeedParseError("not a feed: the root element is <\(root!)>; the page names a feed: \(named)")
            }
            if let root { throw FeedParseError("not a feed: the root element is <\(root)>") }
            throw FeedParseError("not XML or JSON: \(report.errors.first ?? "no document element")")
        }
        if !report.wellFormed {
            warnings.append("parsed only after recovering from \(report.errorCount) XML error(s)")
            warnings += report.errors
        }
        feed.warnings = warnings + feed.warnings
        return feed
    }

    /// The feeds a web page advertises (`<link rel="alternate" type="application/rss+xml" href>`,
    /// Atom or JSON Feed alike), resolved against the page's URL: what to poll instead of a page
    /// configured as a feed.
    static func advertisedFeeds(in data: Data, documentURL: URL?) -> [String] {
        let query = """
            //link[contains(concat(' ', translate(@rel, 'ALTERNATE', 'alternate'), ' '), ' alternate ')][\
            contains(@type, 'rss') or contains(@type, 'atom') or contains(@type, 'feed+json')]/@href
            """
        guard let page = HTMLDocument(data, encoding: nil), let links = try? page.nodes(query) else { return [] }
        return links.compactMap { link in
            (try? page.text(".", in: link)).flatMap { href in
                href.isEmpty ? nil : FeedURL.resolve(href, against: documentURL)
            }
        }
    }

    private func parseXML(_ data: Data, documentURL: URL?, encoding: String?) -> (
        ParsedFeed?, XMLEventParser.Report, String?
    ) {
        let builder = XMLFeedBuilder(documentURL: documentURL, dates: dates, limits: limits)
        let report = XMLEventParser.parse(data, encoding: encoding, handler: builder)
        return (builder.finish(), report, builder.rootName)
    }

    /// The offset of the first byte that is not a BOM or whitespace.
    private static func contentStart(_ data: Data) -> Int {
        var index = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while index < data.count, [0x20, 0x09, 0x0A, 0x0D].contains(data[data.startIndex + index]) { index += 1 }
        return index
    }

    private static func hasByteOrderMark(_ data: Data) -> Bool {
        data.starts(with: [0xEF, 0xBB, 0xBF]) || data.starts(with: [0xFE, 0xFF]) || data.starts(with: [0xFF, 0xFE])
    }

    /// The `encoding` of the XML declaration, if the document starts with one.
    static func declaredEncoding(_ data: Data) -> String? {
        // On bytes: this runs for every document, and Foundation's string search cost more than
        // the rest of it.
        let head = Array(data.prefix(200))
        func find(_ pattern: StaticString, in range: Range<Int>) -> Range<Int>? {
            let pattern = UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount)
            guard range.count >= pattern.count else { return nil }
            let match = (range.lowerBound...(range.upperBound - pattern.count)).first { start in
                head[start..<start + pattern.count].elementsEqual(pattern)
            }
            return match.map { $0..<$0 + pattern.count }
        }
        // The declaration opens the document, or follows one character (a stray newline, say).
        guard let declaration = find("<?xml", in: 0..<min(head.count, 16)),
            String(decoding: head[..<declaration.lowerBound], as: UTF8.self).count <= 1,
            let end = find("?>", in: 0..<head.count), let key = find("encoding", in: 0..<end.lowerBound)
        else { return nil }
        let rest = head[key.upperBound..<end.lowerBound].drop { $0 == 0x20 || $0 == UInt8(ascii: "=") }
        guard let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
        return String(decoding: rest.dropFirst().prefix { $0 != quote }, as: UTF8.self)
    }
}

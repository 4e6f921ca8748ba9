import Foundation

/// Builds a ``ParsedFeed`` from the SAX events of an RSS (0.9x, 1.0, 2.0) or Atom (0.3, 1.0) document.
///
/// It keeps a stack of scopes (feed, item, author, image, ignored subtree) and captures the text
/// of the one field being read; markup inside a field is re-serialized, so that a description
/// written as naked XHTML keeps its tags. URLs are resolved at the end, when the feed's own link
/// is known, against `xml:base`, then the document URL, then that link.
struct FeedDocumentReader {
    /// The feed being read; meaningful once `isFeed` (the root was a feed). Not an optional: a
    /// read through one copies the whole value, on every element.
    private var feed = ParsedFeed(format: .rss)
    private var isFeed = false
    private(set) var rootName: String?
    private let documentURL: URL?
    private let dates: FeedDateParser
    private let limits: FeedParser.Limits

    private enum Scope { case document, feed, item, itemGroup, person, image, ignored, other }
    private struct Frame {
        var scope: Scope
    }
    /// The `xml:base` values in effect, innermost last, with the depth that declared each.
    private var declaredBases: [(depth: Int, url: URL?)] = []
    /// The base URL here: the innermost xml:base, else the document's URL.
    private var base: URL? { declaredBases.last?.url ?? documentURL }

    /// The field whose text is being collected, if any, and how. Kept as separate properties,
    /// with one reused buffer, so that appending text never copies what came before.
    private var captureTarget: Target?
    private var captureDepth = 0
    /// Text is escaped as it is appended (xhtml and XML content), since it is markup.
    private var captureEscapes = false
    private var captureBase64 = false
    /// The capture is an Atom text construct of type `text`: its characters are the text itself,
    /// so `<` in it is not a tag.
    private var captureIsLiteralText = false
    /// The depth of a wrapping xhtml `<div>`, which is dropped; -1 until the first child element.
    private var captureWrapperDepth: Int? = -1
    private var captureTruncated = false
    private var buffer: [UInt8] = []

    private enum Target {
        case feedID, feedTitle, feedLink, feedDescription, feedLanguage, feedUpdated, feedPublished, feedAuthor
        case feedCategory, feedGenerator, feedRights, feedImage, feedLogo, feedIcon, feedTTL
        case itemID(permalink: Bool), itemTitle, itemLink, itemSummary, itemContent, itemPublished, itemUpdated
        case itemAuthor, itemCreator, itemCategory
        case feedItunesAuthor, feedItunesSummary, feedKeywords, itemItunesAuthor, itemItunesSummary, itemKeywords
        case personName, personEmail, personURI
    }

    private var stack: [Frame] = []
    private var depth = 0

    // Values gathered before URLs can be resolved.
    private struct RawURL {
        var text: String
        var base: URL?
    }
    private struct RawLink {
        var rel: String?
        var type: String?
        var href: RawURL
        var length: Int?
    }
    private struct ItemDraft {
        var item = ParsedItem()
        var link: RawURL?
        var guidLink: RawURL?
        var links: [RawLink] = []
        var enclosures: [RawLink] = []
        var mediaEnclosures: [RawLink] = []
        var creators: [Person] = []
        var itunesAuthors: [Person] = []
        var itunesSummary: String?
    }
    private var feedLink: RawURL?
    private var feedLinks: [RawLink] = []
    private var feedSelf: RawURL?
    private var imageURL: RawURL?
    private var logo: RawURL?
    private var icon: RawURL?
    private var rootLanguage: String?
    private var items: [ItemDraft] = []
    /// The item being read, while `inItem`.
    private var item = ItemDraft()
    private var inItem = false
    private var person: Person?
    private var droppedItems = 0
    private var itunesAuthors: [Person] = []
    private var itunesSummary: String?
    private var itunesCategories: [String] = []

    init(documentURL: URL?, dates: FeedDateParser, limits: FeedParser.Limits) {
        self.documentURL = documentURL
        self.dates = dates
        self.limits = limits
    }

    // MARK: SAX events

    mutating func startElement(_ name: XMLName, attributes: XMLAttributes) {
        depth += 1
        let parent = stack.last?.scope ?? .document
        if !attributes.isEmpty,
            let xmlBase = attributes.first(where: { $0.name.namespace == .xml && $0.name.known == .base })?.value
        {
            declaredBases.append((depth, URL(string: xmlBase, relativeTo: base)?.absoluteURL ?? URL(string: xmlBase)))
        }
        if captureTarget != nil {
            appendStartTag(name, attributes: attributes)
            stack.append(Frame(scope: .other))
            return
        }
        let scope = open(name, attributes: attributes, parent: parent, base: base)
        stack.append(Frame(scope: scope))
    }

    mutating func endElement(_ name: XMLName) {
        defer {
            if declaredBases.last?.depth == depth { declaredBases.removeLast() }
            depth -= 1
        }
        let frame = stack.popLast()
        if let target = captureTarget {
            if depth > captureDepth {
                if captureWrapperDepth == depth {
                    captureWrapperDepth = nil
                } else if captureWrapperDepth == nil || captureWrapperDepth == -1 || depth > captureWrapperDepth!,
                    !Self.htmlVoidElements.contains(name.local)
                {
                    // HTML void elements (<br>, <img>) have no end tag: "</br>" would read as a second break.
                    buffer.append(contentsOf: "</".utf8)
                    Self.appendQualified(name, to: &buffer)
                    buffer.append(UInt8(ascii: ">"))
                }
                return
            }
            captureTarget = nil
            commit(target, base: base, declaredBase: !declaredBases.isEmpty)
            return
        }
        switch frame?.scope {
        case .item: closeItem()
        case .person: closePerson()
        default: break
        }
    }

    mutating func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard captureTarget != nil else { return }
        guard buffer.count + text.count <= limits.maxFieldBytes else {
            captureTruncated = true
            return
        }
        guard captureEscapes else {
            buffer.append(contentsOf: text)
            return
        }
        Self.appendEscaped(text, to: &buffer)
    }

    /// Appends `text` escaped, copying the runs between escapes whole: as text (`&`, `<`, `>`), or
    /// as an attribute value in double quotes (`&`, `"`).
    private static func appendEscaped(
        _ text: UnsafeBufferPointer<UInt8>, attributeValue: Bool = false, to buffer: inout [UInt8]
    ) {
        var runStart = 0
        for (index, byte) in text.enumerated() {
            let escape: StaticString
            switch byte {
            case UInt8(ascii: "&"): escape = "&amp;"
            case UInt8(ascii: "<") where !attributeValue: escape = "&lt;"
            case UInt8(ascii: ">") where !attributeValue: escape = "&gt;"
            case UInt8(ascii: "\"") where attributeValue: escape = "&quot;"
            default: continue
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index]))
            buffer.append(contentsOf: UnsafeBufferPointer(start: escape.utf8Start, count: escape.utf8CodeUnitCount))
            runStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...]))
    }

    /// Appends `name` as written in the document (`prefix:local`).
    private static func appendQualified(_ name: XMLName, to buffer: inout [UInt8]) {
        if let prefix = name.prefix {
            buffer.append(contentsOf: prefix.utf8)
            buffer.append(UInt8(ascii: ":"))
        }
        buffer.append(contentsOf: name.local.utf8)
    }

    mutating func undefinedEntity(_ name: String) {
        guard captureTarget != nil, let text = FeedText.namedEntity(name) else { return }
        Array(text.utf8).withUnsafeBufferPointer { characters($0) }
    }

    // MARK: Opening elements

    private mutating func open(_ name: XMLName, attributes: XMLAttributes, parent: Scope, base: URL?) -> Scope {
        let namespace = name.namespace
        func attribute(_ known: KnownName) -> String? {
            attributes.first {
                $0.name.known == known && ($0.name.namespace == .none || $0.name.namespace == namespace)
            }?
            .value
        }
        switch parent {
        case .document:
            return openRoot(name, attributes: attributes, attribute: attribute)
        case .ignored, .other:
            return .ignored
        case .image:
            if name.known == .url, imageURL == nil { startCapture(.feedImage) }
            return .other
        case .person:
            switch name.known {
            case .name: startCapture(.personName)
            case .email: startCapture(.personEmail)
            case .uri, .url: startCapture(.personURI)
            default: break
            }
            return .other
        case .feed:
            return openInFeed(name, attributes: attributes, attribute: attribute, base: base)
        case .item, .itemGroup:
            return openInItem(name, attribute: attribute, base: base)
        }
    }

    private mutating func openRoot(_ name: XMLName, attributes: XMLAttributes, attribute: (KnownName) -> String?)
        -> Scope
    {
        rootName = name.qualified
        rootLanguage = attributes.first { $0.name.namespace == .xml && $0.name.known == .lang }?.value
        let format: ParsedFeed.Format
        switch (name.namespace, name.known) {
        case (.none, .rss):
            format =
                switch attribute(.version)?.trimmingCharacters(in: .whitespaces) ?? "" {
                case "2.0", "2.0.1", "2.00", "2": .rss20
                case "0.91": .rss091
                case "0.92": .rss092
                case "0.90", "0.9": .rss090
                default: .rss
                }
        case (.none, .channel): format = .rss
        case (.rdf, .RDF): format = .rss10
        case (.atom10, .feed), (.none, .feed): format = .atom10
        case (.atom03, .feed): format = .atom03
        default: return .ignored
        }
        feed = ParsedFeed(format: format)
        isFeed = true
        isAtom = format == .atom10 || format == .atom03
        return .feed
    }

    /// Whether the root was an Atom feed; kept apart from `feed`, so that the check on every
    /// element reads one flag.
    private var isAtom = false

    private mutating func openInFeed(
        _ name: XMLName, attributes: XMLAttributes, attribute: (KnownName) -> String?, base: URL?
    ) -> Scope {
        var rdfAbout: String? {
            attributes.first { $0.name.known == .about && ($0.name.namespace == .rdf || $0.name.namespace == .none) }?
                .value
        }
        switch (name.namespace, name.known) {
        case (.none, .channel), (.rss10, .channel), (.rss090, .channel):
            if name.namespace == .rss090 { feed.format = .rss090 }
            if let about = rdfAbout { feed.id = about }
            return .feed
        case (_, .item) where !isAtom, (.atom10, .entry), (.atom03, .entry), (.none, .entry):
            if name.namespace == .rss090 { feed.format = .rss090 }
            openItem(about: rdfAbout)
            return .item
        case (_, .image) where name.namespace != .atom10 && name.namespace != .media:
            return .image
        case (.none, .textinput), (.none, .textInput), (.rss10, .textinput), (.rss090, .textinput):
            return .ignored
        case (.atom10, .author), (.atom03, .author):
            person = Person()
            return .person
        case (.atom10, .link), (.atom03, .link):
            let link = rawLink(attribute, base: base)
            if let link {
                feedLinks.append(link)
                if link.rel == "self" { feedSelf = link.href }
                if link.rel == "alternate", feedLink == nil || isAtom && !feedLinksHadAlternate {
                    feedLink = link.href
                    feedLinksHadAlternate = true
                }
            }
            return .other
        case (.atom10, .category), (.atom03, .category):
            if let term = attribute(.term), !term.isEmpty { feed.categories.append(term) }
            return .ignored
        case (.itunes, .author):
            startCapture(.feedItunesAuthor)
            return .other
        case (.itunes, .summary):
            startCapture(.feedItunesSummary)
            return .other
        case (.itunes, .keywords):
            startCapture(.feedKeywords)
            return .other
        case (.itunes, .category):
            if let text = attribute(.text), !text.isEmpty { itunesCategories.append(text) }
            return .feed
        case (.atom10, .contributor), (.atom03, .contributor), (.atom10, .source):
            return .ignored
        default:
            break
        }
        let atom = name.namespace == .atom10 || name.namespace == .atom03
        let rssNamespace = name.namespace == .none || name.namespace == .rss10 || name.namespace == .rss090
        switch name.known {
        case .id where atom: startCapture(.feedID)
        case .title where atom || rssNamespace: startTextConstruct(.feedTitle, attribute: attribute, atom: atom)
        case .title where name.namespace == .dc && feed.title == nil: startCapture(.feedTitle)
        case .link where rssNamespace:
            if let href = attribute(.href), !href.isEmpty {
                feedLink = RawURL(text: href, base: base)
                feedLinks.append(RawLink(rel: "alternate", type: nil, href: RawURL(text: href, base: base)))
            } else {
                startCapture(.feedLink)
            }
        case .description where rssNamespace, .subtitle where atom, .tagline where atom:
            startTextConstruct(.feedDescription, attribute: attribute, atom: atom)
        case .description where name.namespace == .dc && feed.description == nil: startCapture(.feedDescription)
        case .language where rssNamespace || name.namespace == .dc: startCapture(.feedLanguage)
        case .lastBuildDate where rssNamespace, .updated where atom, .modified where atom: startCapture(.feedUpdated)
        case .date where name.namespace == .dc: startCapture(.feedUpdated)
        case .pubDate where rssNamespace: startCapture(.feedPublished)
        case .managingEditor where rssNamespace, .author where rssNamespace: startCapture(.feedAuthor)
        case .category where rssNamespace: startCapture(.feedCategory)
        case .subject where name.namespace == .dc && !isAtom: startCapture(.feedCategory)
        case .generator where rssNamespace || atom: startCapture(.feedGenerator)
        case .ttl where rssNamespace: startCapture(.feedTTL)
        case .copyright where rssNamespace || atom, .rights where atom || name.namespace == .dc:
            startTextConstruct(.feedRights, attribute: attribute, atom: atom)
        case .logo where atom: startCapture(.feedLogo)
        case .icon where atom: startCapture(.feedIcon)
        default: return .ignored
        }
        return .other
    }

    private var feedLinksHadAlternate = false

    private mutating func openInItem(_ name: XMLName, attribute: (KnownName) -> String?, base: URL?) -> Scope {
        let atom = name.namespace == .atom10 || name.namespace == .atom03
        let rssNamespace = name.namespace == .none || name.namespace == .rss10 || name.namespace == .rss090
        switch (name.namespace, name.known) {
        case (.atom10, .author), (.atom03, .author):
            person = Person()
            return .person
        case (.atom10, .link), (.atom03, .link):
            if let link = rawLink(attribute, base: base) {
                if link.rel == "enclosure" {
                    item.enclosures.append(link)
                }
                item.links.append(link)
                if link.rel == "alternate", item.link == nil { item.link = link.href }
            }
            return .other
        case (.atom10, .category), (.atom03, .category):
            if let term = attribute(.term), !term.isEmpty { item.item.categories.append(term) }
            return .ignored
        case (.itunes, .author):
            startCapture(.itemItunesAuthor)
            return .other
        case (.itunes, .summary):
            startCapture(.itemItunesSummary)
            return .other
        case (.itunes, .keywords):
            startCapture(.itemKeywords)
            return .other
        case (.atom10, .source), (.atom10, .contributor), (.atom03, .contributor):
            return .ignored
        case (.none, .enclosure), (.rss10, .enclosure):
            if let url = attribute(.url) {
                item.enclosures.append(
                    RawLink(
                        rel: "enclosure", type: attribute(.type), href: RawURL(text: url, base: base),
                        length: attribute(.length).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }))
            }
            return .ignored
        case (.media, .content):
            // Pictures are illustrations, not attachments.
            let isImage =
                attribute(.medium) == "image" || attribute(.type)?.hasPrefix("image/") == true
                || attribute(.url).map {
                    [".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"].contains(where: $0.lowercased().hasSuffix)
                } == true
            if let url = attribute(.url), !isImage {
                item.mediaEnclosures.append(
                    RawLink(
                        rel: "enclosure", type: attribute(.type), href: RawURL(text: url, base: base),
                        length: attribute(.fileSize).flatMap { Int($0) }))
            }
            return .ignored
        case (.media, .group):
            return .itemGroup
        default:
            break
        }
        switch name.known {
        case .id where atom: startCapture(.itemID(permalink: false))
        case .guid where rssNamespace:
            startCapture(.itemID(permalink: attribute(.isPermaLink)?.lowercased() != "false"))
        case .title where atom || rssNamespace: startTextConstruct(.itemTitle, attribute: attribute, atom: atom)
        case .title where name.namespace == .dc && item.item.title == nil: startCapture(.itemTitle)
        case .link where rssNamespace:
            if let href = attribute(.href), !href.isEmpty {
                item.link = RawURL(text: href, base: base)
                item.links.append(RawLink(rel: "alternate", type: nil, href: RawURL(text: href, base: base)))
            } else {
                startCapture(.itemLink)
            }
        case .description where rssNamespace, .summary where atom:
            startTextConstruct(.itemSummary, attribute: attribute, atom: atom)
        case .description where name.namespace == .dc && item.item.summary == nil: startCapture(.itemSummary)
        case .encoded where name.namespace == .content: startCapture(.itemContent)
        case .content where atom:
            if attribute(.src) != nil { return .ignored }
            startTextConstruct(.itemContent, attribute: attribute, atom: true)
        case .pubDate where rssNamespace, .published where atom, .issued where atom: startCapture(.itemPublished)
        case .date where name.namespace == .dc: startCapture(.itemPublished)
        case .updated where atom, .modified where atom: startCapture(.itemUpdated)
        case .author where rssNamespace: startCapture(.itemAuthor)
        case .creator where name.namespace == .dc, .author where name.namespace == .dc: startCapture(.itemCreator)
        case .category where rssNamespace: startCapture(.itemCategory)
        case .subject where name.namespace == .dc && !isAtom: startCapture(.itemCategory)
        default: return .ignored
        }
        return .other
    }

    private func rawLink(_ attribute: (KnownName) -> String?, base: URL?) -> RawLink? {
        guard let href = attribute(.href).map(FeedText.trim), !href.isEmpty || base != nil else { return nil }
        let rel = attribute(.rel).map(FeedText.trim)
        return RawLink(
            rel: rel.flatMap { $0.isEmpty ? nil : $0 } ?? "alternate", type: attribute(.type),
            href: RawURL(text: href, base: base), length: attribute(.length).flatMap { Int($0) })
    }

    private mutating func startCapture(
        _ target: Target, escapes: Bool = false, base64: Bool = false, literalText: Bool = false
    ) {
        captureTarget = target
        captureDepth = depth
        captureEscapes = escapes
        captureBase64 = base64
        captureIsLiteralText = literalText
        captureWrapperDepth = -1
        captureTruncated = false
        buffer.removeAll(keepingCapacity: true)
    }

    private static let htmlVoidElements: Set<String> = ["br", "hr", "img", "wbr", "input", "source", "col", "area"]

    /// Whether a field holds HTML whose links follow xml:base.
    private static func isMarkup(_ target: Target) -> Bool {
        switch target {
        case .feedDescription, .feedRights, .itemSummary, .itemContent: true
        default: false
        }
    }

    /// Whether a field's text is taken as written (ids, categories, generators keep any markup).
    private static func isVerbatim(_ target: Target) -> Bool {
        switch target {
        case .feedID, .itemID, .feedCategory, .itemCategory, .feedGenerator: true
        default: false
        }
    }

    /// Atom text constructs say how their content is written: `type` text/html/xhtml (1.0),
    /// `mode` escaped/xml/base64 (0.3).
    private mutating func startTextConstruct(_ target: Target, attribute: (KnownName) -> String?, atom: Bool) {
        guard atom else { return startCapture(target) }
        let type = attribute(.type)?.lowercased() ?? ""
        let mode = attribute(.mode)?.lowercased() ?? ""
        // RFC 4287 §4.1.3.3: a media type that is neither text nor XML is base64.
        let isXML = type.hasSuffix("+xml") || type.hasSuffix("/xml")
        startCapture(
            target, escapes: type == "xhtml" || isXML && mode != "escaped" || mode == "xml",
            base64: mode == "base64" || type.utf8.contains(UInt8(ascii: "/")) && !type.hasPrefix("text/") && !isXML,
            literalText: (type == "text" || type == "text/plain" || type.isEmpty) && mode.isEmpty)
    }

    private mutating func appendStartTag(_ name: XMLName, attributes: XMLAttributes) {
        // A first child that is an XHTML div wraps the content (Atom xhtml): dropped, its children kept.
        if captureWrapperDepth == -1 {
            if name.known == .div, name.namespace == .xhtml, buffer.allSatisfy(FeedText.isSpace) {
                captureWrapperDepth = depth
                buffer.removeAll(keepingCapacity: true)
                return
            }
            captureWrapperDepth = nil
        }
        buffer.append(UInt8(ascii: "<"))
        Self.appendQualified(name, to: &buffer)
        for attribute in attributes {
            buffer.append(UInt8(ascii: " "))
            Self.appendQualified(attribute.name, to: &buffer)
            buffer.append(contentsOf: "=\"".utf8)
            Self.appendEscaped(attribute.valueBytes, attributeValue: true, to: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
        buffer.append(UInt8(ascii: ">"))
    }

    // MARK: Committing fields

    private mutating func commit(_ target: Target, base: URL?, declaredBase: Bool) {
        if captureTruncated, isFeed {
            feed.warnings.append("a field longer than \(limits.maxFieldBytes) bytes was cut short")
        }
        var bytes = buffer[...]
        // Binary content is base64; a value that does not decode to UTF-8 text was not base64 after all.
        if captureBase64,
            let data = Data(base64Encoded: String(decoding: bytes.filter { !FeedText.isSpace($0) }, as: UTF8.self)),
            String(data: data, encoding: .utf8) != nil
        {
            bytes = Array(data)[...]
        }
        let trimmedBytes = FeedText.trimmed(bytes)
        lazy var trimmed = String(decoding: trimmedBytes, as: UTF8.self)
        var markup: String? {
            guard !trimmedBytes.isEmpty else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            // Markup under an explicit xml:base means its relative links are relative to that base.
            guard declaredBase, let base else { return text }
            return FeedText.resolvingRelativeLinks(in: text, against: base)
        }
        var plainOrNil: String? {
            let text =
                Self.isVerbatim(target) || captureIsLiteralText
                ? FeedText.collapse(trimmedBytes) : FeedText.plain(trimmedBytes)
            return text.isEmpty ? nil : text
        }
        switch target {
        case .feedID: if feed.id == nil { feed.id = plainOrNil }
        case .feedTitle: if feed.title == nil { feed.title = plainOrNil }
        case .feedLink:
            // RSS: the last <link> is the channel's link, as most readers take it.
            if !trimmed.isEmpty {
                feedLink = RawURL(text: trimmed, base: base)
                feedLinks.append(RawLink(rel: "alternate", type: nil, href: RawURL(text: trimmed, base: base)))
            }
        case .feedDescription: if feed.description == nil { feed.description = markup }
        case .feedLanguage: if feed.language == nil { feed.language = plainOrNil }
        case .feedUpdated: if feed.updated == nil { feed.updated = dates.parse(utf8: trimmedBytes) }
        case .feedPublished: if feed.published == nil { feed.published = dates.parse(utf8: trimmedBytes) }
        case .feedAuthor: if let person = Self.person(fromRSS: trimmedBytes) { feed.authors.append(person) }
        case .feedCategory: if let plainOrNil { feed.categories.append(plainOrNil) }
        case .feedGenerator: if feed.generator == nil { feed.generator = plainOrNil }
        case .feedTTL: if feed.ttlMinutes == nil { feed.ttlMinutes = Int(trimmed).flatMap { $0 > 0 ? $0 : nil } }
        case .feedRights: if feed.rights == nil { feed.rights = markup }
        case .feedImage: if imageURL == nil, !trimmed.isEmpty { imageURL = RawURL(text: trimmed, base: base) }
        case .feedLogo: if !trimmed.isEmpty { logo = RawURL(text: trimmed, base: base) }
        case .feedIcon: if !trimmed.isEmpty { icon = RawURL(text: trimmed, base: base) }
        case .itemID(let permalink):
            if item.item.id == nil { item.item.id = plainOrNil }
            // A permalink guid is the link only when it is one (many feeds leave isPermaLink out).
            if permalink, Self.startsWithHTTP(trimmedBytes) { item.guidLink = RawURL(text: trimmed, base: base) }
        case .itemTitle: if item.item.title == nil { item.item.title = plainOrNil }
        case .itemLink:
            if !trimmed.isEmpty {
                item.link = RawURL(text: trimmed, base: base)
                item.links.append(RawLink(rel: "alternate", type: nil, href: RawURL(text: trimmed, base: base)))
            }
        case .itemSummary: if item.item.summary == nil { item.item.summary = markup }
        case .itemContent: if item.item.content == nil { item.item.content = markup }
        case .itemPublished: if item.item.published == nil { item.item.published = dates.parse(utf8: trimmedBytes) }
        case .itemUpdated: if item.item.updated == nil { item.item.updated = dates.parse(utf8: trimmedBytes) }
        case .itemAuthor: if let person = Self.person(fromRSS: trimmedBytes) { item.item.authors.append(person) }
        case .itemCreator:
            if item.creators.isEmpty, let person = Self.person(fromRSS: trimmedBytes) {
                item.creators.append(person)
            }
        case .feedItunesAuthor:
            if itunesAuthors.isEmpty, let person = Self.person(fromRSS: trimmedBytes) { itunesAuthors.append(person) }
        case .feedItunesSummary: if itunesSummary == nil { itunesSummary = markup }
        case .feedKeywords: itunesCategories.insert(contentsOf: Self.keywords(trimmed), at: 0)
        case .itemItunesAuthor:
            if item.itunesAuthors.isEmpty, let person = Self.person(fromRSS: trimmedBytes) {
                item.itunesAuthors.append(person)
            }
        case .itemItunesSummary: if item.itunesSummary == nil { item.itunesSummary = markup }
        case .itemKeywords: item.item.categories.insert(contentsOf: Self.keywords(trimmed), at: 0)
        case .itemCategory: if let plainOrNil { item.item.categories.append(plainOrNil) }
        case .personName: person?.name = plainOrNil
        case .personEmail: person?.email = plainOrNil
        case .personURI: person?.uri = plainOrNil
        }
    }

    private mutating func openItem(about: String?) {
        item = ItemDraft()
        item.item.id = about
        inItem = true
    }

    private mutating func closeItem() {
        guard inItem else { return }
        inItem = false
        if item.item.authors.isEmpty { item.item.authors = item.creators }
        if item.item.authors.isEmpty { item.item.authors = item.itunesAuthors }
        if item.item.summary == nil { item.item.summary = item.itunesSummary }
        if item.enclosures.isEmpty { item.enclosures = item.mediaEnclosures }
        guard items.count < limits.maxItems else {
            droppedItems += 1
            return
        }
        // Swapped into place rather than copied: a copy retains, and the reset releases, every field.
        items.append(ItemDraft())
        swap(&items[items.count - 1], &item)
    }

    private mutating func closePerson() {
        guard let current = person else { return }
        person = nil
        guard current.name != nil || current.email != nil || current.uri != nil else { return }
        if inItem {
            item.item.authors.append(current)
        } else {
            feed.authors.append(current)
        }
    }

    private static func startsWithHTTP(_ bytes: ArraySlice<UInt8>) -> Bool {
        func startsWith(_ scheme: StaticString) -> Bool {
            let pattern = UnsafeBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount)
            return bytes.count >= pattern.count && zip(bytes, pattern).allSatisfy { $0 | 0x20 == $1 | 0x20 }
        }
        return startsWith("http://") || startsWith("https://")
    }

    /// Comma-separated iTunes keywords.
    private static func keywords(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `editor@example.com (Jane Editor)`, `Jane Editor (editor@example.com)`,
    /// `Jane Editor <editor@example.com>`, or a bare name or address.
    static func person(fromRSS written: ArraySlice<UInt8>) -> Person? {
        let value = FeedText.collapsedBytes(written)
        guard let last = value.last else { return nil }
        func text(_ bytes: ArraySlice<UInt8>) -> String? {
            let trimmed = FeedText.trimmed(bytes)
            return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
        }
        func isAddress(_ bytes: ArraySlice<UInt8>) -> Bool {
            let trimmed = FeedText.trimmed(bytes)
            return trimmed.contains(UInt8(ascii: "@")) && !trimmed.contains(0x20)
        }
        if last == UInt8(ascii: ")"), let open = value.firstIndex(of: UInt8(ascii: "(")) {
            let outside = value[..<open]
            let inside = value[(open + 1)..<(value.count - 1)]
            if isAddress(outside) { return Person(name: text(inside), email: text(outside)) }
            if isAddress(inside) { return Person(name: text(outside), email: text(inside)) }
        }
        if last == UInt8(ascii: ">"), let open = value.firstIndex(of: UInt8(ascii: "<")),
            isAddress(value[(open + 1)..<(value.count - 1)])
        {
            return Person(name: text(value[..<open]), email: text(value[(open + 1)..<(value.count - 1)]))
        }
        if isAddress(value[...]) { return Person(email: text(value[...])) }
        return Person(name: text(value[...]))
    }

    // MARK: Finishing

    /// The feed with every URL resolved, or nil when the root was not a feed. Hands the items
    /// over: call it once.
    mutating func finish() -> ParsedFeed? {
        guard isFeed else { return nil }
        var result = feed
        let selfLink = feedSelf.flatMap { resolve($0, fallback: nil) }
        let home = feedLink.flatMap { resolve($0, fallback: nil) }
        let fallback = (home ?? selfLink).flatMap { URL(string: $0) }
        result.link = home
        result.feedLink = selfLink
        result.links = feedLinks.compactMap { link in
            resolve(link.href, fallback: fallback).map { Link(rel: link.rel, type: link.type, href: $0) }
        }
        result.image = (imageURL ?? logo ?? icon).flatMap { resolve($0, fallback: fallback) }
        if result.language == nil { result.language = rootLanguage }
        if result.authors.isEmpty { result.authors = itunesAuthors }
        if result.description == nil { result.description = itunesSummary }
        result.categories = itunesCategories + result.categories
        result.items.reserveCapacity(items.count)
        for index in items.indices {
            // Moved out of the draft, not copied: a copy retains every field of every item.
            result.items.append(ParsedItem())
            let last = result.items.count - 1
            swap(&result.items[last], &items[index].item)
            let draft = (link: items[index].link ?? items[index].guidLink, links: items[index].links)
            result.items[last].link = draft.link.flatMap { resolve($0, fallback: fallback) }
            result.items[last].links = draft.links.compactMap { link in
                resolve(link.href, fallback: fallback).map { Link(rel: link.rel, type: link.type, href: $0) }
            }
            result.items[last].enclosures = items[index].enclosures.compactMap { link in
                resolve(link.href, fallback: fallback).map { Enclosure(url: $0, type: link.type, length: link.length) }
            }
        }
        items = []
        if droppedItems > 0 {
            result.warnings.append("\(droppedItems) items beyond the limit of \(limits.maxItems) were dropped")
        }
        return result
    }

    /// Absolute against xml:base (which starts at the document URL), else the feed's link.
    private func resolve(_ raw: RawURL, fallback: URL?) -> String? {
        FeedURL.resolve(raw.text, against: raw.base ?? fallback)
    }
}

/// Hands SAX events to a ``FeedDocumentReader``. The reader is a value whose mutating methods touch
/// its state statically; a class holding the same state would pay a dynamic exclusivity check on
/// every property it touches. Events arrive one at a time from the parser's callbacks, never
/// reentrantly, so even the one access per event goes unchecked.
final class XMLFeedBuilder: XMLEventHandler {
    @exclusivity(unchecked) private var reader: FeedDocumentReader

    init(documentURL: URL?, dates: FeedDateParser, limits: FeedParser.Limits) {
        reader = FeedDocumentReader(documentURL: documentURL, dates: dates, limits: limits)
    }

    var rootName: String? { reader.rootName }

    func startElement(_ name: XMLName, attributes: XMLAttributes) { reader.startElement(name, attributes: attributes) }
    func endElement(_ name: XMLName) { reader.endElement(name) }
    func characters(_ text: UnsafeBufferPointer<UInt8>) { reader.characters(text) }
    func undefinedEntity(_ name: String) { reader.undefinedEntity(name) }

    /// The feed with every URL resolved, or nil when the root was not a feed.
    func finish() -> ParsedFeed? { reader.finish() }
}

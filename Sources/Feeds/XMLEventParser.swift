internal import CLibXML2
import Foundation

/// The XML namespaces the feed parser tells apart.
enum XMLNamespace: UInt8 {
    case none, atom10, atom03, rss10, rss090, rdf, content, dc, media, itunes, xml, xhtml, other

    init(uri: String?) {
        switch uri {
        case nil, "": self = .none
        case "http://www.w3.org/2005/Atom": self = .atom10
        case "http://purl.org/atom/ns#": self = .atom03
        case "http://purl.org/rss/1.0/": self = .rss10
        case "http://my.netscape.com/rdf/simple/0.9/": self = .rss090
        case "http://www.w3.org/1999/02/22-rdf-syntax-ns#": self = .rdf
        case "http://purl.org/rss/1.0/modules/content/": self = .content
        case "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/": self = .dc
        case "http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss": self = .media
        case "http://www.w3.org/XML/1998/namespace": self = .xml
        case "http://www.w3.org/1999/xhtml": self = .xhtml
        case let uri? where uri.lowercased() == "http://www.itunes.com/dtds/podcast-1.0.dtd": self = .itunes
        default: self = .other
        }
    }
}

extension XMLNamespace {
    /// The namespace a prefix conventionally stands for, when a document forgot to declare it.
    init(conventionalPrefix prefix: String) {
        switch prefix {
        case "atom": self = .atom10
        case "content": self = .content
        case "dc", "dcterms": self = .dc
        case "media": self = .media
        case "itunes": self = .itunes
        case "rdf": self = .rdf
        case "xml": self = .xml
        default: self = .other
        }
    }
}

/// The local names the feed reader acts on, elements and attributes, recognised once per name by
/// the parse's name cache: the reader switches on one byte per element instead of comparing its
/// name with each candidate string. Spelt exactly as in the documents (`textInput`, `RDF`).
enum KnownName: String {
    /// Any other name.
    case other
    // Elements.
    case RDF, author, category, channel, content, contributor, copyright, creator, date, description, div, email
    case enclosure, encoded, entry, feed, generator, group, guid, icon, id, image, issued, item, keywords
    case language, lastBuildDate, link, logo, managingEditor, modified, name, pubDate, published, rights, rss
    case source, subject, subtitle, summary, tagline, textInput, textinput, title, ttl, updated, uri, url
    // Attributes (`url` and `name` above serve both).
    case about, base, fileSize, href, isPermaLink, lang, length, medium, mode, rel, src, term, text, type, version
}

/// An element or attribute name with its namespace resolved. A class: the parse's name cache
/// makes one per distinct name, and every event hands over a reference rather than copying two
/// strings.
final class XMLName {
    let namespace: XMLNamespace
    let local: String
    /// The prefix as written, for re-serializing markup.
    let prefix: String?
    /// `local`, when the feed reader acts on it.
    let known: KnownName

    init(namespace: XMLNamespace, local: String, prefix: String?) {
        self.namespace = namespace
        self.local = local
        self.prefix = prefix
        known = KnownName(rawValue: local) ?? .other
    }

    var qualified: String { prefix.map { "\($0):\(local)" } ?? local }
}

/// An attribute of a start tag; its value is decoded when read. Valid only during the
/// `startElement` call that handed it over.
struct XMLAttribute {
    /// The name, unretained: the parse's name cache keeps it alive.
    fileprivate let unretainedName: Unmanaged<XMLName>
    var name: XMLName { unretainedName.takeUnretainedValue() }
    /// The value's UTF-8 bytes, entities already decoded.
    let valueBytes: UnsafeBufferPointer<UInt8>

    var value: String { String(decoding: valueBytes, as: UTF8.self) }
}

/// The attributes of a start tag, as libxml2 hands them over (five pointers each: local name,
/// prefix, URI, value start, value end); names come from the parse's name cache and values are
/// decoded only when read, so that the many elements whose attributes nobody asks for cost
/// nothing. Valid only during the `startElement` call.
struct XMLAttributes: RandomAccessCollection {
    fileprivate let raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    fileprivate unowned(unsafe) let context: XMLEventParser.Context
    let count: Int

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(index: Int) -> XMLAttribute {
        let base = index * 5
        let (start, end) = (raw![base + 3], raw![base + 4])
        // libxml2 always sets the local name; a value's bounds are set too, but cost nothing to check.
        return XMLAttribute(
            unretainedName: context.cachedName(raw![base]!, raw![base + 2], raw![base + 1]),
            valueBytes: UnsafeBufferPointer(start: start, count: start.flatMap { start in end.map { $0 - start } } ?? 0)
        )
    }
}

/// What the SAX parser reports, in document order.
protocol XMLEventHandler: AnyObject {
    func startElement(_ name: XMLName, attributes: XMLAttributes)
    func endElement(_ name: XMLName)
    /// Text or CDATA, decoded to UTF-8; valid only during the call.
    func characters(_ text: UnsafeBufferPointer<UInt8>)
    /// An entity reference the document did not define (`&nbsp;` in XML), by name.
    func undefinedEntity(_ name: String)
}

/// Streams a document through libxml2's SAX2 parser with safe options: no network, no external
/// entities or DTD loading, no entity expansion (so neither a local file nor a billion laughs can
/// get into a title), recovery from errors, which are collected with their line numbers.
enum XMLEventParser {
    /// How a parse went.
    struct Report {
        /// False when libxml2 had to recover from errors.
        var wellFormed: Bool
        /// The first errors, as `line N: message`.
        var errors: [String]
        /// How many errors there were in all.
        var errorCount: Int
        /// Whether any error was about the document's encoding.
        var encodingError: Bool
    }

    /// Parses `data`, reporting events to `handler`.
    /// - Parameter encoding: a charset that overrides the XML declaration (from HTTP), or nil.
    static func parse(_ data: Data, encoding: String?, handler: any XMLEventHandler) -> Report {
        LibXML2.initialized
        let context = Context(handler: handler)
        var sax = xmlSAXHandler()
        sax.initialized = ew_sax2_magic()
        // Each callback borrows the context without retaining it: the parse call keeps it alive.
        sax.startElementNs = { user, localname, prefix, uri, _, _, attributeCount, _, attributes in
            Unmanaged<Context>.fromOpaque(user!)._withUnsafeGuaranteedRef { context in
                context.cachedName(localname!, uri, prefix)._withUnsafeGuaranteedRef { name in
                    context.handler.startElement(
                        name,
                        attributes: XMLAttributes(
                            raw: attributes, context: context, count: Int(max(attributeCount, 0))))
                }
            }
        }
        sax.endElementNs = { user, localname, prefix, uri in
            Unmanaged<Context>.fromOpaque(user!)._withUnsafeGuaranteedRef { context in
                context.cachedName(localname!, uri, prefix)._withUnsafeGuaranteedRef { context.handler.endElement($0) }
            }
        }
        sax.characters = { user, text, length in
            guard let text else { return }
            Unmanaged<Context>.fromOpaque(user!)._withUnsafeGuaranteedRef { context in
                context.handler.characters(UnsafeBufferPointer(start: text, count: Int(length)))
            }
        }
        sax.cdataBlock = sax.characters
        sax.reference = { user, name in
            let context = Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue()
            guard let name else { return }
            context.handler.undefinedEntity(String(cString: name))
        }
        sax.serror = { user, error in
            guard let user, let error else { return }
            let context = Unmanaged<Context>.fromOpaque(user).takeUnretainedValue()
            context.record(error.pointee)
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_RECOVER.rawValue | XML_PARSE_NOWARNING.rawValue)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        let result = data.withUnsafeBytes { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                ew_sax_parse(&sax, opaque, chars.baseAddress, Int32(chars.count), encoding, options)
            }
        }
        withExtendedLifetime(context) {}
        return Report(
            wellFormed: result == 1 && context.errorCount == 0, errors: context.errors, errorCount: context.errorCount,
            encodingError: context.encodingError)
    }

    /// What the C callbacks reach through their user-data pointer during one parse.
    fileprivate final class Context {
        // Strong: the context lives only for one parse call, and the handler does not hold it.
        let handler: any XMLEventHandler
        var errors: [String] = []
        var errorCount = 0
        var encodingError = false
        // libxml2 interns names in its dictionary, so a name's pointers identify it for the whole parse.
        @exclusivity(unchecked) private var names: [NameKey: XMLName] = [:]

        struct NameKey: Hashable {
            var local: UnsafePointer<xmlChar>
            var uri: UnsafePointer<xmlChar>?
            var prefix: UnsafePointer<xmlChar>?
        }

        init(handler: any XMLEventHandler) { self.handler = handler }

        /// A direct-mapped cache in front of ``names``: a document uses a few dozen names, and
        /// hashing three pointers with SipHash on every element cost more than the rest of the lookup.
        // Touched only from the parser's callbacks, one at a time: no dynamic exclusivity check needed.
        // Its names are unretained references: `names` keeps every name alive for the parse.
        @exclusivity(unchecked) private var recentKeys = [NameKey?](repeating: nil, count: 256)
        @exclusivity(unchecked) private var recentNames = [Unmanaged<XMLName>?](repeating: nil, count: 256)

        /// The name of these libxml2 pointers, unretained: the cache keeps it for the whole parse.
        func cachedName(
            _ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?
        ) -> Unmanaged<XMLName> {
            let key = NameKey(local: local, uri: uri, prefix: prefix)
            // Fibonacci hashing of the three pointers: their top bits pick one of 256 slots.
            let mixed =
                (UInt64(UInt(bitPattern: local)) &+ UInt64(UInt(bitPattern: uri)) &* 31
                    &+ UInt64(UInt(bitPattern: prefix)) &* 7) &* 0x9E37_79B9_7F4A_7C15
            let slot = Int(truncatingIfNeeded: mixed >> 56)
            if recentKeys[slot] == key, let name = recentNames[slot] { return name }
            if let known = names[key] {
                (recentKeys[slot], recentNames[slot]) = (key, Unmanaged.passUnretained(known))
                return Unmanaged.passUnretained(known)
            }
            let prefixText = prefix.map { String(cString: $0) }
            var namespace = XMLNamespace(uri: uri.map { String(cString: $0) })
            // A well-known prefix used without its declaration (common in real feeds) still means its namespace.
            if uri == nil, let prefixText { namespace = XMLNamespace(conventionalPrefix: prefixText) }
            let name = XMLName(namespace: namespace, local: String(cString: local), prefix: prefixText)
            names[key] = name
            (recentKeys[slot], recentNames[slot]) = (key, Unmanaged.passUnretained(name))
            return Unmanaged.passUnretained(name)
        }

        func record(_ error: xmlError) {
            // An HTML entity in XML (`&nbsp;`, `&mdash;`) is an error libxml2 reports at the point it
            // occurs, after the text before it; hand it over so that its character is not lost.
            if error.code == Int32(XML_ERR_UNDECLARED_ENTITY.rawValue), let name = error.str1 {
                handler.undefinedEntity(String(cString: name))
            }
            guard error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            errorCount += 1
            let code = Int32(error.code)
            if code == Int32(XML_ERR_INVALID_CHAR.rawValue) || code == Int32(XML_ERR_INVALID_ENCODING.rawValue)
                || code == Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue)
            {
                encodingError = true
            }
            guard errors.count < 10 else { return }
            let message =
                error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "error"
            errors.append("line \(error.line): \(message)")
        }
    }
}

internal import CLibXML2
import Foundation

/// An HTML page parsed by libxml2's HTML parser (recovering from tag soup, never touching the
/// network), queried with XPath. All libxml2 pointers stay inside this type.
///
/// Not `Sendable`: one document is parsed, queried and freed within one call.
final class HTMLDocument {
    private let document: htmlDocPtr
    private let context: xmlXPathContextPtr
    private let errors = XPathErrors()

    /// Collects XPath errors instead of letting libxml2 print them.
    final class XPathErrors {
        var messages: [String] = []
    }

    /// Parses `data` as HTML in `encoding` (an iconv name), or as its own `<meta>` says when nil.
    init?(_ data: Data, encoding: String?) {
        LibXML2.initialized
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOERROR.rawValue
                | HTML_PARSE_NOWARNING.rawValue | (encoding == nil ? 0 : HTML_PARSE_IGNORE_ENC.rawValue))
        let parsed = data.withUnsafeBytes { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                htmlReadMemory(chars.baseAddress, Int32(chars.count), nil, encoding, options)
            }
        }
        guard let parsed, let context = xmlXPathNewContext(parsed) else {
            if let parsed { xmlFreeDoc(parsed) }
            return nil
        }
        document = parsed
        self.context = context
        context.pointee.userData = Unmanaged.passUnretained(errors).toOpaque()
        context.pointee.error = Self.collectError
    }

    deinit {
        xmlXPathFreeContext(context)
        xmlFreeDoc(document)
    }

    /// A node found by a query, usable as the context of further queries on this document.
    struct Node {
        fileprivate let pointer: xmlNodePtr
    }

    /// The nodes `xpath` selects from the whole document.
    func nodes(_ xpath: String) throws(HTMLRuleError) -> [Node] {
        context.pointee.node = xmlDocGetRootElement(document)
        guard let result = try evaluate(xpath) else { return [] }
        defer { xmlXPathFreeObject(result) }
        guard result.pointee.type == XPATH_NODESET, let set = result.pointee.nodesetval else { return [] }
        return (0..<Int(set.pointee.nodeNr)).compactMap { set.pointee.nodeTab[$0].map(Node.init) }
    }

    /// The text `xpath` selects inside `node`: the first selected node's text content (an attribute's
    /// value), or the string an expression like `normalize-space(…)` returns; nil when nothing matched.
    func text(_ xpath: String, in node: Node) throws(HTMLRuleError) -> String? {
        context.pointee.node = node.pointer
        guard let result = try evaluate(xpath) else { return nil }
        defer { xmlXPathFreeObject(result) }
        switch result.pointee.type {
        case XPATH_NODESET:
            guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0, let first = set.pointee.nodeTab[0] else {
                return nil
            }
            return Self.content(of: first)
        case XPATH_STRING:
            return result.pointee.stringval.map { String(cString: $0) }
        case XPATH_NUMBER, XPATH_BOOLEAN:
            return xmlXPathCastToString(result).map { value in
                defer { ew_xml_free(value) }
                return String(cString: value)
            }
        default:
            return nil
        }
    }

    /// Compiles `xpath` against an empty document: whether a rule is valid XPath, at configuration time.
    static func validate(_ xpath: String) throws(HTMLRuleError) {
        LibXML2.initialized
        let errors = XPathErrors()
        guard let context = xmlXPathNewContext(nil) else { return }
        defer { xmlXPathFreeContext(context) }
        context.pointee.userData = Unmanaged.passUnretained(errors).toOpaque()
        context.pointee.error = collectError
        guard let compiled = xmlXPathCtxtCompile(context, xpath) else {
            throw HTMLRuleError(description: "not a valid XPath expression: \(errors.messages.first ?? xpath)")
        }
        xmlXPathFreeCompExpr(compiled)
    }

    private func evaluate(_ xpath: String) throws(HTMLRuleError) -> xmlXPathObjectPtr? {
        errors.messages.removeAll()
        let result = xmlXPathEvalExpression(xpath, context)
        if result == nil, let message = errors.messages.first {
            throw HTMLRuleError(description: "XPath \(xpath): \(message)")
        }
        return result
    }

    private static func content(of node: xmlNodePtr) -> String? {
        guard let value = xmlNodeGetContent(node) else { return nil }
        defer { ew_xml_free(value) }
        return String(cString: value)
    }

    private static let collectError: xmlStructuredErrorFunc = { user, error in
        guard let user, let error else { return }
        let errors = Unmanaged<XPathErrors>.fromOpaque(user).takeUnretainedValue()
        // libxml2 leaves `message` empty for some XPath errors; the expression sits in str1 and the
        // position in int1 then.
        var message = error.pointee.message.map { String(cString: $0) } ?? ""
        if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            message = "invalid expression"
        }
        if let expression = error.pointee.str1 {
            message += " (at character \(error.pointee.int1 + 1) of \(String(cString: expression)))"
        }
        errors.messages.append(message.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// An HTML rule that cannot be used, with what libxml2 or the CSS translator said.
public struct HTMLRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

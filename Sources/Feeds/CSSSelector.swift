/// Translates the CSS selector subset that HTML source rules may use into XPath 1.0, once, when
/// the configuration is loaded.
///
/// Supported: type selectors and `*`, `.class`, `#id`, `[attr]`, `[attr=v]`, `[attr*=v]`,
/// `[attr^=v]`, `[attr$=v]`, the descendant (space) and child (`>`) combinators, `:first-child`,
/// `:last-child`, `:nth-child(n)`, comma groups, and a trailing `@attr` that takes an attribute
/// (`a@href`). A rule for the repeating item is searched in the whole page; the others inside
/// each item.
public enum CSSSelector {
    /// Why a selector could not be translated, naming where.
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The XPath for `selector`.
    /// - Parameter withinItem: search below the context node (`.//`) rather than the whole page (`//`).
    /// - Throws: ``SyntaxError`` for anything outside the subset.
    public static func xpath(_ selector: String, withinItem: Bool) throws(SyntaxError) -> String {
        var parser = Parser(Array(selector.unicodeScalars), withinItem: withinItem)
        return try parser.group()
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        let withinItem: Bool
        var index = 0

        init(_ scalars: [Unicode.Scalar], withinItem: Bool) {
            self.scalars = scalars
            self.withinItem = withinItem
        }

        var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        mutating func fail(_ message: String) -> SyntaxError {
            SyntaxError(description: "\(message) at character \(index + 1)")
        }

        mutating func skipSpaces() {
            while let scalar = peek, scalar.properties.isWhitespace { index += 1 }
        }

        mutating func group() throws(SyntaxError) -> String {
            var alternatives: [String] = []
            repeat {
                skipSpaces()
                alternatives.append(try selector())
                skipSpaces()
            } while take(",")
            guard peek == nil else { throw fail("unexpected \"\(peek!)\"") }
            return alternatives.joined(separator: " | ")
        }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard peek == character else { return false }
            index += 1
            return true
        }

        mutating func selector() throws(SyntaxError) -> String {
            var path = withinItem ? ".//" : "//"
            path += try compound()
            while true {
                let hadSpace = peek?.properties.isWhitespace == true
                skipSpaces()
                if take(">") {
                    skipSpaces()
                    path += "/" + (try compound())
                } else if take("@") {
                    let attribute = name()
                    guard !attribute.isEmpty else { throw fail("expected an attribute name after @") }
                    return path + "/@" + attribute
                } else if hadSpace, let next = peek, next != ",", next != "@" {
                    path += "//" + (try compound())
                } else {
                    return path
                }
            }
        }

        mutating func compound() throws(SyntaxError) -> String {
            let universal = take("*")
            var step = universal ? "*" : name()
            if step.isEmpty { step = "*" }
            var predicates = ""
            var hasPart = universal || step != "*"
            while let next = peek {
                if take(".") {
                    let value = name()
                    guard !value.isEmpty else { throw fail("expected a class name after .") }
                    predicates += "[contains(concat(' ', normalize-space(@class), ' '), \(literal(" \(value) ")))]"
                } else if take("#") {
                    let value = name()
                    guard !value.isEmpty else { throw fail("expected an id after #") }
                    predicates += "[@id=\(literal(value))]"
                } else if take("[") {
                    predicates += try attributeTest()
                } else if take(":") {
                    predicates += try pseudoClass()
                } else {
                    _ = next
                    break
                }
                hasPart = true
            }
            guard hasPart else { throw fail(peek.map { "unexpected \"\($0)\"" } ?? "expected a selector") }
            return step + predicates
        }

        mutating func attributeTest() throws(SyntaxError) -> String {
            skipSpaces()
            let attribute = name()
            guard !attribute.isEmpty else { throw fail("expected an attribute name after [") }
            skipSpaces()
            if take("]") { return "[@\(attribute)]" }
            var operation = ""
            if let next = peek, "*^$~|".unicodeScalars.contains(next) {
                operation = String(next)
                index += 1
            }
            guard take("=") else { throw fail("expected = or ] in attribute selector") }
            skipSpaces()
            let value = try quotedOrBare()
            skipSpaces()
            guard take("]") else { throw fail("expected ] to close the attribute selector") }
            let quoted = literal(value)
            switch operation {
            case "": return "[@\(attribute)=\(quoted)]"
            case "*": return "[contains(@\(attribute), \(quoted))]"
            case "^": return "[starts-with(@\(attribute), \(quoted))]"
            case "$":
                return
                    "[substring(@\(attribute), string-length(@\(attribute)) - string-length(\(quoted)) + 1) = \(quoted)]"
            case "~": return "[contains(concat(' ', normalize-space(@\(attribute)), ' '), \(literal(" \(value) ")))]"
            default: return "[@\(attribute)=\(quoted) or starts-with(@\(attribute), \(literal(value + "-")))]"
            }
        }

        mutating func pseudoClass() throws(SyntaxError) -> String {
            let pseudo = name()
            switch pseudo {
            case "first-child": return "[count(preceding-sibling::*) = 0]"
            case "last-child": return "[count(following-sibling::*) = 0]"
            case "nth-child":
                guard take("(") else { throw fail("expected ( after :nth-child") }
                skipSpaces()
                var digits = ""
                while let next = peek, ("0"..."9").contains(next) {
                    digits.unicodeScalars.append(next)
                    index += 1
                }
                skipSpaces()
                guard let position = Int(digits), position > 0, take(")") else {
                    throw fail(":nth-child takes a whole number, as in :nth-child(2)")
                }
                return "[count(preceding-sibling::*) = \(position - 1)]"
            default:
                throw fail("unsupported pseudo-class :\(pseudo)")
            }
        }

        mutating func quotedOrBare() throws(SyntaxError) -> String {
            if let quote = peek, quote == "\"" || quote == "'" {
                index += 1
                var value = ""
                while let next = peek, next != quote {
                    value.unicodeScalars.append(next)
                    index += 1
                }
                guard take(quote) else { throw fail("unterminated string") }
                return value
            }
            let value = name()
            guard !value.isEmpty else { throw fail("expected a value") }
            return value
        }

        mutating func name() -> String {
            var value = ""
            while let next = peek,
                next.properties.isAlphabetic || ("0"..."9").contains(next) || next == "-" || next == "_"
                    || next.value > 0x7F
            {
                value.unicodeScalars.append(next)
                index += 1
            }
            return value
        }

        /// An XPath string literal: XPath 1.0 has no escapes, so a value with both quote kinds is a concat().
        func literal(_ value: String) -> String {
            if !value.contains("'") { return "'\(value)'" }
            if !value.contains("\"") { return "\"\(value)\"" }
            let parts = value.split(separator: "'", omittingEmptySubsequences: false).map { "'\($0)'" }
            return "concat(" + parts.joined(separator: ", \"'\", ") + ")"
        }
    }
}

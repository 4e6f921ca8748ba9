import Foundation
import TOML
import TestSupport
import Testing

@Suite("TOML documents")
struct TOMLDocumentTests {
    @Test("a configuration: tables, arrays of tables, inline tables, keys in document order")
    func configuration() throws {
        let root = try TOMLDocument.parse(
            """
            # exportwatch
            include = ["sources.toml"]

            [daemon]
            state_dir = "/var/lib/exportwatch"   # where the database lives
            max_concurrent = 16
            allow_private_networks = false

            [[source]]
            id = "fr-bis"
            url = "https://www.federalregister.gov/api/v1/documents.rss"
            headers = { Accept = "application/rss+xml", "X-Key" = 'k' }

            [[source]]
            id = "mfa"
            html.item = "ul.list1 > li"
            html.title = "a"
            """)
        #expect(root.keys == ["include", "daemon", "source"])
        #expect(root["include"] == .array([.string("sources.toml")]))
        let daemon = try #require(root["daemon"]?.table)
        #expect(daemon.keys == ["state_dir", "max_concurrent", "allow_private_networks"])
        #expect(daemon["max_concurrent"]?.integer == 16 && daemon["allow_private_networks"]?.boolean == false)
        let sources = try #require(root["source"]?.array)
        try #require(sources.count == 2)
        #expect(sources[0].table?["headers"]?.table?["X-Key"]?.string == "k")
        #expect(sources[1].table?["html"]?.table?.keys == ["item", "title"])
        // A byte order mark, as some editors write one, is not part of the document.
        #expect(try TOMLDocument.parse("\u{FEFF}a = 1")["a"] == .integer(1))
    }

    @Test("every key knows its line, and every table where it begins")
    func lines() throws {
        let root = try TOMLDocument.parse(
            """
            [daemon]
            state_dir = "/var/lib/exportwatch"
            allow_private_networks = [
              "10.0.0.0/8",
            ]
            poll_interval = "15m"
            [[source]]
            id = "a"
            [[source]]
            id = "b"
            html.item = "//li"
            [source.digest]
            headers = { Accept = "text/html" }
            """)
        let daemon = try #require(root["daemon"]?.table)
        #expect(root.line(of: "daemon") == 1 && daemon.line == 1)
        #expect(daemon.line(of: "state_dir") == 2 && daemon.line(of: "poll_interval") == 6)
        #expect(daemon.line(of: "url") == nil)
        let sources = (root["source"]?.array ?? []).compactMap(\.table)
        try #require(sources.count == 2)
        #expect(sources[0].line == 7 && sources[0].line(of: "id") == 8)
        #expect(sources[1].line == 9 && sources[1]["html"]?.table?.line(of: "item") == 11)
        #expect(sources[1].line(of: "digest") == 12 && sources[1]["digest"]?.table?["headers"]?.table?.line == 13)
        #expect(TOMLTable().line == nil)
    }

    @Test("the four kinds of string, with escapes, line-ending backslashes and quotes before the end")
    func strings() throws {
        let root = try TOMLDocument.parse(
            #"""
            basic = "tab\tquote\" \u00e9 \U0001F600 \\"
            literal = 'C:\path\no escapes'
            multi = """
            one
            two\
                 three"""
            quotes = """a ""quoted"" word"""""
            lines = '''
            first
            'second' '''
            chinese = "出口管制"
            """#)
        #expect(root["basic"]?.string == "tab\tquote\" é 😀 \\")
        #expect(root["literal"]?.string == #"C:\path\no escapes"#)
        #expect(root["multi"]?.string == "one\ntwothree")
        #expect(root["quotes"]?.string == #"a ""quoted"" word"""#)
        #expect(root["lines"]?.string == "first\n'second' ")
        #expect(root["chinese"]?.string == "出口管制")
    }

    @Test("integers in four bases, floats, booleans and the four kinds of date and time")
    func scalars() throws {
        let root = try TOMLDocument.parse(
            """
            decimal = -1_000
            hex = 0xDEAD_beef
            octal = 0o755
            binary = 0b1010
            largest = 9223372036854775807
            float = 6.626e-34
            big = +1E6
            infinity = -inf
            not_a_number = nan
            yes = true
            offset = 1979-05-27 07:32:00.5z
            local = 1979-05-27T07:32:00
            date = 2024-02-29
            time = 07:32:00
            """)
        #expect(root["decimal"] == .integer(-1000))
        #expect(
            root["hex"] == .integer(0xDEAD_BEEF) && root["octal"] == .integer(0o755) && root["binary"] == .integer(10))
        #expect(root["largest"] == .integer(Int64.max))
        #expect(
            root["float"] == .float(6.626e-34) && root["big"] == .float(1e6) && root["infinity"] == .float(-.infinity))
        #expect(root["not_a_number"]?.float?.isNaN == true)
        #expect(root["yes"] == .boolean(true))
        #expect(root["offset"] == .dateTime("1979-05-27T07:32:00.5Z"))
        #expect(root["local"] == .dateTime("1979-05-27T07:32:00"))
        #expect(root["date"] == .dateTime("2024-02-29") && root["time"] == .dateTime("07:32:00"))
    }

    @Test(
        "mistakes are reported at their line and column",
        arguments: [
            ("a = 1\n[t]\n[t]\n", 3, 1, "[t] is defined twice"),
            ("a = 1\na = 2\n", 2, 1, "the key \"a\" is defined twice"),
            ("[s]\nurl = \"https://example.org\n", 2, 27, "unterminated string"),
            ("x = often\n", 1, 5, "not a valid value: often"),
            ("interval 15\n", 1, 10, "expected \"=\" after the key \"interval\""),
            ("[a.b]\nx = 1\n[a]\nb.y = 2\n", 4, 1, "\"b.y\": \"b\" is already defined elsewhere"),
            ("a = { b = 1 }\n[a.c]\n", 2, 1, "[a.c]: \"a\" is already a value"),
            ("[a]\n[[a]]\n", 2, 1, "[a] is defined twice"),
            ("[[a]]\n[a]\n", 2, 1, "[a] is already an array of tables ([[a]])"),
            ("a = 1 b = 2\n", 1, 7, "expected the end of the line"),
            ("a = 01\n", 1, 5, "not a valid value: 01"),
            ("a = 9223372036854775808\n", 1, 5, "not a valid value"),
            ("a = 2023-02-29\n", 1, 5, "not a valid date or date-time"),
            ("a = \"\\q\"\n", 1, 6, "unknown escape \\\"q\""),
            ("# bell \u{07}\n", 1, 8, "control character U+7 must be escaped"),
            ("a = 1\rb = 2\n", 1, 6, "a carriage return must be followed by a line feed"),
            ("a = [1, 2\nb = 3\n", 2, 1, "expected \",\" or \"]\" in the array"),
            ("a = { b = 1,\n c = 2 }\n", 1, 13, "expected a key"),
            ("a = \"\"\"\nnever closed\n", 3, 1, "unterminated \"\"\" string"),
        ])
    func mistakes(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try TOMLDocument.parse(text)
            Issue.record("accepted: \(text.debugDescription)")
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.hasPrefix(message), "\(error)")
        }
    }
}

extension TOMLDocumentTests {
    @Test("nesting is bounded: a hundred thousand [ or dotted parts are a mistake, not a stack overflow")
    func deepNesting() throws {
        #expect(
            try TOMLDocument.parse("a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100))[
                "a"] != nil)
        do {
            _ = try TOMLDocument.parse("a = " + String(repeating: "[", count: 100_000))
            Issue.record("accepted")
        } catch {
            #expect(error.line == 1 && error.column == 105)
            #expect(error.message == "arrays and inline tables nested more than 100 deep")
        }
        #expect(throws: TOMLSyntaxError.self) {
            try TOMLDocument.parse(Array(repeating: "a", count: 100_000).joined(separator: ".") + " = 1")
        }
        #expect(throws: TOMLSyntaxError.self) {
            try TOMLDocument.parse("[" + Array(repeating: "a", count: 100_000).joined(separator: ".") + "]")
        }
    }
}

/// The same documents through Python's `tomllib` (the standard library's TOML 1.0 reader, an
/// implementation that is not ours): the same values, or a refusal for the same documents.
@Suite("TOML documents beside Python's tomllib")
struct TOMLConformanceTests {
    static let repository = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..").standardized

    static let valid: [String] = [
        "", "# only a comment", "a = 1\r\nb = 'crlf'\r\n",
        #"key = "value"  # comment"#, "bare_key-1 = 1\n\"quoted key\" = 2\n'literal key' = 3\n\"\" = 4",
        "a.b.c = 1\na.b.d = 2\na.e = 3", "[a . b]\nc = 1\n[a]\nd = 2", "[x.y.z.w]\n[x]",
        "[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true",
        "[[products]]\nname = \"Hammer\"\n[products.dimensions]\nw = 1\n[[products]]\nname = \"Nail\"",
        "[[a.b]]\nc = 1\n[a]\nd = 2\n[[a.b]]\nc = 2",
        "a = [ 1, 2, 3, ]\nb = [\n  \"x\", # one\n  [\"nested\", 'array'],\n  { inline = true },\n]\nc = []",
        "t = { }\nu = { a.b = 1, a.c = \"two\", d = [1, 2] }",
        "i = [+99, 42, 0, -17, 1_000, 5_349_221, 0xdead_beef, 0o01234567, 0b11010110, -0, +0]",
        "f = [+1.0, 3.1415, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991_228, -0.0, +inf, -inf, 1e-300]",
        "s = \"\\b\\t\\n\\f\\r\\\"\\\\ \\u0041 \\U0001F600\"",
        "s = \"\"\"\nRoses are red\r\nViolets are blue\"\"\"",
        "s = \"\"\"\\\n    The quick brown \\\n\n\n    fox.\\\n    \"\"\"",
        "s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
        "s = ''''That,' she said, 'is still pointless.''''",
        "s = \"\"\"Here are fifteen quotation marks: \\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\".\"\"\"",
        "name = \"出口管制\"\n\"中文键\" = '芯片'",
        "[daemon]\ninterval = \"15m\"\n[[source]]\nid = \"a\"\nhtml = { item = \"//ul[@class='x']/li\", title = \"a\" }\n",
    ]

    static let invalid: [String] = [
        "a = 1\na = 2", "[a]\n[a]", "[a]\nb = 1\n[a.b]", "a = {b = 1}\na.c = 2", "a = {b = 1}\n[a.c]",
        "a = []\n[[a]]", "[[a]]\n[a]", "[a.b]\n[a]\nb.c = 1", "[fruit]\napple.color = 1\n[fruit.apple]",
        "a = 1 b = 2", "a =", "= 1", "a = 01", "a = 1__0", "a = _1", "a = 1_", "a = +0x1", "a = 0X1", "a = 1.",
        "a = .5", "a = 1e", "a = 1e_5", "a = tru", "a = true1", "a = 'unterminated", "a = \"unterminated",
        "a = \"\\q\"", "a = \"\\u12\"", "a = \"\\ud800\"", "a = \"\"\"six quotes\"\"\"\"\"\"",
        "a = { b = 1, }", "a = { b = 1\n}", "a = [1 2]", "[a", "[[a]", "[[a] ]", "[]", "a.b = 1\na.b.c = 2",
        "a = 1\r", "# \u{7F}", "a = \"\u{01}\"", "a = 2024-13-01", "a = 2023-02-29", "a = 24:00:00",
        "a = 1979-05-27T07:32Z", "a = 1979-05-27T07:32:00+25:00", "a = 07:32", "a b = 1", "a = [1,,2]",
    ]

    /// Values as toml-test writes them: scalars tagged with their type, dates only by kind.
    static func tagged(_ value: TOMLValue) -> Any {
        switch value {
        case .string(let string): ["type": "string", "value": string]
        case .integer(let integer): ["type": "integer", "value": String(integer)]
        case .float(let float): ["type": "float", "value": String(float.bitPattern)]
        case .boolean(let boolean): ["type": "bool", "value": String(boolean)]
        case .dateTime: ["type": "datetime"]
        case .array(let array): array.map(tagged)
        case .table(let table): tagged(table)
        }
    }

    static func tagged(_ table: TOMLTable) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: table.keys.map { ($0, tagged(table[$0]!)) })
    }

    static let python = """
        import datetime, json, struct, sys, tomllib
        def tag(v):
            if isinstance(v, bool): return {"type": "bool", "value": "true" if v else "false"}
            if isinstance(v, str): return {"type": "string", "value": v}
            if isinstance(v, int): return {"type": "integer", "value": str(v)}
            if isinstance(v, float): return {"type": "float", "value": str(struct.unpack("<Q", struct.pack("<d", v))[0])}
            if isinstance(v, (datetime.date, datetime.time)): return {"type": "datetime"}
            if isinstance(v, list): return [tag(x) for x in v]
            return {k: tag(x) for k, x in v.items()}
        results = []
        for text in json.load(sys.stdin):
            try: results.append(tag(tomllib.loads(text)))
            except tomllib.TOMLDecodeError as e: results.append({"error": str(e)})
        json.dump(results, sys.stdout)
        """

    static func throughTomllib(_ documents: [String]) async throws -> [Any] {
        let run = try await ProgramRun(
            URL(filePath: "/usr/bin/env"), ["python3", "-c", python],
            input: try JSONSerialization.data(withJSONObject: documents))
        try #require(run.status == 0, "\(run.errors)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [Any])
    }

    @Test("valid documents give the values tomllib gives")
    func validDocuments() async throws {
        let shipped = try ["feeds/example.toml", "feeds/sources.toml", "feeds/topics.toml", "systemd/exportwatch.toml"]
            .map { try String(contentsOf: Self.repository.appending(path: $0), encoding: .utf8) }
        let documents = Self.valid + shipped
        let expected = try await Self.throughTomllib(documents)
        for (document, python) in zip(documents, expected) {
            do {
                let ours = Self.tagged(try TOMLDocument.parse(document))
                #expect(
                    NSDictionary(dictionary: ours).isEqual(python), "\(document.debugDescription): tomllib \(python)")
            } catch {
                Issue.record("refused \(document.debugDescription): \(error); tomllib: \(python)")
            }
        }
    }

    @Test("documents that tomllib refuses are refused")
    func invalidDocuments() async throws {
        let expected = try await Self.throughTomllib(Self.invalid)
        for (document, python) in zip(Self.invalid, expected) {
            #expect((python as? [String: Any])?["error"] != nil, "tomllib accepts \(document.debugDescription)")
            #expect(throws: TOMLSyntaxError.self, "\(document.debugDescription)") { try TOMLDocument.parse(document) }
        }
    }
}

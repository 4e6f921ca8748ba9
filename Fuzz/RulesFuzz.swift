// libFuzzer harness: what a configuration file holds (TOML) and HTML rules with their date
// formats, run over a page. Input: the TOML text, or six lines: item rule, title rule, link
// rule, date format, a date, the page. Built by Fuzz/run.sh with Sources/Feeds and Sources/TOML.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? TOMLDocument.parse(text)
    let lines = text.split(separator: "\n", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
    guard lines.count == 6 else { return 0 }
    _ = DateFormat.parse(lines[4], format: lines[3], timeZone: TimeZone(identifier: "Asia/Shanghai")!)
    let rules = HTMLRules(
        item: lines[0], title: lines[1], link: lines[2], date: "span", summary: "p", dateFormat: lines[3])
    guard let compiled = try? rules.compiled() else { return 0 }
    _ = try? HTMLSourceParser(rules: compiled).parse(Data(lines[5].utf8), pageURL: URL(string: "http://example.org/a/"))
    return 0
}

import Foundation

/// Charset labels as libxml2 (through iconv) should be given them, for feeds and HTML pages alike.
enum CharsetLabel {
    /// The labels of GB2312 and its extensions. Sites that declare GB2312 routinely use GBK
    /// characters, so all of them are read as their superset, GB18030.
    private static let chineseGB: Set<String> = ["gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936", "euc-cn", "gb18030"]

    /// Whether `label` names GB2312, GBK or GB18030.
    static func isChineseGB(_ label: String) -> Bool {
        chineseGB.contains(label.lowercased())
    }

    /// A label from HTTP, a `<meta>` or an XML declaration, trimmed of quotes and spaces and with
    /// the GB family mapped to GB18030; nil when empty.
    static func normalized(_ label: String) -> String? {
        let lower = label.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")).lowercased()
        guard !lower.isEmpty else { return nil }
        return isChineseGB(lower) ? "GB18030" : lower
    }
}

internal import CLibXML2

/// The libxml2 this process loaded, as `exportwatch --version` reports it.
public enum XMLLibraryInfo {
    /// libxml2's version as the library spells it, e.g. `20914` for 2.9.14.
    public static var parserVersion: String {
        ew_xml_check_version()
        return String(cString: ew_xml_parser_version())
    }

    /// The version in dotted form, e.g. `2.9.14`.
    public static var version: String {
        guard let number = Int(parserVersion) else { return parserVersion }
        return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }
}

/// libxml2's one-time set-up, done once before any parser is used: its own lazy initialisation is
/// not safe when two threads start parsing at the same moment.
enum LibXML2 {
    static let initialized: Void = {
        xmlInitParser()
    }()
}

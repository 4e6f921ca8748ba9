import Foundation
import Logging
import Synchronization
import Testing

@testable import Daemon

@Suite("Log lines")
struct LogLineHandlerTests {
    /// Collects what a handler writes, as standard error would receive it.
    final class Lines: Sendable {
        private let storage = Mutex<[String]>([])
        var all: [String] { storage.withLock { $0 } }
        func append(_ line: String) { storage.withLock { $0.append(line) } }
    }

    @Test("EXPORTWATCH_LOG_LEVEL picks the level, in any case; unset or empty is info; anything else is named")
    func levelFromEnvironment() throws {
        #expect(try LogLineHandler.level(environment: [:]) == .info)
        #expect(try LogLineHandler.level(environment: ["EXPORTWATCH_LOG_LEVEL": ""]) == .info)
        #expect(try LogLineHandler.level(environment: ["EXPORTWATCH_LOG_LEVEL": "Debug"]) == .debug)
        #expect(try LogLineHandler.level(environment: ["EXPORTWATCH_LOG_LEVEL": "warning"]) == .warning)
        let error = #expect(throws: LogLevelError.self) {
            try LogLineHandler.level(environment: ["EXPORTWATCH_LOG_LEVEL": "verbose"])
        }
        #expect(
            error?.description
                == #"EXPORTWATCH_LOG_LEVEL: expected one of trace, debug, info, notice, warning, error, critical; found "verbose""#
        )
    }

    @Test("one line per event with sorted key=value metadata, quoted when needed")
    func plainLines() throws {
        let lines = Lines()
        let logger = Logger(label: "exportwatch") { label in
            LogLineHandler(label: label, journal: false, write: lines.append)
        }
        logger.warning(
            "fetch failed", metadata: ["source": "fr-bis", "error": "timed out after 30 s", "status": "503"])
        let line = try #require(lines.all.first)
        #expect(
            line.hasSuffix(#" warning exportwatch: fetch failed error="timed out after 30 s" source=fr-bis status=503"#)
        )
        #expect(line.first?.isNumber == true)
    }

    @Test("under journald each line carries its syslog priority instead of a timestamp")
    func journalPriorities() {
        let lines = Lines()
        var logger = Logger(label: "exportwatch") { label in
            LogLineHandler(label: label, journal: true, write: lines.append)
        }
        logger.logLevel = .debug
        logger.debug("d")
        logger.info("i")
        logger.error("e\nsecond line")
        #expect(lines.all == ["<7>exportwatch: d", "<6>exportwatch: i", "<3>exportwatch: e second line"])
    }

    @Test("values with spaces, quotes or newlines are quoted and escaped")
    func quoting() {
        #expect(LogLineHandler.quoted("plain") == "plain")
        #expect(LogLineHandler.quoted("出口管制") == "出口管制")
        #expect(LogLineHandler.quoted("a \"b\"\nc") == #""a \"b\"\nc""#)
        #expect(LogLineHandler.quoted("") == #""""#)
    }
}

import Foundation
import Testing

@testable import Daemon

@Suite("Bounded file reads")
struct BoundedFileTests {
    /// A fresh folder, removed afterwards.
    struct Folder: ~Copyable {
        let url = FileManager.default.temporaryDirectory.appending(path: "ew-bounded-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    @Test("a file of exactly the bound is read; one byte more is refused with the bound")
    func bound() throws {
        let folder = try Folder()
        let file = folder.url.appending(path: "sources.toml")
        try Data(repeating: 0x61, count: 200_000).write(to: file)
        #expect(try BoundedFile.data(atPath: file.path, limit: 200_000).count == 200_000)
        #expect(throws: BoundedFile.Failure.tooLarge(limit: 199_999)) {
            try BoundedFile.data(atPath: file.path, limit: 199_999)
        }
    }

    @Test("what is not a readable text file says why: missing, a folder, not UTF-8, endless")
    func failures() throws {
        let folder = try Folder()
        let latin1 = folder.url.appending(path: "latin1.toml")
        try Data([0x63, 0x61, 0x66, 0xE9]).write(to: latin1)
        #expect(throws: BoundedFile.Failure.unreadable("No such file or directory")) {
            try BoundedFile.text(atPath: folder.url.appending(path: "nowhere").path, limit: 1 << 20)
        }
        #expect(throws: BoundedFile.Failure.unreadable("Is a directory")) {
            try BoundedFile.text(atPath: folder.url.path, limit: 1 << 20)
        }
        #expect(throws: BoundedFile.Failure.notText) { try BoundedFile.text(atPath: latin1.path, limit: 1 << 20) }
        #expect(throws: BoundedFile.Failure.tooLarge(limit: 1 << 20)) {
            try BoundedFile.text(atPath: "/dev/zero", limit: 1 << 20)
        }
    }

    @Test("a configuration path that names a device is refused at its bound, as is such a url_file")
    func configurationBound() throws {
        let loader = ConfigurationLoader(environment: [:])
        let error = #expect(throws: ConfigurationError.self) { try loader.load(path: "/dev/zero") }
        #expect(error?.description == "/dev/zero: cannot read: larger than 16 MiB, the most such a file may be")

        let text = """
            [[webhook]]
            id = "slack"
            format = "slack"
            url_file = "/dev/zero"
            """
        let credential = #expect(throws: ConfigurationError.self) {
            try loader.parse(text, fileName: "exportwatch.toml", folder: URL(filePath: "/etc/exportwatch"))
        }
        #expect(
            credential?.description.contains(
                "url_file: cannot read /dev/zero: larger than 1 MiB, the most such a file may be") == true)
    }
}

import Foundation
import Testing

@testable import Store

@Suite("Folders")
struct FoldersTests {
    @Test("a folder and its missing parents are made with the permissions asked for; one that exists is fine")
    func create() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "ew-folders-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Folders.create("\(root)/state/exportwatch/", permissions: 0o700)
        try Folders.create("\(root)/state/exportwatch", permissions: 0o700)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(root)/state/exportwatch")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test("what cannot be made names the folder that failed, with the system's reason")
    func failures() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "ew-folders-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data().write(to: URL(filePath: "\(root)/digests"))
        #expect(
            throws: Folders.Failure(
                path: "/proc/exportwatch/state", failed: "/proc/exportwatch", reason: "No such file or directory")
        ) {
            try Folders.create("/proc/exportwatch/state", permissions: 0o700)
        }
        let notFolder = #expect(throws: Folders.Failure.self) {
            try Folders.create("\(root)/digests", permissions: 0o777)
        }
        #expect(notFolder?.description == "a file, not a folder")
        let underFile = #expect(throws: Folders.Failure.self) {
            try Folders.create("\(root)/digests/2026", permissions: 0o777)
        }
        #expect(underFile?.description == "Not a directory")
    }
}

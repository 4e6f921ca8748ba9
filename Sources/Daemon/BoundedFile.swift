public import Foundation
import Glibc

/// Reads a file a user names (a configuration, a topics file, a credential, a template, an
/// OPML export, a feed to parse) up to a size bound. A path that names a log, a device or a pipe
/// that never ends is an error that says so, not a process that reads until memory runs out.
public enum BoundedFile {
    /// Why a file was not read.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The system's reason (`open` or `read` failed): no such file, permission denied, a folder.
        case unreadable(String)
        /// More bytes than the bound.
        case tooLarge(limit: Int)
        /// Not UTF-8 (for ``text(atPath:limit:)``).
        case notText

        public var description: String {
            switch self {
            case .unreadable(let reason): reason
            case .tooLarge(let limit): "larger than \(BoundedFile.size(limit)), the most such a file may be"
            case .notText: "not UTF-8 text"
            }
        }
    }

    /// The bytes of the file at `path`, at most `limit` of them.
    public static func data(atPath path: String, limit: Int) throws(Failure) -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try read(descriptor, into: &chunk)
            if count == 0 { return data }
            guard data.count + count <= limit else { throw .tooLarge(limit: limit) }
            data.append(contentsOf: chunk[..<count])
        }
    }

    /// One `read` of `descriptor` into `buffer`, again when a signal interrupts it: how many bytes
    /// came, 0 at the end.
    static func read(_ descriptor: Int32, into buffer: inout [UInt8]) throws(Failure) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno != EINTR { throw .unreadable(String(cString: strerror(errno))) }
        }
    }

    /// The UTF-8 text of the file at `path`, at most `limit` bytes of it.
    public static func text(atPath path: String, limit: Int) throws(Failure) -> String {
        guard let text = String(validating: try data(atPath: path, limit: limit), as: UTF8.self) else {
            throw .notText
        }
        return text
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }
}

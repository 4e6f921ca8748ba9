import Glibc

/// Creating the folders the daemon writes to (the state folder, the digest folder), with the
/// system's own reason when it cannot: Foundation's `createDirectory` reports "The file doesn’t
/// exist." or a whole `NSError` dump, not which folder failed or why.
public enum Folders {
    /// Why a folder could not be made.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The folder asked for.
        public var path: String
        /// The first folder on the way to it that could not be made (`path` itself, or a parent).
        public var failed: String
        /// The system's reason.
        public var reason: String

        public var description: String { failed == path ? reason : "\(failed): \(reason)" }
    }

    /// Creates the folder at `path` and its missing parents, like `mkdir -p`, each new one with
    /// `permissions` (less the umask); a folder that exists is left as it is.
    public static func create(_ path: String, permissions: UInt32) throws(Failure) {
        let parents = path.indices.dropFirst().filter { path[$0] == "/" }.map { String(path[..<$0]) }
        for folder in parents + [path] where !folder.hasSuffix("/") {
            guard mkdir(folder, mode_t(permissions)) != 0, errno != EEXIST else { continue }
            throw Failure(path: path, failed: folder, reason: String(cString: strerror(errno)))
        }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw Failure(path: path, failed: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw Failure(path: path, failed: path, reason: "a file, not a folder")
        }
    }
}

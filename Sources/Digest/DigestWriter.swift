import Foundation
import Store

/// Writes a file so that a reader sees the old content or the new, never a part: to a temporary
/// name in the same folder, flushed to disk, renamed over the old name, and the folder flushed.
enum DigestWriter {
    /// Why a file could not be written, naming it.
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ text: String, to url: URL) throws(WriteError) {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appending(path: ".\(url.lastPathComponent).\(getpid()).tmp")
        let data = Data(text.utf8)
        let descriptor = open(temporary.path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        let written = data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written, synced else {
            unlink(temporary.path)
            throw failure("cannot write", temporary)
        }
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw failure("cannot rename into place", url)
        }
        let directory = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Creates the digest folder (and its parents) when missing.
    static func prepare(_ folder: URL) throws(WriteError) {
        do {
            try Folders.create(folder.path, permissions: 0o777)
        } catch {
            throw WriteError(description: "cannot create the digest folder \(folder.path): \(error)")
        }
    }

    private static func failure(_ what: String, _ url: URL) -> WriteError {
        WriteError(description: "\(what) \(url.path): \(String(cString: strerror(errno)))")
    }
}

internal import COpenSSL
public import Foundation

/// SHA-256 through the system libcrypto (no swift-crypto: minutes of BoringSSL per clean build).
public enum SHA256 {
    /// The digest of no bytes.
    static let emptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Loads libcrypto's SHA-256 now rather than at the first digest (~0.35 ms the first time in a
    /// process): the fetcher does this while the store opens, off the path of the first poll.
    static func prepare() {
        _ = ew_sha256_md()
    }

    /// The digest of `data` as 64 lower-case hex digits.
    public static func hex(of data: Data) -> String {
        // A 304's body, every unchanged poll's: no need to ask libcrypto, whose digest contexts
        // the pool's threads would otherwise allocate and share a reference count for.
        guard !data.isEmpty else { return emptyHex }
        var digest = [UInt8](repeating: 0, count: 32)
        let succeeded = data.withUnsafeBytes { buffer in
            digest.withUnsafeMutableBufferPointer { ew_sha256(buffer.baseAddress, buffer.count, $0.baseAddress) }
        }
        // EVP_Digest with SHA-256 cannot fail short of memory exhaustion.
        precondition(succeeded == 1, "libcrypto could not compute SHA-256")
        // By hand: String(format:) per byte cost a tenth of a warm cycle.
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 64) { output in
            for (index, byte) in digest.enumerated() {
                output[2 * index] = digits[Int(byte >> 4)]
                output[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return 64
        }
    }
}

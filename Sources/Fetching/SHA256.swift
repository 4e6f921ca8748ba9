internal import COpenSSL
public import Foundation

/// SHA-256 through the system libcrypto (no swift-crypto: minutes of BoringSSL per clean build).
public enum SHA256 {
    /// The digest of `data` as 64 lower-case hex digits.
    public static func hex(of data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let succeeded = data.withUnsafeBytes { buffer in
            digest.withUnsafeMutableBufferPointer { ew_sha256(buffer.baseAddress, buffer.count, $0.baseAddress) }
        }
        // EVP_Digest with SHA-256 cannot fail short of memory exhaustion.
        precondition(succeeded == 1, "libcrypto could not compute SHA-256")
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}

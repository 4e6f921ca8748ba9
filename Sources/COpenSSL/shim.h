#ifndef EXPORTWATCH_COPENSSL_SHIM_H
#define EXPORTWATCH_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/// `OPENSSL_VERSION` is a macro selecting which version string OpenSSL_version returns.
static inline const char *ew_openssl_version(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}

/// SHA-256 of `length` bytes into `out` (32 bytes) through the EVP interface (the SHA256() shortcut is
/// deprecated in OpenSSL 3). Returns 1 on success.
static inline int ew_sha256(const void *data, size_t length, unsigned char out[32]) {
    unsigned int size = 0;
    return EVP_Digest(data, length, out, &size, EVP_sha256(), NULL) == 1 && size == 32;
}

/// HMAC-SHA256 of `length` bytes under `key` into `out` (32 bytes). Returns 1 on success.
static inline int ew_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length,
                                 unsigned char out[32]) {
    unsigned int size = 0;
    return HMAC(EVP_sha256(), key, (int)key_length, data, length, out, &size) != NULL && size == 32;
}

/// `SHA256_DIGEST_LENGTH` is a macro.
static inline int ew_sha256_length(void) {
    return SHA256_DIGEST_LENGTH;
}

#endif

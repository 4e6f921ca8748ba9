#ifndef EXPORTWATCH_COPENSSL_SHIM_H
#define EXPORTWATCH_COPENSSL_SHIM_H

#include <stdatomic.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/// `OPENSSL_VERSION` is a macro selecting which version string OpenSSL_version returns.
static inline const char *ew_openssl_version(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}

/// SHA-256's implementation, fetched from OpenSSL's providers once. Named by EVP_sha256(), OpenSSL 3
/// fetches it again on every digest (0.29 against 0.12 µs for an empty body), and the first fetch
/// of a process loads the provider's tables (~0.35 ms): calling this early takes that off the
/// first digest's path. Two threads that race fetch twice and one copy is freed. Falls back to
/// EVP_sha256() should the fetch fail. (A function's own static: Swift does not emit a header's
/// file-scope statics.)
static inline const EVP_MD *ew_sha256_md(void) {
    static _Atomic(EVP_MD *) fetched = NULL;
    EVP_MD *md = atomic_load_explicit(&fetched, memory_order_acquire);
    if (md != NULL) return md;
    EVP_MD *candidate = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (candidate == NULL) return EVP_sha256();
    EVP_MD *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&fetched, &expected, candidate, memory_order_acq_rel,
                                                memory_order_acquire)) {
        return candidate;
    }
    EVP_MD_free(candidate);
    return expected;
}

/// SHA-256 of `length` bytes into `out` (32 bytes) through the EVP interface (the SHA256() shortcut is
/// deprecated in OpenSSL 3). Returns 1 on success.
static inline int ew_sha256(const void *data, size_t length, unsigned char out[32]) {
    unsigned int size = 0;
    return EVP_Digest(data, length, out, &size, ew_sha256_md(), NULL) == 1 && size == 32;
}

/// HMAC-SHA256 of `length` bytes under `key` into `out` (32 bytes). Returns 1 on success.
static inline int ew_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length,
                                 unsigned char out[32]) {
    unsigned int size = 0;
    return HMAC(ew_sha256_md(), key, (int)key_length, data, length, out, &size) != NULL && size == 32;
}

/// `SHA256_DIGEST_LENGTH` is a macro.
static inline int ew_sha256_length(void) {
    return SHA256_DIGEST_LENGTH;
}

#endif

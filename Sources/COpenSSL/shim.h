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

/// `SHA256_DIGEST_LENGTH` is a macro.
static inline int ew_sha256_length(void) {
    return SHA256_DIGEST_LENGTH;
}

#endif
